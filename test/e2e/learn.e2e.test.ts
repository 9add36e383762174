import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DIST, ROOT, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A newcomer walks through every lesson of the Learn tab in Chromium: presses each step's button,
 * reads what it shows, answers the check question. What each step shows is checked against the
 * sandbox lakehouse itself (through the worker's api, as window.lakehouse), and the user's own
 * lakehouse stays empty throughout. Screenshots at phone and desktop width go to .tmp/screenshots.
 */
const SHOTS = join(ROOT, '.tmp', 'screenshots');

describe('the Learn tab, lesson by lesson', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}#learn`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  /** Press a step's button and wait for what it shows; a step that fails fails the test with its message. */
  async function step(id: string): Promise<ReturnType<Page['locator']>> {
    const s = page.locator(`[data-step="${id}"]`);
    await s.getByRole('button').click();
    await s.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 90_000 });
    if ((await s.getAttribute('data-state')) === 'error') throw new Error(`step ${id}: ${await s.locator('[role="alert"]').innerText()}`);
    return s;
  }

  /** Answer the check question wrong first, then right, and read the feedback each time. */
  async function check(wrong: string, right: string): Promise<void> {
    const c = page.locator('.check');
    await c.getByLabel(wrong).check();
    expect(await c.locator('.feedback').getAttribute('data-right')).toBe('no');
    await c.getByLabel(right).check();
    expect(await c.locator('.feedback').getAttribute('data-right')).toBe('yes');
    expect(await c.locator('.feedback strong').innerText()).toBe('Right.');
  }

  /** The lesson at both widths, for the eye: nothing may scroll sideways. */
  async function shots(name: string): Promise<void> {
    for (const [width, height, label] of [
      [390, 844, 'phone'],
      [1280, 900, 'desktop'],
    ] as const) {
      await page.setViewportSize({ width, height });
      const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      expect(scrollWidth, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(clientWidth);
      await page.screenshot({ path: join(SHOTS, `learn-${name}-${label}.png`), fullPage: true });
    }
  }

  const open = async (id: string): Promise<void> => {
    await page.locator(`.lessons [data-lesson="${id}"] a`).click();
    await page.locator(`article[data-lesson="${id}"]`).waitFor();
    expect(page.url()).toContain(`#learn/${id}`);
  };
  const backToList = async (): Promise<void> => {
    await page.getByRole('link', { name: 'All lessons' }).click();
    await page.locator('.lessons').waitFor();
  };

  test('the list names every lesson, and the user’s lakehouse is empty', async () => {
    await page.locator('.lessons').waitFor();
    expect(await page.locator('.lessons li a').allInnerTexts()).toEqual([
      '1 Bronze, silver, gold',
      '2 What a commit holds',
      '3 Time travel',
      '4 Contracts and expectations',
      '5 OPTIMIZE and VACUUM',
      '6 Checkpoints',
      '7 Optimistic concurrency',
      '8 Idempotence',
    ]);
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
  });

  test('layers: a batch of 40 lines goes to bronze whole, to silver or rejects, and gold is recomputed', async () => {
    await open('layers');
    const s = await step('batch');
    const tables = await page.evaluate(() => window.lakehouse.learnTables());
    const rows = Object.fromEntries(tables.map((t) => [t.path, t.rows]));
    expect(rows['bronze/events']).toBe(40);
    expect(rows['silver/events']! + rows['silver/rejects']!).toBe(40);
    expect(await s.getByTestId('layers-summary').innerText()).toBe(
      `Bronze took all 40 lines in one commit. Silver kept ${rows['silver/events']} and rejected ${rows['silver/rejects']}: together they account for every line. Then every gold table was recomputed from silver.`,
    );
    expect(await s.locator('[data-layer="rejects"] text').allTextContents()).toEqual(['silver/rejects', `+${rows['silver/rejects']} rows · v0`]);
    expect(await s.locator('[data-layer="bronze"] text').allTextContents()).toEqual(['bronze/events', '+40 rows · v0']);
    const r = await step('rejects');
    const stages = await r.locator('tbody tr td:first-child').allInnerTexts();
    expect(stages).toHaveLength(rows['silver/rejects']!);
    for (const st of stages) expect(['parse', 'schema', 'expectation', 'duplicate']).toContain(st);
    await check('Nowhere: invalid lines are dropped on arrival.', 'In bronze as received, and in silver/rejects with the reason — not in silver/events.');
    await shots('layers');
    // the lesson never wrote to the user's lakehouse
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
  });

  test('commit: silver’s new commit adds a file and a txn; version 0 has protocol and metaData; gold’s overwrite removes', async () => {
    await backToList();
    await open('commit');
    const s = await step('silver');
    const silver = (await page.evaluate(() => window.lakehouse.learnTable('silver/events'))).version;
    expect(silver).toBe(1);
    const latest = s.locator('figure[data-version="1"]');
    expect(await latest.locator('.action').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['commitInfo', 'add', 'txn']);
    expect(await latest.locator('.action.hl .kind').allInnerTexts()).toEqual(['commitInfo', 'add', 'txn']);
    expect(await latest.locator('[data-kind="txn"] .json').innerText()).toContain('"appId":"creatorops-silver","version":1');
    const first = s.locator('figure[data-version="0"]');
    expect(await first.locator('.action').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual([
      'commitInfo',
      'protocol',
      'metaData',
      'add',
      'txn',
    ]);
    expect(await first.locator('.action.hl .kind').allInnerTexts()).toEqual(['protocol', 'metaData']);
    const g = await step('gold');
    const gold = g.locator('figure[data-table="gold/engagement_bands"]');
    expect(await gold.getAttribute('data-version')).toBe('1');
    const kinds = await gold.locator('.action').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(['commitInfo', 'remove', 'add', 'txn']);
    // gold's txn names the silver version it was computed from
    expect(await gold.locator('[data-kind="txn"] .json').innerText()).toContain(`"appId":"creatorops-gold:silver/events","version":${silver}`);
    // the file removed is the one version 0 added
    const v0 = await page.evaluate(() => window.lakehouse.learnCommit('gold/engagement_bands', 0));
    const added = JSON.parse(v0.actions.find((a) => a.kind === 'add')!.json).add.path as string;
    expect(await gold.locator('[data-kind="remove"] .json').innerText()).toContain(added);
    await check('Deleting the Parquet file from the folder.', 'A remove action in a new commit.');
    await shots('commit');
  });

  test('time travel: version N−1 and N of silver differ by exactly the new batch', async () => {
    await backToList();
    await open('time-travel');
    const s = await step('version');
    expect(await s.getByTestId('tt-latest').innerText()).toBe('2');
    expect(await s.locator('svg.timeline g[data-version]').evaluateAll((els) => els.map((e) => e.getAttribute('data-version')))).toEqual(['0', '1', '2']);
    const c = await step('compare');
    const [before, after] = await page.evaluate(() =>
      Promise.all([window.lakehouse.learnRowsAt('silver/events', 1), window.lakehouse.learnRowsAt('silver/events', 2)]),
    );
    expect(after!.byBatch.slice(0, -1)).toEqual(before!.byBatch);
    const added = after!.byBatch.at(-1)!;
    expect(await c.locator('tr.new').getAttribute('data-batch')).toBe(added.batchId);
    expect(await c.locator('tr.new td').allInnerTexts()).toEqual(['—', String(added.rows)]);
    expect(await c.locator('[data-total]').allInnerTexts()).toEqual([String(before!.total), String(after!.total)]);
    expect(await c.getByTestId('tt-diff').innerText()).toContain(`Version 2 has ${added.rows} more rows than version 1`);
    await check('It restores a backup taken before commit N.', 'It replays the log up to commit N−1 and reads the files that are live at that point.');
    await shots('time-travel');
  });

  test('contracts: the learner’s edited line lands in silver, or in rejects with the rule it broke', async () => {
    await backToList();
    await open('contracts');
    await step('sample');
    const box = page.getByLabel('Your event (one line of JSON)');
    const event = JSON.parse(await box.inputValue()) as Record<string, unknown>;
    expect(event.schema_version).toBe(1);
    const rejects = async (): Promise<number> => (await page.evaluate(() => window.lakehouse.learnTables())).find((t) => t.path === 'silver/rejects')!.rows!;
    const silver = async (): Promise<number> => (await page.evaluate(() => window.lakehouse.learnTables())).find((t) => t.path === 'silver/events')!.rows!;
    const [r0, s0] = [await rejects(), await silver()];

    // sent as it is: kept
    let s = await step('send');
    expect(await s.getByTestId('contract-outcome').innerText()).toMatch(/^Kept: the line met the contract/);
    expect([await rejects(), await silver()]).toEqual([r0, s0 + 1]);

    // typed by hand: an event type the contract does not know
    await box.fill(JSON.stringify({ ...event, event_id: 'typed-by-hand-1', event_type: 'teleport' }));
    s = await step('send');
    expect(await s.getByTestId('contract-outcome').innerText()).toMatch(/^Rejected at stage schema: the line breaks the event contract/);
    expect((await s.locator('tbody tr td').allInnerTexts()).slice(0, 2)).toEqual(['schema', "['enum:event_type']"]);
    expect([await rejects(), await silver()]).toEqual([r0 + 1, s0 + 1]);

    // with a button: an event in 2099 breaks the drop rule occurred_at_not_in_future
    await page.getByRole('button', { name: 'Set it in 2099' }).click();
    expect(JSON.parse(await box.inputValue()).occurred_at).toBe('2099-01-01T00:00:00Z');
    s = await step('send');
    expect(await s.getByTestId('contract-outcome').innerText()).toMatch(/^Rejected at stage expectation/);
    expect((await s.locator('tbody tr td').allInnerTexts()).slice(0, 2)).toEqual(['expectation', '[occurred_at_not_in_future]']);
    expect([await rejects(), await silver()]).toEqual([r0 + 2, s0 + 1]);
    await check(
      'The whole batch stops; nothing of it reaches silver.',
      'The row goes to silver/rejects with the rule’s name; the rest of the batch goes on to silver.',
    );
    await shots('contracts');
  });

  test('OPTIMIZE and VACUUM: bronze’s files compacted into one with the same rows, then the old versions cannot be read', async () => {
    await backToList();
    await open('optimize-vacuum');
    const m = await step('map');
    const bronze = await page.evaluate(() => window.lakehouse.learnTable('bronze/events'));
    const live = bronze.dataFiles.length;
    expect(live).toBe(bronze.version + 1);
    expect(await m.getByTestId('map-summary').innerText()).toBe(`The latest version reads ${live} files.`);
    expect(await m.locator(`g[data-version="${bronze.version}"] rect[fill="var(--accent)"]`).count()).toBe(live);

    const o = await step('optimize');
    const commit = o.locator(`figure[data-version="${bronze.version + 1}"]`);
    const kinds = await commit.locator('.action').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(['commitInfo', ...Array(live).fill('remove'), 'add']);
    for (const json of await commit.locator('[data-kind="remove"] .json, [data-kind="add"] .json').allInnerTexts())
      expect(json).toContain('"dataChange":false');
    expect(await o.getByTestId('optimize-summary').innerText()).toMatch(
      new RegExp(`^${live} files \\(.+\\) became 1 \\(.+\\), holding the same ${bronze.rows} rows\\.$`),
    );
    expect(await o.locator('[data-total]').allInnerTexts()).toEqual([String(bronze.rows), String(bronze.rows)]);
    expect(await o.locator(`svg g[data-version="${bronze.version + 1}"]`).getAttribute('data-files')).toBe('1');

    const v = await step('vacuum');
    expect(await v.getByTestId('vacuum-summary').innerText()).toMatch(new RegExp(`^VACUUM deleted ${live} files`));
    expect(await v.locator('svg g[data-readable="no"]').count()).toBe(bronze.version + 1);
    expect(await v.locator(`svg g[data-version="${bronze.version + 1}"]`).getAttribute('data-readable')).toBe('yes');
    expect(await v.getByTestId('old-read').innerText()).toMatch(/^Reading version 0 now fails: .*bronze\/events/);
    expect(await v.getByTestId('latest-read').innerText()).toBe(`The latest version, ${bronze.version + 1}, reads as before: ${bronze.rows} rows.`);
    await check(
      'OPTIMIZE changed the rows, so the old version would be wrong.',
      'Its data files were deleted by VACUUM; the log still lists them, but they are gone.',
    );
    await shots('optimize-vacuum');
  });

  test('checkpoints: bronze reaches version 10, the writer adds a checkpoint, and a reader starts there', async () => {
    await backToList();
    await open('checkpoints');
    const l = await step('log');
    const before = await page.evaluate(() => window.lakehouse.learnLog('bronze/events'));
    expect(before.readerStart).toBeNull();
    expect(await l.getByTestId('reader-plan').innerText()).toBe(
      `To read version ${before.latest}, a reader replays all ${before.latest + 1} JSON commits from version 0.`,
    );
    expect(await l.locator('li.read').count()).toBe(before.latest + 1);

    const f = await step('fill');
    const after = await page.evaluate(() => window.lakehouse.learnLog('bronze/events'));
    expect([after.latest, after.readerStart, after.readerCommits]).toEqual([10, 10, []]);
    expect(await f.getByTestId('reader-plan').innerText()).toBe(
      'To read version 10, a reader opens the checkpoint of version 10 and needs no JSON commit — instead of 11 JSON commits.',
    );
    expect(await f.locator('li.read').evaluateAll((els) => els.map((e) => e.getAttribute('data-file')))).toEqual([
      '_last_checkpoint',
      '00000000000000000010.checkpoint.parquet',
    ]);
    expect(JSON.parse(await f.getByTestId('last-checkpoint').innerText())).toMatchObject({ version: 10 });
    // the timeline rings the checkpointed version; every JSON commit is still in the log
    expect(await f.locator('svg.timeline g[data-version="10"] circle').count()).toBe(2);
    expect(after.files.filter((x) => x.name.endsWith('.json')).map((x) => Number(x.name.slice(0, 20)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await check('It compacts the table’s small data files.', 'Readers start from it instead of replaying every commit since version 0.');
    await shots('checkpoints');
  });

  test('optimistic concurrency: two writers race for bronze version 11, one retries as 12, both batches land once', async () => {
    await backToList();
    await open('concurrency');
    const s = await step('race');
    const lanes = await s
      .locator('svg.lanes g[data-attempt]')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-writer'), e.getAttribute('data-version'), e.getAttribute('data-won')]));
    // both tried version 11; one got it, the other found it taken and got 12
    expect(lanes).toHaveLength(3);
    const loser = lanes.find((l) => l[2] === 'no')!;
    expect(loser[1]).toBe('11');
    expect(lanes.filter((l) => l[0] === loser[0]).map((l) => [l[1], l[2]])).toEqual([
      ['11', 'no'],
      ['12', 'yes'],
    ]);
    expect(lanes.filter((l) => l[0] !== loser[0]).map((l) => [l[1], l[2]])).toEqual([['11', 'yes']]);
    const cells = async (w: string | null | undefined): Promise<string[]> => s.locator(`tr[data-writer="${w}"] td`).allInnerTexts();
    const [winnerRow, loserRow] = [await cells(loser[0] === 'A' ? 'B' : 'A'), await cells(loser[0])];
    expect([winnerRow[1], winnerRow[2], winnerRow[3]]).toEqual(['v11', '10', '20']);
    expect([loserRow[1], loserRow[2], loserRow[3]]).toEqual(['v12', '11', '20']);
    expect(await s.getByTestId('race-story').innerText()).toMatch(new RegExp(`^Writer ${loser[0]} found version 11 already taken`));
    // every line of both batches is in bronze once
    const bronze = await page.evaluate(() => window.lakehouse.learnRowsAt('bronze/events', 12));
    for (const row of [winnerRow, loserRow]) expect(bronze.byBatch.filter((b) => b.batchId === row[0])).toEqual([{ batchId: row[0], rows: 20 }]);
    await check(
      'Overwrites it: the last writer wins.',
      'Reads that commit, checks it for a conflict with its own, and if there is none tries the next version.',
    );
    await shots('concurrency');
  });

  test('idempotence: silver’s txn names bronze’s last version; a re-run commits nothing and a replay of the txn is refused', async () => {
    await backToList();
    await open('idempotence');
    const t = await step('txn');
    const silver = await page.evaluate(() => window.lakehouse.learnTable('silver/events'));
    expect(await t.getByTestId('bronze-version').innerText()).toBe('12');
    const commit = t.locator(`figure[data-version="${silver.version}"]`);
    expect(await commit.locator('.action.hl').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['txn']);
    expect(await commit.locator('.action.hl .json').innerText()).toContain('"appId":"creatorops-silver","version":12');

    const r = await step('rerun');
    expect(await r.getByTestId('rerun-pending').innerText()).toBe(
      `Silver’s txn says creatorops-silver took in bronze up to version 12; bronze is at version 12. Batches pending: 0. Silver stayed at version ${silver.version}: no commit.`,
    );
    expect(await r.getByTestId('rerun-replay').innerText()).toMatch(
      /^The replay was refused: .*application creatorops-silver already committed its transaction 12/,
    );
    expect(await r.getByTestId('rerun-rows').innerText()).toBe(
      `Rows of silver before: ${silver.rows} at version ${silver.version}; after: ${silver.rows} at version ${silver.version}.`,
    );
    // nothing was written: the same version, the same data files, and no file left behind
    const after = await page.evaluate(() => window.lakehouse.learnTable('silver/events'));
    expect([after.version, after.dataFiles.map((f) => f.path).sort()]).toEqual([silver.version, silver.dataFiles.map((f) => f.path).sort()]);
    await check(
      'Silver deletes its last commit before running again.',
      'Each silver commit records, in a txn action, the bronze version it took in; a new run starts after it.',
    );
    await shots('idempotence');
  });

  test('progress is kept across a reload; a lesson opens from its link and works from the keyboard; reset empties the sandbox', async () => {
    await backToList();
    expect(await page.locator('.lessons li .state').allInnerTexts()).toEqual(Array(8).fill('✓ done'));
    await shots('list');
    await page.goto(`${server.url}#learn/time-travel`);
    await page.reload();
    await page.locator('article[data-lesson="time-travel"]').waitFor();
    // the lesson's heading has the focus; Tab reaches the first step's button, Enter presses it
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Time travel');
    const before = (await page.evaluate(() => window.lakehouse.learnTable('silver/events'))).version;
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Run a batch into silver'; i++)
      await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('[data-step="version"][data-state="done"]').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('tt-latest').innerText()).toBe(String(before + 1));
    await backToList();
    expect(await page.locator('.lessons li .state').allInnerTexts()).toEqual(Array(8).fill('✓ done'));

    await page.getByRole('button', { name: 'Reset the sandbox and my progress' }).click();
    await page.getByText('The sandbox is empty again.').waitFor();
    expect(await page.evaluate(() => window.lakehouse.learnTables())).toEqual([]);
    expect(await page.locator('.lessons li .state').allInnerTexts()).toEqual(Array(8).fill('not started'));
    // the user's lakehouse was never written, nothing was fetched from elsewhere, and no error was logged
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
    expect(session.offOrigin(server.origin)).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});

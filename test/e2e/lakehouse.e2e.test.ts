import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeContext } from '../../src/cli/context.ts';
import { jsonLines } from '../../src/delta/export.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import type { Engine } from '../../src/engine/types.ts';
import { decodeParquet } from '../../src/parquet/codec.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch, type RunSummary } from '../../src/pipeline/lakehouse.ts';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { DIST, typeSql, ROOT, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * The app as a new user meets it, in headless Chromium against the production build, checked
 * against the same runs done by the command line's code in this process. One browser for the
 * whole file: each test builds on the lakehouse the previous ones left.
 */
const FIRST = { seed: 7, events: 3000, days: 30, invalidRate: 0.02 };
const SECOND = { seed: 8, events: 2000, days: 30, invalidRate: 0.02 };
const SHOTS = join(ROOT, '.tmp', 'screenshots');

describe('the lakehouse app in a browser', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let engine: Engine;
  let cliDir: string;
  let work: string;
  const cli: RunSummary[] = [];

  /** `cli run` with these options, in process, on the CLI's own context (gold SQL and expectations from the repository). */
  async function cliRun(o: typeof FIRST): Promise<RunSummary> {
    const summary = await runBatch(nodeContext(engine, cliDir), generateEvents(o), 'generator', o.events);
    cli.push(summary);
    return summary;
  }

  /** A table's rows as `cli read` prints them, in a fixed order. */
  async function cliRows(table: string, version?: number): Promise<string[]> {
    const storage = new NodeStorage(cliDir);
    const snapshot = await loadSnapshot(storage, table, version);
    await scanIntoEngine(engine, storage, snapshot, 'cli_table');
    return [...jsonLines(engine, 'cli_table', snapshot.schema)].sort();
  }

  const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();

  async function runInPage(o: typeof FIRST): Promise<void> {
    await tab('Run');
    await runThroughForm(page, o);
  }

  beforeAll(async () => {
    initParquet();
    [server, session, engine, cliDir, work] = await Promise.all([
      serveStatic(DIST),
      launchBrowser(),
      openNodeEngine(),
      mkdtemp(join(tmpdir(), 'cli-lakehouse-')),
      mkdtemp(join(tmpdir(), 'e2e-downloads-')),
    ]);
    page = session.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
  });

  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(cliDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  test('a new user sees what to do, then runs the pipeline through the form', async () => {
    await tab('Dashboard');
    await page.getByText('No data yet — press Run pipeline').waitFor();
    const [cliFirst] = await Promise.all([cliRun(FIRST), runInPage(FIRST)]);

    const summary = page.locator('.result.ok');
    expect(await summary.locator('[data-rows="bronze"]').innerText()).toBe('3,000');
    expect(await summary.locator('[data-rows="silver"]').innerText()).toBe(cliFirst.silver[0]!.silverRows.toLocaleString('en-US'));
    expect(await summary.locator('[data-rows="rejects"]').innerText()).toBe(cliFirst.silver[0]!.rejectedRows.toLocaleString('en-US'));
    const s = cliFirst.silver[0]!.rejectsByStage;
    expect(await summary.innerText()).toContain(
      `Rejects by stage: parse ${s.parse} · schema ${s.schema} · expectation ${s.expectation} · duplicate ${s.duplicate}`,
    );
    expect(await page.locator('[data-stage="bronze"]').innerText()).toContain('3,000 / 3,000 rows');
    expect(await page.locator('[data-stage="gold"]').innerText()).toContain('6 / 6 tables');
  });

  test('the dashboard shows exactly the gold rows of `cli run` with the same options', async () => {
    await tab('Dashboard');
    for (const kpi of GOLD_TABLES) {
      await page.locator(`[data-kpi="${kpi}"] svg[role="img"]`).first().waitFor();
      const shown = await page.evaluate((k) => window.lakehouse.goldTable(k), kpi);
      expect(shown.version, kpi).toBe(0);
      expect(sorted(shown.rows), kpi).toEqual((await cliRows(`gold/${kpi}`)).map((l) => JSON.stringify(JSON.parse(l))).sort());
    }
    // The table beside the chart shows the same numbers.
    const bands = (await cliRows('gold/engagement_bands')).map((l) => JSON.parse(l) as { band: string; sessions: number });
    const cells = await page
      .locator('[data-kpi="engagement_bands"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent!.trim())));
    expect(cells.sort()).toEqual(bands.map((b) => [b.band, b.sessions.toLocaleString('en-US')]).sort());
    const bottleneck = await page.locator('[data-kpi="stage_bottlenecks"] svg g.hl text.name').textContent();
    const stages = (await cliRows('gold/stage_bottlenecks')).map((l) => JSON.parse(l) as { stage: string; is_bottleneck: boolean });
    expect(bottleneck).toBe(stages.find((st) => st.is_bottleneck)!.stage);
  });

  test('each gold table downloads as one Parquet file equal to the table', async () => {
    for (const kpi of GOLD_TABLES) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: `Download ${kpi} as Parquet`, exact: true }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${kpi}.parquet`);
      const file = join(work, `${kpi}.parquet`);
      await download.saveAs(file);
      engine.insertIPC('downloaded', decodeParquet(new Uint8Array(await readFile(file))));
      const schema = (await loadSnapshot(new NodeStorage(cliDir), `gold/${kpi}`)).schema;
      expect([...jsonLines(engine, 'downloaded', schema)].sort(), kpi).toEqual(await cliRows(`gold/${kpi}`));
    }
  });

  test('everything is still there after a reload', async () => {
    const before = await page.evaluate(() => window.lakehouse.tables());
    await page.reload();
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual(before);
    expect(before.map((t) => t.path)).toEqual(['bronze/events', 'silver/events', 'silver/rejects', 'silver/quality', ...GOLD_TABLES.map((k) => `gold/${k}`)]);
    // The page comes back on the dashboard it was showing, with its charts.
    expect(await page.getByRole('tab', { name: 'Dashboard' }).getAttribute('aria-selected')).toBe('true');
    for (const kpi of GOLD_TABLES) await page.locator(`[data-kpi="${kpi}"] svg[role="img"]`).first().waitFor();
  });

  test('time travel shows the rows as they were at an earlier version', async () => {
    const [cliSecond] = await Promise.all([cliRun(SECOND), runInPage(SECOND)]);
    const v0 = cli[0]!.silver[0]!.silverRows;
    const v1 = v0 + cliSecond.silver[0]!.silverRows;

    await page.goto(`${server.url}#explorer/silver/events`);
    await waitForEngine(page);
    await page.getByText(`${v1.toLocaleString('en-US')} rows at version 1;`).waitFor();
    await page.getByLabel('Version', { exact: true }).selectOption('0');
    await page.getByText(`${v0.toLocaleString('en-US')} rows at version 0;`).waitFor();
    const firstRow = await page.locator('section', { hasText: 'Rows at version 0' }).locator('tbody tr').first().locator('td').first().innerText();
    expect(firstRow).toMatch(/^evt-7-/);

    // Gold after two runs is still what the command line computes, and v0 is still the first run's.
    for (const kpi of GOLD_TABLES) {
      const latest = await page.evaluate((k) => window.lakehouse.goldTable(k), kpi);
      expect(latest.version).toBe(1);
      expect(sorted(latest.rows), kpi).toEqual((await cliRows(`gold/${kpi}`)).map((l) => JSON.stringify(JSON.parse(l))).sort());
    }
    const old = await page.evaluate(() => window.lakehouse.query('SELECT * FROM gold_writing_velocity_daily@v0 ORDER BY day'));
    expect(old.rowCount).toBe((await cliRows('gold/writing_velocity_daily', 0)).length);

    // The same in the SQL console, as a user types it.
    await tab('SQL');
    await typeSql(page, 'SELECT count(*) AS n FROM silver_events@v0');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByTestId('sql-status').waitFor();
    expect(await page.locator('#panel tbody td').first().innerText()).toBe(String(v0));
  });

  test('the SQL console cannot change a table: a write is refused inline, with the SQL', async () => {
    await typeSql(page, 'DELETE FROM silver_events');
    await page.getByRole('button', { name: 'Run query' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    expect(text).toContain('DELETE FROM silver_events');
    expect(text).toContain(
      'the console is read-only: it runs SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN and PRAGMA table_info, not DELETE, which deletes rows.',
    );
    const silver = (await page.evaluate(() => window.lakehouse.tables())).find((t) => t.path === 'silver/events')!;
    expect(silver.version).toBe(1);
  });

  test('an uploaded file with bad lines shows them in Quality, with stage and raw text', async () => {
    const good =
      '{"event_id":"up-1","event_type":"reader_dropoff","occurred_at":"2025-01-05T10:00:00Z","creator_id":"c1","work_id":"w1","schema_version":1,"reader_id":"r1","progress_pct":40}';
    const broken = '{"event_id":"up-2","event_type":';
    const outOfRange = good.replace('up-1', 'up-3').replace('"progress_pct":40', '"progress_pct":140');
    await tab('Run');
    await page.getByLabel('Ingest a .jsonl file').setInputFiles({
      name: 'my events.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(`${[good, broken, outOfRange, good].join('\n')}\n`),
    });
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-rows="bronze"]').innerText()).toBe('4');

    await tab('Quality');
    const samples = page.locator('li.sample');
    await samples.first().waitFor();
    const top = await samples.evaluateAll((items) =>
      items
        .slice(0, 3)
        .map((li) => [li.getAttribute('data-stage'), li.querySelector('pre.raw')!.textContent, li.querySelector('.errors')!.textContent!.trim()]),
    );
    expect(top).toEqual([
      ['parse', broken, expect.stringMatching(/^line 2: invalid JSON/)],
      ['schema', outOfRange, expect.stringMatching(/^\/progress_pct: /)],
      ['duplicate', good, '/event_id: up-1 already appeared at line 1 of this batch'],
    ]);
    expect(await page.getByText('upload:my events.jsonl').count()).toBe(1);
  });

  test('any table downloads as a .zip that unzips to a Delta table', async () => {
    await page.goto(`${server.url}#explorer/silver/events`);
    await waitForEngine(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as .zip' }).click()]);
    expect(download.suggestedFilename()).toBe('silver_events.zip');
    const zipFile = join(work, 'silver_events.zip');
    await download.saveAs(zipFile);
    const out = join(work, 'unzipped');
    await mkdir(out);
    execFileSync('unzip', ['-q', zipFile, '-d', out]);
    const storage = new NodeStorage(join(out, 'silver_events'));
    const latest = await loadSnapshot(storage, '');
    expect(latest.version).toBe(2);
    expect(await scanIntoEngine(engine, storage, await loadSnapshot(storage, '', 0), 'unzipped')).toBe(cli[0]!.silver[0]!.silverRows);
    // The commit log of any version is readable in the page.
    await page.getByRole('button', { name: 'Show the log of commit 0' }).click();
    await page.getByText('silver/events/_delta_log/00000000000000000000.json').waitFor();
    expect(await page.locator('ol.actions > li summary strong').allInnerTexts()).toEqual(['commitInfo', 'protocol', 'metaData', 'add', 'txn']);
  });

  test('looks right at desktop and phone widths (screenshots in .tmp/screenshots)', async () => {
    await mkdir(SHOTS, { recursive: true });
    for (const [width, height, name] of [
      [1280, 800, 'desktop'],
      [390, 844, 'phone'],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const t of ['Run', 'Dashboard', 'Explorer', 'Quality', 'SQL']) {
        await tab(t);
        if (t === 'Dashboard') for (const kpi of GOLD_TABLES) await page.locator(`[data-kpi="${kpi}"] svg[role="img"]`).first().waitFor();
        if (t === 'Explorer') await page.locator('[data-column]').first().waitFor();
        if (t === 'Quality') await page.locator('li.sample').first().waitFor();
        if (t === 'SQL') {
          await page.getByRole('button', { name: 'Time travel' }).click();
          await page.getByRole('button', { name: 'Run query' }).click();
          await page.getByTestId('sql-status').waitFor();
        }
        const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        expect(scrollWidth, `${t} at ${width}px scrolls sideways`).toBeLessThanOrEqual(clientWidth);
        await page.screenshot({ path: join(SHOTS, `${name}-${t.toLowerCase()}.png`), fullPage: true });
      }
    }
  });

  test('Cancel stops a run without touching the gold tables', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const before = await page.evaluate(() => window.lakehouse.tables());
    await tab('Run');
    await page.getByLabel('Events', { exact: true }).fill('30000');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.locator('[data-stage="bronze"]', { hasText: 'rows/s' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Run cancelled' }).waitFor({ timeout: 60_000 });
    const after = await page.evaluate(() => window.lakehouse.tables());
    const gold = (ts: typeof before) => ts.filter((t) => t.layer === 'gold').map((t) => [t.path, t.version]);
    expect(gold(after)).toEqual(gold(before));
  });

  test('Reset lakehouse asks first, then deletes every table', async () => {
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Reset lakehouse' }).click();
    expect((await page.evaluate(() => window.lakehouse.tables())).length).toBe(10);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Reset lakehouse' }).click();
    await tab('Dashboard');
    await page.getByText('No data yet — press Run pipeline').waitFor();
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
  });

  test('asked nothing of another origin, and threw nothing', () => {
    expect(session.offOrigin(server.origin)).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});

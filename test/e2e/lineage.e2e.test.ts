import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES, goldTable } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, runThroughForm, serveStatic, typeSql, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A run in the page stopped right after its silver/events commit (the worker's stop-after-commit
 * hook stands in for a tab closed at that moment): the dashboard and the Explorer mark every gold
 * table not up to date; opening the page again finishes the run, and the marks go. Then a run stopped
 * between silver's commits: every default view shows silver at the batch all its tables took in.
 */
describe('gold lineage in the page', () => {
  let server: StaticServer;
  let session: BrowserSession;
  beforeAll(async () => {
    server = await serveStatic(DIST);
    session = await launchBrowser();
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  test('a run stopped after silver: gold marked not up to date; reopening finishes it and the marks go', { timeout: 240_000 }, async () => {
    const { page } = session;
    await page.goto(server.url);
    await waitForEngine(page);
    await runThroughForm(page, { seed: 1, events: 1500, days: 30, invalidRate: 0.01 });

    await page.evaluate(() => window.lakehouse.stopAfterCommit('silver/events'));
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run failed' }).waitFor({ timeout: 90_000 });
    expect(await page.getByRole('alert').innerText()).toContain('the run was stopped after commit 4 (silver/events/_delta_log/00000000000000000001.json)');

    await page.getByRole('tab', { name: 'Dashboard' }).click();
    const marks = page.getByTestId('stale');
    await expect.poll(() => marks.count(), { timeout: 30_000 }).toBe(GOLD_TABLES.length);
    expect(await page.locator('[data-testid="stale"][data-table="gold/stage_bottlenecks"]').innerText()).toBe(
      'Not up to date. gold/stage_bottlenecks was computed from silver/events v0; silver/events is at v1 — the last run stopped before gold',
    );
    expect((await page.getByTestId('staleness').innerText()).replace(/\s+/g, ' ')).toContain(
      `The last run stopped before it finished: 6 tables are behind their inputs (${GOLD_TABLES.map(goldTable).join(', ')}).`,
    );
    // The cards show gold as it is: version 0, computed from silver/events v0.
    expect(await page.locator('[data-kpi="engagement_bands"] caption').innerText()).toMatch(/^gold\/engagement_bands · version 0 · 4 rows/);

    await page.getByRole('tab', { name: 'Explorer' }).click();
    await expect.poll(() => page.getByTestId('stale-node').count(), { timeout: 30_000 }).toBe(GOLD_TABLES.length);

    // Opening the page again (a new worker: the hook is gone) finishes the run before anything else.
    await page.goto(`${server.url}#dashboard`);
    await waitForEngine(page);
    await page.getByTestId('repaired').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('repaired').innerText()).toBe(
      `Finished the run that stopped early: ${GOLD_TABLES.map(goldTable).join(', ')} brought up to date.`,
    );
    await expect.poll(() => page.getByTestId('stale').count(), { timeout: 30_000 }).toBe(0);
    expect(await page.getByTestId('staleness').count()).toBe(0);
    const lineage = await page.evaluate(() => window.lakehouse.lineage());
    expect(lineage.behind).toEqual([]);
    expect(lineage.tables.filter((t) => t.layer === 'gold').map((t) => [t.version, t.input?.version])).toEqual(GOLD_TABLES.map(() => [1, 1]));
    await expect
      .poll(() => page.locator('[data-kpi="engagement_bands"] caption').innerText(), { timeout: 30_000 })
      .toMatch(/^gold\/engagement_bands · version 1 · 4 rows/);
    expect(session.errors).toEqual([]);
  });

  test('a run stopped between silver’s commits: the Explorer, Quality and the console show silver at the batch all its tables took in, and say so; time travel reaches the newer version; reopening shows the latest', {
    timeout: 300_000,
  }, async () => {
    const { page } = session;
    // After the first test: bronze v1, silver/events, rejects and quality v1. This run commits bronze v2, rejects v2, quality v2, then stops.
    await page.evaluate(() => window.lakehouse.stopAfterCommit('silver/quality'));
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run failed' }).waitFor({ timeout: 90_000 });
    expect(await page.getByRole('alert').innerText()).toContain('the run was stopped after commit 3 (silver/quality/_delta_log/00000000000000000002.json)');
    const note =
      'Showing silver at bronze batch v1, the last one all its tables have taken in (silver/rejects v1, latest v2; silver/quality v1, latest v2); a newer batch is partly in — it finishes on the next run or reload.';
    const count = (sql: string) => page.evaluate(async (q) => Number((await window.lakehouse.query(q)).rows[0]![0]), sql);
    const [atBatch, atLatest] = [await count('SELECT count(*) FROM silver_rejects@v1'), await count('SELECT count(*) FROM silver_rejects@v2')];
    expect(atLatest).toBeGreaterThan(atBatch);
    const n = (x: number) => x.toLocaleString('en-US');

    // The Explorer: the lineage's counts and the table's default view are of v1, and say why.
    await page.getByRole('tab', { name: 'Explorer' }).click();
    const node = page.locator('button.node', { hasText: 'silver/rejects' });
    await expect.poll(() => node.innerText(), { timeout: 30_000 }).toContain(`v1 · ${n(atBatch)} rows · v2 partly in`);
    await node.click();
    await expect.poll(() => page.getByTestId('table-version').innerText(), { timeout: 30_000 }).toBe('1 (latest 2)');
    expect(await page.getByTestId('table-rows').innerText()).toBe(n(atBatch));
    expect(await page.getByTestId('lakehouse-table').getByTestId('partly-in').innerText()).toBe(note);
    await page.getByText(`${n(atBatch)} rows at version 1;`).waitFor({ timeout: 60_000 });
    // Time travel reaches the newer version.
    await page.getByLabel('Version', { exact: true }).selectOption('2');
    await page.getByText(`${n(atLatest)} rows at version 2;`).waitFor({ timeout: 60_000 });

    // Quality: the rejects of the batches all of silver took in.
    await page.getByRole('tab', { name: 'Quality' }).click();
    await page.getByRole('heading', { name: `Rejects by stage — ${n(atBatch)} in all` }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('partly-in').innerText()).toBe(note);

    // The console: the plain name reads v1 and says so; @v2 reads the newer version.
    await page.getByRole('tab', { name: 'SQL', exact: true }).click();
    // Typed into the editor once its chunk is there (a fill into the textarea it replaces could be lost); an error answer fails at once with its text.
    const ask = async (sql: string, reads: string) => {
      const marker = page.locator('[data-answered]');
      const answered = async () => ((await marker.count()) === 0 ? 0 : Number(await marker.first().getAttribute('data-answered')));
      const before = await answered();
      await typeSql(page, sql);
      await page.getByRole('button', { name: 'Run query' }).click();
      await expect.poll(answered, { timeout: 60_000 }).toBe(before + 1);
      const alert = page.locator('#panel [role="alert"]');
      expect(await alert.count(), await alert.allInnerTexts().then((t) => t.join('\n'))).toBe(0);
      expect(await page.getByTestId('sql-status').innerText()).toContain(`read ${reads}`);
      return Number(await page.getByTestId('sql-result').locator('tbody tr[data-row] td').first().innerText());
    };
    expect(await ask('SELECT count(*) AS n FROM silver_rejects', 'silver_rejects@v1')).toBe(atBatch);
    expect(await page.getByTestId('sql-result').getByTestId('partly-in').innerText()).toBe(note);
    expect(await ask('SELECT count(*) AS n FROM silver_rejects@v2', 'silver_rejects@v2')).toBe(atLatest);
    expect(await page.getByTestId('sql-result').getByTestId('partly-in').count()).toBe(0);

    // Reopening finishes the run: every view is of the latest versions, with nothing to say.
    await page.goto(`${server.url}#explorer/silver/rejects`);
    await waitForEngine(page);
    await page.getByTestId('repaired').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('repaired').innerText()).toBe('Finished the run that stopped early: silver/events brought up to date.');
    await expect.poll(() => page.getByTestId('table-version').innerText(), { timeout: 30_000 }).toBe('2');
    expect(await page.getByTestId('table-rows').innerText()).toBe(n(atLatest));
    expect(await page.getByTestId('partly-in').count()).toBe(0);
    await page.getByRole('tab', { name: 'Quality' }).click();
    await page.getByRole('heading', { name: `Rejects by stage — ${n(atLatest)} in all` }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('partly-in').count()).toBe(0);
    expect(await count('SELECT count(*) FROM silver_rejects')).toBe(atLatest);
    expect(session.errors).toEqual([]);
  });

  test('a run stopped after its first gold commit: the dashboard shows every KPI from one silver version and says a newer batch is partly in', {
    timeout: 240_000,
  }, async () => {
    const { page } = session;
    await page.evaluate(() => window.lakehouse.stopAfterCommit('gold/writing_velocity_daily'));
    await page.getByRole('tab', { name: 'Run' }).click();
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run failed' }).waitFor({ timeout: 90_000 });
    const lineage = await page.evaluate(() => window.lakehouse.lineage());
    const from = lineage.tables.find((t) => t.table === 'gold/dropoff_rate')!.input!.version;
    const latest = lineage.tables.find((t) => t.table === 'gold/writing_velocity_daily')!.version;
    const shown = lineage.consistent['gold/writing_velocity_daily']!;
    expect(shown).toBe(latest - 1);
    const note = `Showing gold as computed from silver/events v${from}, the version all its tables have reached (gold/writing_velocity_daily v${shown}, latest v${latest}); a newer batch is partly in — it finishes on the next run or reload.`;
    expect(lineage.partlyIn).toEqual({ gold: note });

    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('partly-in')
            .innerText()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toBe(note);
    await expect
      .poll(() => page.locator('[data-kpi="writing_velocity_daily"] caption').innerText(), { timeout: 30_000 })
      .toMatch(new RegExp(`^gold/writing_velocity_daily · version ${shown} · `));
    // Time travel still reaches the newer version.
    expect((await page.evaluate((v) => window.lakehouse.goldTable('writing_velocity_daily', v), latest)).version).toBe(latest);

    await page.reload();
    await waitForEngine(page);
    await page.getByTestId('repaired').waitFor({ timeout: 90_000 });
    await expect.poll(() => page.getByTestId('partly-in').count(), { timeout: 30_000 }).toBe(0);
    await expect
      .poll(() => page.locator('[data-kpi="writing_velocity_daily"] caption').innerText(), { timeout: 30_000 })
      .toMatch(new RegExp(`^gold/writing_velocity_daily · version ${latest} · `));
    expect(session.errors).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES, goldTable } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A run in the page stopped right after its silver/events commit (the worker's stop-after-commit
 * hook stands in for a tab closed at that moment): the dashboard and the Explorer mark every gold
 * table not up to date; opening the page again finishes the run, and the marks go.
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
});

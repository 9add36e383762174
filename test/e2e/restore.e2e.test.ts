import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A reload shows the tables and the dashboard without waiting for the engine: the gold tables are
 * read from their logs and Parquet files by the worker, DuckDB starts beside. Here DuckDB's wasm is
 * held back (service workers blocked, so the request reaches the route) until the dashboard is up.
 */
describe('a reload before the engine has started', () => {
  let server: StaticServer;
  let session: BrowserSession;
  const charts = '[data-kpi] svg[role="img"]';

  beforeAll(async () => {
    server = await serveStatic(DIST);
    session = await launchBrowser({ serviceWorkers: 'block' });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  test('draws the dashboard from the gold tables while DuckDB is still loading, then starts it', async () => {
    const { page, context } = session;
    await page.goto(server.url);
    await waitForEngine(page);
    await page.evaluate(() => window.lakehouse.run({ seed: 5, events: 2500, days: 20, invalidRate: 0.02 }));
    const before: Record<string, string[]> = {};
    for (const kpi of GOLD_TABLES) before[kpi] = (await page.evaluate((k) => window.lakehouse.goldTable(k), kpi)).rows.map((r) => JSON.stringify(r));

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const asked: string[] = [];
    await context.route(/duckdb-eh-[^/]*\.wasm$/, async (route) => {
      asked.push(route.request().url());
      await held;
      await route.continue();
    });
    await page.goto(`${server.url}#dashboard`);
    await page.reload();
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, charts, { timeout: 60_000 });

    // The engine has asked for its wasm, and waits.
    await expect.poll(() => asked.length, { timeout: 30_000 }).toBe(1);
    const status = page.locator('[role="status"]');
    expect(await status.getAttribute('data-state')).toBe('starting');
    expect((await status.innerText()).trim()).toBe('Starting engine…');
    for (const kpi of GOLD_TABLES) {
      const shown = await page.evaluate((k) => window.lakehouse.goldTable(k), kpi);
      expect(
        shown.rows.map((r) => JSON.stringify(r)),
        kpi,
      ).toEqual(before[kpi]);
      expect(shown.rows.length, kpi).toBeGreaterThan(0);
    }
    expect(await page.evaluate(() => window.lakehouse.metrics())).toMatchObject({ duckdbWasmBytes: null });
    // The explorer's list comes from the logs too.
    await page.getByRole('tab', { name: 'Explorer', exact: true }).click();
    await expect.poll(() => page.getByText('gold/engagement_bands').count(), { timeout: 30_000 }).toBeGreaterThan(0);

    // A run asked for now says what it waits for, and goes once the engine is up.
    await page.getByRole('tab', { name: 'Run', exact: true }).click();
    await page.getByLabel('Events', { exact: true }).fill('1500');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await expect.poll(() => page.getByTestId('run-waiting').textContent(), { timeout: 30_000 }).toBe('Waiting for the engine to start…');
    release();
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 120_000 });
    expect(await waitForEngine(page)).toMatch(/^Engine ready — DuckDB v1\.4\.3/);
    expect(await page.getByTestId('run-waiting').count()).toBe(0);
    const latest = await page.evaluate(() => window.lakehouse.goldTable('engagement_bands'));
    expect(latest.version).toBe(1);
    const bands = await page.evaluate(() => window.lakehouse.query('SELECT count(*) AS n FROM gold_engagement_bands'));
    expect(bands.rows).toEqual([[String(latest.rows.length)]]);
    expect(session.errors).toEqual([]);
  }, 240_000);
});

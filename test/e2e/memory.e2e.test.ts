import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DIST, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * DuckDB-WASM meeting its memory_limit during a run, in Chromium: the limit lowered (the worker's
 * engineMemoryLimit test hook) to 2 MiB above what the engine holds, so the next run's silver step
 * meets DuckDB's real out-of-memory error.
 */
describe('the engine out of memory in the browser', () => {
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

  test('the page says which stage, what limit and what to do; the worker answers after; the next run completes', async () => {
    const { page } = session;
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await runThroughForm(page, { seed: 1, events: 2_000, days: 10, invalidRate: 0.01 });

    const sql = (text: string) => page.evaluate((s) => window.lakehouse.query(s).then((r) => r.rows), text);
    const memory = (limit?: string | null) => page.evaluate((l) => window.lakehouse.engineMemoryLimit(l), limit);
    expect((await memory()).limit).toBe('3.0 GiB');
    const { limit } = await memory(`${(await memory()).used + 2 ** 21}B`);

    await page.getByLabel('Seed', { exact: true }).fill('2');
    await page.getByLabel('Events', { exact: true }).fill('200000');
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    const alert = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'Run failed' }) });
    await alert.waitFor({ timeout: 90_000 });
    const message = (await alert.locator('.message').innerText()).trim();
    expect(message).toMatch(
      new RegExp(
        `^running the pipeline: the engine ran out of memory in silver \\(DuckDB's memory limit ${limit.replace('.', '\\.')}; Out of Memory Error: [^\\n]+\\) with 1,9\\d\\d events in silver: ` +
          'the run stopped with every table at its last committed version, and what reached bronze is kept and the next run \\(or opening the page\\) finishes it',
      ),
    );
    expect(message).not.toMatch(/SQL:|Possible solutions/);
    console.log(`the page shows (limit ${limit}):\n  ${message}`);
    if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });

    // The worker lives: it answers a query, and the tables are as the first run left them but for bronze.
    expect(await sql('SELECT 42')).toEqual([['42']]);
    const lineage = await page.evaluate(() => window.lakehouse.lineage());
    expect(lineage.behind.length).toBeGreaterThan(0);

    expect((await memory(null)).limit).toBe('3.0 GiB');
    await runThroughForm(page, { seed: 3, events: 2_000, days: 10, invalidRate: 0.01 });
    expect((await page.evaluate(() => window.lakehouse.lineage())).behind).toEqual([]);
    const silver = await sql('SELECT count(*) FROM silver_events');
    expect(Number(silver[0]![0])).toBeGreaterThan(200_000);
  });
});

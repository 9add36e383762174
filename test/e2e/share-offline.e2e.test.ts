import type { Page } from 'playwright-core';
import { afterEach, describe, expect, test } from 'vitest';
import { GOLD_KPIS } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/** Issue 7, items 4 and 5: a link reproduces a run; the app works offline and under a sub-path. */
describe('share a run, offline, static hosting', () => {
  const sessions: BrowserSession[] = [];
  const servers: StaticServer[] = [];
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(base = '/'): Promise<StaticServer> {
    const server = await serveStatic(DIST, base);
    servers.push(server);
    return server;
  }
  async function browser(): Promise<BrowserSession> {
    const session = await launchBrowser();
    sessions.push(session);
    return session;
  }

  const form = (page: Page) =>
    Promise.all(['Seed', 'Events', 'Days', 'Invalid rate'].map((l) => page.getByLabel(l, { exact: true }).inputValue()));

  async function runAndReadGold(page: Page): Promise<Record<string, string[]>> {
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 90_000 });
    const gold: Record<string, string[]> = {};
    for (const kpi of GOLD_KPIS) {
      const table = await page.evaluate((k) => window.lakehouse.goldTable(k), kpi);
      gold[kpi] = table.rows.map((r) => JSON.stringify(r)).sort();
    }
    return gold;
  }

  test('the URL carries the run options; two fresh profiles on one link get identical gold tables', { timeout: 300_000 }, async () => {
    const server = await serve();
    const link = `${server.url}?seed=5&events=1500&days=20&invalid=0.03`;
    const [a, b] = await Promise.all([browser(), browser()]);
    const golds = await Promise.all(
      [a!, b!].map(async ({ page }) => {
        await page.goto(link);
        expect(await waitForEngine(page)).toMatch(/^Engine ready/);
        expect(await form(page)).toEqual(['5', '1500', '20', '0.03']);
        return runAndReadGold(page);
      }),
    );
    for (const kpi of GOLD_KPIS) {
      expect(golds[0]![kpi]!.length, kpi).toBeGreaterThan(0);
      expect(golds[1]![kpi], kpi).toEqual(golds[0]![kpi]);
    }
    expect(Object.keys(golds[0]!).sort()).toEqual([...GOLD_KPIS].sort());

    // Changing the form rewrites the URL in place; the copy button offers that link.
    const { page } = a!;
    await page.getByLabel('Seed', { exact: true }).fill('9');
    await page.getByLabel('Invalid rate', { exact: true }).fill('0.5');
    await expect.poll(() => new URL(page.url()).search).toBe('?seed=9&events=1500&days=20&invalid=0.5');
    await page.getByRole('button', { name: 'Copy link to this run' }).click();
    expect(await page.getByLabel('Link to this run').inputValue()).toBe(page.url());

    // A link with nonsense in it falls back to the defaults for those fields only.
    await page.goto(`${server.url}?seed=-1&events=abc&days=10&invalid=2`);
    await waitForEngine(page);
    expect(await form(page)).toEqual(['42', '10000', '10', '0.01']);
    for (const s of [a!, b!]) expect(s.errors).toEqual([]);
  });

});

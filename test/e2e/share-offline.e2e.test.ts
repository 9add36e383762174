import type { Page } from 'playwright-core';
import { afterEach, describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { DIST, grid, launchBrowser, serveStatic, typeSql, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

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

  const form = (page: Page) => Promise.all(['Seed', 'Events', 'Days', 'Invalid rate'].map((l) => page.getByLabel(l, { exact: true }).inputValue()));

  async function runAndReadGold(page: Page): Promise<Record<string, string[]>> {
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 90_000 });
    const gold: Record<string, string[]> = {};
    for (const kpi of GOLD_TABLES) {
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
    for (const kpi of GOLD_TABLES) {
      expect(golds[0]![kpi]!.length, kpi).toBeGreaterThan(0);
      expect(golds[1]![kpi], kpi).toEqual(golds[0]![kpi]);
    }
    expect(Object.keys(golds[0]!).sort()).toEqual([...GOLD_TABLES].sort());

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

  /**
   * Visit once and wait until the service worker controls the page, then take the network away
   * (the browser's offline emulation, and the host stops): the page must reload from the cache and
   * run the whole pipeline. The wait for the service worker is bounded, so a build that never
   * registers one fails here in seconds rather than hanging (the cause of the hang in 948ee6d: the
   * build made by globalSetup ran under vitest's NODE_ENV=test, a development build, and
   * `import.meta.env.PROD` left the registration out).
   */
  const OFFLINE_RUN = '?seed=3&events=800&days=10&invalid=0.02';
  async function offlineRun(server: StaticServer, session: BrowserSession): Promise<void> {
    const { context, page } = session;
    if (page.url() !== `${server.url}${OFFLINE_RUN}`) {
      await page.goto(`${server.url}${OFFLINE_RUN}`);
      expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    }
    const registered = await page.evaluate(async () => {
      const ready = navigator.serviceWorker.ready.then((r) => (r.active ? 'active' : 'no active worker'));
      return Promise.race([ready, new Promise<string>((done) => setTimeout(() => done('no service worker after 30 s'), 30_000))]);
    });
    expect(registered).toBe('active');
    if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) {
      await page.reload();
      await waitForEngine(page);
    }
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}sw.js`);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith('creatorops-'))!);
      return (await cache.keys()).map((r) => r.url);
    });
    for (const file of ['duckdb-eh', 'parquet_wasm_bg', 'worker', 'index', 'sql-editor'])
      expect(
        cached.some((u) => u.startsWith(`${server.url}assets/${file}-`)),
        file,
      ).toBe(true);
    expect(cached).toContain(server.url);
    expect(cached).toContain(`${server.url}manifest.webmanifest`);
    expect(server.served.length).toBeGreaterThan(0);
    expect(server.served.filter((p) => !p.startsWith(new URL(server.url).pathname))).toEqual([]);

    // Off: the browser's network emulation, and the host itself stops.
    await context.setOffline(true);
    const servedBefore = server.served.length;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await page.reload();
    expect(await waitForEngine(page, 60_000)).toMatch(/^Engine ready/);
    expect(await form(page)).toEqual(['3', '800', '10', '0.02']);
    await page.getByRole('button', { name: 'Run pipeline' }).click();
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 60_000 });
    const summary = await page.evaluate(() => window.lakehouse.tables());
    expect(summary.find((t) => t.path === 'bronze/events')?.rows).toBe(800);
    const gold = await page.evaluate(() => window.lakehouse.goldTable('writing_velocity_daily'));
    expect(gold.rows.length).toBeGreaterThan(0);
    expect(gold.rows.length).toBeLessThanOrEqual(10);
    // The dashboard shows it, from the page, offline.
    await page.getByRole('tab', { name: 'Dashboard', exact: true }).click();
    await page.getByRole('button', { name: 'Download writing_velocity_daily as Parquet', exact: true }).waitFor({ timeout: 30_000 });
    // The SQL console's editor, a chunk of its own the page had not asked for before: from the cache.
    await page.getByRole('tab', { name: 'SQL', exact: true }).click();
    await typeSql(page, 'SELECT count(*) AS n FROM bronze_events');
    await page.keyboard.press('ControlOrMeta+Enter');
    await expect.poll(async () => (await grid(page.getByTestId('sql-result').last()))[0]?.[0]).toBe('800');
    expect(server.served.length).toBe(servedBefore);
    expect(session.offOrigin(server.origin)).toEqual([]);
    expect(session.errors).toEqual([]);
    // The host is really gone: a fetch that the cache cannot answer fails (and logs its error).
    expect(
      await page.evaluate(async () =>
        fetch(`./not-cached-${Date.now()}.txt`).then(
          (r) => `status ${r.status}`,
          () => 'failed',
        ),
      ),
    ).toBe('failed');
  }

  test('after one visit, the app reloads and runs a full pipeline with the network off', { timeout: 110_000 }, async () => {
    await offlineRun(await serve('/'), await browser());
  });

  test('under a sub-path (/creatorops/), no server config: installable, runs, offline, nothing asked outside the sub-path', { timeout: 110_000 }, async () => {
    const server = await serve('/creatorops/');
    const session = await browser();
    await session.page.goto(`${server.url}${OFFLINE_RUN}`);
    expect(await waitForEngine(session.page)).toMatch(/^Engine ready/);
    const manifest = await session.page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>('link[rel="manifest"]')!.href;
      return { href, body: (await (await fetch(href)).json()) as { start_url: string; scope: string; icons: { src: string }[] } };
    });
    expect(manifest.href).toBe(`${server.url}manifest.webmanifest`);
    expect(manifest.body.start_url).toBe('./');
    expect(manifest.body.scope).toBe('./');
    const icon = await session.page.evaluate(
      async (u) => (await fetch(u)).headers.get('content-type'),
      new URL(manifest.body.icons[0]!.src, manifest.href).href,
    );
    expect(icon).toBe('image/svg+xml');
    expect(server.served.filter((p) => !p.startsWith('/creatorops/'))).toEqual([]);
    await offlineRun(server, session);
  });
});

import { afterEach, beforeAll, afterAll, describe, expect, test } from 'vitest';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

describe('the app', () => {
  let server: StaticServer;
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    server = await serveStatic(DIST);
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  test('loads offline, starts the engine in its worker, asks nothing of another origin', async () => {
    session = await launchBrowser();
    const { page } = session;
    await page.goto(server.url);
    expect(await page.title()).toBe('CreatorOps Lakehouse');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('CreatorOps Lakehouse');
    expect(await waitForEngine(page)).toBe('Engine ready — DuckDB v1.4.3 duckdb-wasm 1.32.0 · tables in OPFS lakehouse/');

    const wasm = session.requests.filter((u) => u.endsWith('.wasm')).map((u) => u.replace(/^.*\/assets\/|-[\w-]{8}\.wasm$/g, ''));
    // Seen from the worker: proves worker requests are recorded too. Only the eh build is fetched
    // (by the worker, and by the service worker precaching it for offline use).
    expect([...new Set(wasm)].sort()).toEqual(['duckdb-eh', 'parquet_wasm_bg']);
    expect(session.offOrigin(server.origin)).toEqual([]);
    expect(session.errors).toEqual([]);
  });

  test('works from a sub-path of the host', async () => {
    const nested = await serveStatic(DIST, '/some/sub path/');
    try {
      session = await launchBrowser();
      await session.page.goto(nested.url);
      expect(await waitForEngine(session.page)).toMatch(/^Engine ready — DuckDB v1\.4\.3 /);
      expect(nested.served.every((p) => p.startsWith('/some/sub path/'))).toBe(true);
      expect(session.errors).toEqual([]);
    } finally {
      await nested.close();
    }
  });

  test('the harness sees what a worker does wrong', async () => {
    session = await launchBrowser();
    await session.page.goto(server.url);
    await waitForEngine(session.page);
    const [worker] = session.page.workers();
    if (!worker) throw new Error('the page has no worker');
    await worker.evaluate(async () => {
      console.error('deliberate worker console error');
      await fetch('http://192.0.2.1:9/nothing').catch(() => undefined);
    });
    await expect.poll(() => session?.errors.filter((e) => e.includes('deliberate'))).toEqual(['console: deliberate worker console error']);
    expect(session.offOrigin(server.origin)).toEqual(['http://192.0.2.1:9/nothing']);
  });
});

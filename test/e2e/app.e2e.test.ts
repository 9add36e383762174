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
    expect(await waitForEngine(page)).toMatch(
      /^Engine ready — DuckDB v1\.4\.3 duckdb-wasm 1\.32\.0 · tables in OPFS lakehouse\/ · started \d+\.\d s after the page opened$/,
    );

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

  test('silver checks lines on checker workers (used with more than two cores) and gives the same tables as without them', { timeout: 240_000 }, async () => {
    session = await launchBrowser();
    const { page } = session;
    await page.goto(server.url);
    await waitForEngine(page);
    const options = { events: 25_000, seed: 11, days: 30, invalidRate: 0.05 };
    const runWith = async (threads: number) => {
      await page.evaluate((t) => window.lakehouse.checkerThreads(t), threads);
      await page.evaluate(() => window.lakehouse.reset());
      const summary = await page.evaluate((o) => window.lakehouse.run(o), options);
      const gold: Record<string, string[]> = {};
      for (const t of summary.gold) {
        const rows = await page.evaluate((name) => window.lakehouse.goldTable(name), t.table);
        gold[t.table] = rows.rows.map((r) => JSON.stringify(r)).sort();
      }
      const silver = await page.evaluate(() =>
        window.lakehouse.query(
          'SELECT count(*) AS n, count(DISTINCT event_id) AS ids, min(event_id) AS first, max(event_id) AS last, sum(coalesce(words, 0)) AS words, max(occurred_at) AS latest FROM silver_events',
        ),
      );
      const rejects = await page.evaluate(() => window.lakehouse.query('SELECT stage, count(*) AS n FROM silver_rejects GROUP BY stage ORDER BY stage'));
      return {
        gold,
        silver: JSON.stringify(silver.rows),
        rejects: JSON.stringify(rejects.rows),
        workers: page.workers().filter((w) => w.url().includes('check-worker')).length,
      };
    };
    const threaded = await runWith(2);
    const inline = await runWith(0);
    // chunks of 10,000 lines go to the checkers in turn, so results from both come back in order
    expect(threaded.workers).toBe(2);
    expect(inline.workers).toBe(0);
    expect(Object.keys(threaded.gold).length).toBe(6);
    expect(threaded.gold).toEqual(inline.gold);
    expect(threaded.silver).toBe(inline.silver);
    expect(threaded.rejects).toBe(inline.rejects);
    expect(JSON.parse(threaded.rejects).length).toBeGreaterThan(1);
    await page.evaluate(() => window.lakehouse.checkerThreads(undefined));
    expect(session.errors).toEqual([]);
  });

  test('a generated run made and checked on a producer worker, its Parquet encoded on another, gives the same tables as on the lakehouse worker', {
    timeout: 240_000,
  }, async () => {
    session = await launchBrowser();
    const { page } = session;
    await page.goto(server.url);
    await waitForEngine(page);
    const options = { events: 25_000, seed: 12, days: 30, invalidRate: 0.05 };
    let started = 0;
    let encoders = 0;
    page.on('worker', (w) => {
      if (w.url().includes('produce-worker')) started++;
      if (w.url().includes('encode-worker')) encoders++;
    });
    const runWith = async (producer: boolean) => {
      const before = started;
      const encodersBefore = encoders;
      await page.evaluate((on) => window.lakehouse.producerThread(on), producer);
      await page.evaluate((on) => window.lakehouse.encoderThread(on), producer);
      await page.evaluate(() => window.lakehouse.reset());
      const summary = await page.evaluate((o) => window.lakehouse.run(o), options);
      const gold: Record<string, string[]> = {};
      for (const t of summary.gold) {
        const rows = await page.evaluate((name) => window.lakehouse.goldTable(name), t.table);
        gold[t.table] = rows.rows.map((r) => JSON.stringify(r)).sort();
      }
      const query = (sql: string) => page.evaluate((q) => window.lakehouse.query(q), sql).then((r) => JSON.stringify(r.rows));
      return {
        gold,
        silver: await query(
          'SELECT count(*) AS n, min(event_id) AS first, max(event_id) AS last, sum(coalesce(words, 0)) AS words, max(occurred_at) AS latest FROM silver_events',
        ),
        rejects: await query('SELECT stage, count(*) AS n FROM silver_rejects GROUP BY stage ORDER BY stage'),
        producers: started - before,
        encoders: encoders - encodersBefore,
        encoderWasmBytes: (await page.evaluate(() => window.lakehouse.metrics())).encoderWasmBytes,
      };
    };
    const produced = await runWith(true);
    const inline = await runWith(false);
    // one producer worker per generated run, none when switched off
    expect(produced.producers).toBe(1);
    expect(inline.producers).toBe(0);
    // one encoder worker per run (it encoded silver/events: its memory is reported), none when switched off
    expect(produced.encoders).toBe(1);
    expect(inline.encoders).toBe(0);
    expect(produced.encoderWasmBytes).toBeGreaterThan(1_000_000);
    expect(Object.keys(produced.gold).length).toBe(6);
    expect(produced.gold).toEqual(inline.gold);
    expect(produced.silver).toBe(inline.silver);
    expect(produced.rejects).toBe(inline.rejects);
    expect(JSON.parse(produced.rejects).length).toBeGreaterThan(1);
    await page.evaluate(() => window.lakehouse.producerThread(undefined));
    await page.evaluate(() => window.lakehouse.encoderThread(undefined));
    expect(session.errors).toEqual([]);
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

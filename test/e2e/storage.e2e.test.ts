import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

describe('OPFS storage in the worker', () => {
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

  async function open(): Promise<BrowserSession> {
    session = await launchBrowser();
    await session.page.goto(server.url);
    expect(await waitForEngine(session.page)).toMatch(/^Engine ready/);
    return session;
  }

  test('passes the storage contract on real OPFS', async () => {
    const { page, errors } = await open();
    // The same checks as test/storage.test.ts runs on memory and disk.
    expect(await page.evaluate(() => window.lakehouse.storageSelfTest())).toEqual([]);
    // The self-test works outside the lakehouse folder and cleans up.
    expect(await page.evaluate(() => window.lakehouse.listFiles(''))).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('keeps files across a reload', async () => {
    const { page, errors } = await open();
    const path = 'silver/events/event_date=2024-01-01/part 0.txt';
    await page.evaluate((p) => window.lakehouse.writeFile(p, new TextEncoder().encode('kept')), path);
    await page.reload();
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    expect(await page.evaluate((p) => window.lakehouse.readFile(p).then((b) => new TextDecoder().decode(b)), path)).toBe('kept');
    const files = await page.evaluate(() => window.lakehouse.listFiles('silver'));
    expect(files.map((f) => [f.path, f.size])).toEqual([[path, 4]]);
    expect(errors).toEqual([]);
  });

  test('two tabs racing to create one file: exactly one wins each time', async () => {
    const { context, page, errors } = await open();
    const other = await context.newPage();
    await other.goto(server.url);
    await waitForEngine(other);
    // Each tab's worker sends three at once: six racers over two workers per round.
    const race = ({ path, tab }: { path: string; tab: string }) =>
      Promise.all([1, 2, 3].map((i) => window.lakehouse.createFile(path, new TextEncoder().encode(`${tab}${i}`))));
    for (let round = 0; round < 10; round++) {
      const path = `t/_delta_log/${String(round).padStart(20, '0')}.json`;
      const [a, b] = await Promise.all([page.evaluate(race, { path, tab: 'a' }), other.evaluate(race, { path, tab: 'b' })]);
      const winners = [...a.map((won, i) => (won ? `a${i + 1}` : '')), ...b.map((won, i) => (won ? `b${i + 1}` : ''))].filter(Boolean);
      expect(winners).toHaveLength(1);
      const content = await page.evaluate((p) => window.lakehouse.readFile(p).then((x) => new TextDecoder().decode(x)), path);
      expect(content).toBe(winners[0]);
    }
    expect((await page.evaluate(() => window.lakehouse.listFiles('t'))).length).toBe(10);
    expect(errors).toEqual([]);
  });

  test('errors arrive with what the worker was doing', async () => {
    const { page, errors } = await open();
    const message = await page.evaluate(() =>
      window.lakehouse.readFile('no/such file.json').then(
        () => 'no error',
        (e: Error) => e.message,
      ),
    );
    expect(message).toBe('reading a file: no file no/such file.json in OPFS lakehouse/');
    // Handled by the caller: not an uncaught error.
    expect(errors).toEqual([]);
  });
});

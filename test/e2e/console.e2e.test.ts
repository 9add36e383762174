import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { decodeParquet } from '../../src/parquet/codec.ts';
import { testEngine } from '../helpers/engine.ts';
import {
  DIST,
  sqlEditor,
  sqlText,
  typeSql,
  grid,
  launchBrowser,
  runThroughForm,
  serveStatic,
  waitForEngine,
  type BrowserSession,
  type StaticServer,
} from './harness.ts';

/** The SQL console as a DuckDB-shell user drives it: errors, the catalog, several statements, paging, sorting, downloads, copy, history, the schema tree. */
describe('the SQL console', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let engine: Engine;
  let dir: string;
  const EVENTS = 1200;

  /** Type `text`, run it, wait for the answer; the error text, if any. */
  async function run(text: string): Promise<string | undefined> {
    const marker = page.locator('[data-answered]');
    const answered = async () => ((await marker.count()) === 0 ? 0 : Number(await marker.first().getAttribute('data-answered')));
    const before = await answered();
    await typeSql(page, text);
    await page.getByRole('button', { name: 'Run query' }).click();
    await expect.poll(answered, { timeout: 60_000 }).toBe(before + 1);
    const alert = page.locator('#panel [role="alert"]');
    return (await alert.count()) ? alert.innerText() : undefined;
  }
  const results = () => page.getByTestId('sql-result');

  beforeAll(async () => {
    [server, session, engine, dir] = await Promise.all([serveStatic(DIST), launchBrowser(), testEngine(), mkdtemp(join(tmpdir(), 'console-e2e-'))]);
    page = session.page;
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') });
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await runThroughForm(page, { seed: 31, events: EVENTS, days: 20, invalidRate: 0.02 });
    await page.getByRole('tab', { name: 'SQL', exact: true }).click();
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a typo is a syntax error with the statement meant; a write is refused by its kind; DuckDB’s LINE block shows once', async () => {
    expect(await run('selec count(*) from silver_events')).toContain('syntax error: no SQL statement starts with selec — did you mean SELECT?');
    expect(await run('INSERT INTO silver_events SELECT * FROM silver_events')).toContain('not INSERT, which adds rows.');
    const parse = (await run('SELECT count(* FROM silver_events'))!;
    expect(parse).toContain('Parser Error: syntax error at or near "FROM"');
    expect(parse.match(/LINE 1:/g)).toHaveLength(1);
    expect(await run('SELECT * FROM silver_evnts')).toContain('Did you mean "silver_events"?');
    const ext = (await run("SELECT * FROM read_parquet('x.parquet')"))!;
    expect(ext).toContain("read_parquet is in DuckDB's parquet extension, which this page does not load");
    expect(ext).not.toContain('INSTALL');
  });

  test('SHOW TABLES and information_schema list the lakehouse’s tables and nothing internal', async () => {
    const tables = (await page.evaluate(() => window.lakehouse.tables())).map((t) => t.view);
    expect(await run('SHOW TABLES')).toBeUndefined();
    expect((await grid(results().last())).map((r) => r[0])).toEqual(tables);
    expect(await run('SELECT table_name FROM information_schema.tables ORDER BY 1')).toBeUndefined();
    expect((await grid(results().last())).map((r) => r[0])).toEqual([...tables].sort());
  });

  test('several statements run in order, each with its result', async () => {
    expect(await run("SELECT 1 AS one;\nSELECT 'two' AS two; SELECT count(*) AS n FROM bronze_events")).toBeUndefined();
    expect(await results().count()).toBe(3);
    expect(await grid(results().nth(0))).toEqual([['1']]);
    expect(await grid(results().nth(1))).toEqual([['two']]);
    expect(await grid(results().nth(2))).toEqual([[String(EVENTS)]]);
    const failed = (await run('SELECT 1; SELECT nope FROM silver_events; SELECT 3'))!;
    expect(failed).toContain('Statement 2 of 3 failed; the ones after it did not run.');
    expect(await results().count()).toBe(1);
  });

  test('every row a page at a time, sorted by any column; CSV and Parquet downloads; copy', async () => {
    expect(await run('SELECT line_no, raw FROM bronze_events')).toBeUndefined();
    const status = page.getByTestId('sql-status');
    expect(await status.innerText()).toMatch(/^1,200 rows, showing 1–500/);
    await page.getByRole('button', { name: 'Next 500' }).click();
    await expect.poll(() => status.innerText()).toMatch(/^1,200 rows, showing 501–1,000/);
    await page.getByRole('button', { name: 'Next 500' }).click();
    await expect.poll(() => status.innerText()).toMatch(/^1,200 rows, showing 1,001–1,200/);
    await results().last().getByRole('button', { name: 'line_no', exact: true }).click();
    await expect.poll(async () => (await grid(results().last()))[0]?.[0]).toBe('1');
    expect(await page.locator('th[aria-sort="ascending"]').innerText()).toContain('line_no');
    await results().last().getByRole('button', { name: 'line_no', exact: true }).click();
    await expect.poll(async () => (await grid(results().last()))[0]?.[0]).toBe(String(EVENTS));

    const csvDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csvFile = join(dir, 'result.csv');
    await (await csvDownload).saveAs(csvFile);
    const lines = (await readFile(csvFile, 'utf8')).split('\r\n');
    expect([lines[0], lines.length, lines[1]!.split(',')[0]]).toEqual(['line_no,raw', EVENTS + 2, String(EVENTS)]);

    const parquetDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download Parquet' }).click();
    const parquetFile = join(dir, 'result.parquet');
    await (await parquetDownload).saveAs(parquetFile);
    engine.insertIPC('downloaded', decodeParquet(new Uint8Array(await readFile(parquetFile))));
    expect(engine.rows<{ n: bigint; first: bigint }>('SELECT count(*) AS n, first(line_no) AS first FROM downloaded')).toEqual([
      { n: BigInt(EVENTS), first: BigInt(EVENTS) },
    ]);

    await page.getByRole('button', { name: 'Copy rows' }).click();
    await page.getByTestId('result-note').filter({ hasText: 'Copied' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied.split('\n')[0]).toBe('line_no\traw');
    expect(copied.split('\n')).toHaveLength(501);
  });

  test('a CSV or JSON file dropped on the console becomes a table to query', async () => {
    const csv = join(dir, 'prices.csv');
    await import('node:fs/promises').then((fs) => fs.writeFile(csv, 'sku,price\r\na,2.5\r\nb,4\r\n'));
    await page.getByLabel('Query a file (CSV, Parquet, JSON) — or drop it anywhere on the page').setInputFiles(csv);
    await page.getByRole('list', { name: 'Files to query' }).getByText('prices.csv · 2 rows · sku, price').waitFor();
    expect(await run('SELECT sum(price) AS total FROM file_prices')).toBeUndefined();
    expect(await grid(results().last())).toEqual([['6.5']]);
    // dropped, as a file manager drops it
    const handle = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['{"k":1}\n{"k":2}\n'], 'keys.jsonl'));
      return dt;
    });
    await page.locator('section[aria-labelledby="sql-title"]').dispatchEvent('drop', { dataTransfer: handle });
    await page.getByRole('list', { name: 'Files to query' }).getByText('keys.jsonl · 2 rows · k').waitFor();
    expect(await run('SELECT max(k) FROM file_keys')).toBeUndefined();
    expect(await grid(results().last())).toEqual([['2']]);
  });

  test('the schema tree shows columns and versions and inserts names; history survives a reload', async () => {
    await typeSql(page, 'SELECT ');
    const tree = page.getByRole('navigation', { name: 'Tables and columns' });
    await tree.getByText('gold_engagement_bands', { exact: true }).click();
    const columns = tree.getByRole('list', { name: 'Columns of gold_engagement_bands' });
    await columns.waitFor();
    expect(await columns.getByRole('button').allInnerTexts()).toEqual(['band', 'sessions', 'share', 'avg_progress_pct']);
    await columns.getByRole('button', { name: 'band' }).click();
    expect(await sqlText(page)).toBe('SELECT band');
    await tree.getByRole('button', { name: '@v0' }).first().waitFor();

    await page.reload();
    await page.getByRole('tab', { name: 'SQL', exact: true }).click();
    const history = page.getByText(/^History \(\d+\)$/);
    await history.click();
    const past = await page.getByRole('list', { name: 'Statements run before, newest first' }).getByRole('button').allInnerTexts();
    expect(past[0]).toBe('SELECT max(k) FROM file_keys');
    expect(past).toContain('SELECT line_no, raw FROM bronze_events');
    expect(past).toContain('selec count(*) from silver_events');
    expect(session.errors).toEqual([]);
  });
});

/**
 * The editor is a chunk of its own; until it arrives the textarea is the editor. Typing under way
 * when it arrives must go on where it was: a selection in the textarea is the editor's selection.
 */
describe('the SQL console while its editor loads', () => {
  let server: StaticServer;
  let session: BrowserSession;
  beforeAll(async () => {
    // No service worker: the editor's chunk must come through page.route to be held back.
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser({ serviceWorkers: 'block' })]);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  test('text selected in the textarea stays selected when the editor takes over, and a key replaces it', async () => {
    const { page } = session;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = false;
    await page.route(/\/assets\/sql-editor-[^/]+\.js$/, async (route) => {
      asked = true;
      await held;
      await route.continue();
    });
    await page.goto(`${server.url}#sql`);
    const textarea = page.locator('textarea#sql-text');
    await textarea.waitFor();
    await expect.poll(() => asked, { timeout: 30_000 }).toBe(true);
    await textarea.focus();
    await page.keyboard.press('ControlOrMeta+A');
    const [start, end, length] = await textarea.evaluate((t: HTMLTextAreaElement) => [t.selectionStart, t.selectionEnd, t.value.length]);
    expect([start, end]).toEqual([0, length]);
    expect(length).toBeGreaterThan(0);
    release();
    await sqlEditor(page).waitFor({ timeout: 30_000 });
    expect(await textarea.count()).toBe(0);
    expect(await sqlEditor(page).evaluate((el) => el === document.activeElement || el.contains(document.activeElement))).toBe(true);
    expect(await page.evaluate(() => document.getSelection()?.toString())).toBe(await sqlText(page));
    // Delete goes through the editor's own command (a key typed over a selection set by code leaves an
    // empty last line in headless Chromium's synthesized input, even with the editor loaded long before).
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('SELECT 1 AS n');
    expect(await sqlText(page)).toBe('SELECT 1 AS n');
    expect(session.errors).toEqual([]);
  });
});

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DIST,
  grid,
  launchBrowser,
  runThroughForm,
  serveStatic,
  sqlEditor,
  sqlText,
  typeSql,
  waitForEngine,
  type BrowserSession,
  type StaticServer,
} from './harness.ts';

/** The console's editor (CodeMirror, a chunk of its own) and files dropped anywhere on the page. */
describe('the SQL editor and the page as a drop target', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  /** what the page itself asked for (not the service worker's precache) */
  const asked: string[] = [];
  const editorChunk = () => asked.filter((u) => /\/assets\/sql-editor-[\w-]+\.js$/.test(u));
  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();

  beforeAll(async () => {
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    page.on('request', (r) => void asked.push(r.url()));
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  test('the editor’s chunk is asked for only when the SQL tab opens', async () => {
    await runThroughForm(page, { seed: 5, events: 600, days: 10, invalidRate: 0.02 });
    for (const name of ['Dashboard', 'Explorer', 'Quality', 'Learn', 'Run']) {
      await tab(name);
      await page.waitForTimeout(200);
    }
    expect(asked.some((u) => u.includes('/assets/index-'))).toBe(true);
    expect(editorChunk()).toEqual([]);
    await tab('SQL');
    await sqlEditor(page).waitFor();
    expect(editorChunk()).toHaveLength(1);
    // the textarea it replaced is gone: one element is the SQL statement
    expect(await page.getByLabel('SQL statement').count()).toBe(1);
    expect(await page.getByLabel('SQL statement').getAttribute('role')).toBe('textbox');
  });

  test('SQL is highlighted in token spans: keywords, strings, numbers and comments each in their colour', async () => {
    await typeSql(page, "SELECT event_type, 42 AS n -- a note\nFROM silver_events WHERE event_type = 'session_start'");
    const colours = await sqlEditor(page).evaluate((el) => {
      const out: Record<string, string> = {};
      for (const span of el.querySelectorAll('.cm-line span')) out[span.textContent ?? ''] = getComputedStyle(span).color;
      out['(line)'] = getComputedStyle(el.querySelector('.cm-line')!).color;
      return out;
    });
    const { SELECT, FROM, WHERE, AS } = colours;
    expect(SELECT).toBeDefined();
    expect(new Set([SELECT, FROM, WHERE, AS]).size).toBe(1);
    const distinct = [SELECT, colours["'session_start'"], colours['42'], colours['-- a note'], colours['(line)']];
    expect(distinct.every((c) => c !== undefined)).toBe(true);
    expect(new Set(distinct).size).toBe(5);
    // names are not tokens of their own colour
    expect(colours.silver_events).toBeUndefined();
  });

  test('completion offers keywords, the lakehouse’s tables after a prefix, then the columns of the tables named; Ctrl+Enter runs', async () => {
    const options = page.locator('.cm-tooltip-autocomplete [role="option"]');
    const labels = () => options.evaluateAll((li) => li.map((o) => o.querySelector('.cm-completionLabel')?.textContent ?? ''));
    await typeSql(page, 'SELECT 1 ');
    await page.keyboard.type('ord', { delay: 20 });
    await expect.poll(labels).toContain('ORDER');

    await typeSql(page, '');
    await page.keyboard.type('SELECT count(*) AS n FROM silver_ev', { delay: 20 });
    await expect.poll(labels).toContain('silver_events');
    await page.getByRole('option', { name: 'silver_events' }).click();
    // closeBrackets added the `)` as `count(` was typed; it was typed over
    expect(await sqlText(page)).toBe('SELECT count(*) AS n FROM silver_events');

    await page.keyboard.type(' WHERE event_ty', { delay: 20 });
    await expect.poll(labels).toContain('event_type');
    await page.getByRole('option', { name: /^event_type/ }).click();
    await page.keyboard.type(" <> 'x'", { delay: 10 });
    await page.keyboard.press('Escape');
    expect(await sqlText(page)).toBe("SELECT count(*) AS n FROM silver_events WHERE event_type <> 'x'");

    const rows = await page.evaluate(() => window.lakehouse.query("SELECT count(*) AS n FROM silver_events WHERE event_type <> 'x'"));
    await page.keyboard.press('ControlOrMeta+Enter');
    const result = page.getByTestId('sql-result').last();
    await expect.poll(async () => (await grid(result))[0]?.[0]).toBe(String(rows.rows[0]![0]));
    expect(session.errors).toEqual([]);
  });

  test('the history and the examples set the editor’s text', async () => {
    await page.getByText(/^History \(\d+\)$/).click();
    const past = page.getByRole('list', { name: 'Statements run before, newest first' }).getByRole('button');
    expect(await past.first().innerText()).toBe("SELECT count(*) AS n FROM silver_events WHERE event_type <> 'x'");
    await page.getByRole('button', { name: 'Events per type' }).click();
    expect(await sqlText(page)).toBe('SELECT event_type, count(*) AS events\nFROM silver_events\nGROUP BY event_type\nORDER BY events DESC');
    await past.first().click();
    expect(await sqlText(page)).toBe("SELECT count(*) AS n FROM silver_events WHERE event_type <> 'x'");
  });

  /** Drag `files` over the page and drop them on `target`, as a file manager does. */
  async function drop(target: string, files: { name: string; text: string; type?: string }[]): Promise<void> {
    const transfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([f.text], f.name, { type: f.type ?? '' }));
      return dt;
    }, files);
    const at = page.locator(target).first();
    await at.dispatchEvent('dragenter', { dataTransfer: transfer });
    await at.dispatchEvent('dragover', { dataTransfer: transfer });
    await page.getByTestId('drop-overlay').waitFor();
    await at.dispatchEvent('drop', { dataTransfer: transfer });
    await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
  }

  test('a CSV dropped anywhere on the page (here the Run tab’s heading) becomes file_<name> and opens the SQL tab', async () => {
    await tab('Run');
    await page.getByRole('button', { name: 'Events per type' }).waitFor({ state: 'detached' });
    await drop('h1', [{ name: 'Sales 2024.csv', text: 'region,amount\nnorth,3\nsouth,4\nnorth,5\n', type: 'text/csv' }]);
    expect(await page.getByRole('tab', { name: 'SQL', exact: true }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('list', { name: 'Files to query' }).getByText('Sales 2024.csv · 3 rows · region, amount').waitFor();
    await typeSql(page, 'SELECT region, sum(amount) AS total FROM file_sales_2024 GROUP BY region ORDER BY region');
    await page.keyboard.press('ControlOrMeta+Enter');
    const result = page.getByTestId('sql-result').last();
    await expect
      .poll(() => grid(result))
      .toEqual([
        ['north', '8'],
        ['south', '4'],
      ]);
    // completion knows the file's columns too
    await typeSql(page, 'SELECT * FROM file_sales_2024 WHERE ');
    await page.keyboard.type('amo', { delay: 20 });
    await page.getByRole('option', { name: /^amount/ }).waitFor();
    await page.keyboard.press('Escape');
  });

  test('a .zip dropped beside the pickers says where it goes; dropped on a picker, that picker takes it', async () => {
    await tab('Explorer');
    await drop('h1', [{ name: 'lake.zip', text: 'not a zip', type: 'application/zip' }]);
    expect(await page.getByRole('status').filter({ hasText: 'lake.zip' }).innerText()).toContain(
      'lake.zip: a .zip is imported or opened in the Explorer tab — drop it on “Import a lakehouse (.zip)” or “Open a .zip of a Delta table” there.',
    );
    expect(await page.getByRole('tab', { name: 'Explorer', exact: true }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('button', { name: 'Dismiss' }).click();

    await drop('label:has-text("Open a .zip of a Delta table")', [{ name: 'broken.zip', text: 'not a zip', type: 'application/zip' }]);
    expect(await page.getByTestId('open-error').innerText()).toContain('broken.zip');
    expect(await page.getByRole('status').filter({ hasText: 'broken.zip' }).count()).toBe(0);
  });
});

describe('the SQL console without its editor chunk', () => {
  test('a chunk that cannot load leaves the textarea, which runs with Ctrl+Enter', async () => {
    const [server, session] = await Promise.all([serveStatic(DIST), launchBrowser({ serviceWorkers: 'block' })]);
    try {
      const { page } = session;
      await page.route(/\/assets\/sql-editor-[\w-]+\.js$/, (route) => route.abort());
      await page.goto(`${server.url}#sql`);
      expect(await waitForEngine(page)).toMatch(/^Engine ready/);
      const field = page.getByLabel('SQL statement');
      await field.fill('SELECT 6 * 7 AS answer');
      await field.press('ControlOrMeta+Enter');
      await expect.poll(async () => (await grid(page.getByTestId('sql-result').last()))[0]?.[0]).toBe('42');
      expect(await field.evaluate((el) => el.tagName)).toBe('TEXTAREA');
      expect(await sqlEditor(page).count()).toBe(0);
    } finally {
      await session.close();
      await server.close();
    }
  });
});

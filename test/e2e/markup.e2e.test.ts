import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { DIST, typeSql, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * User data is text, never markup: an uploaded file whose fields and lines are HTML shows them
 * as text in Quality, the explorer's rows and the SQL console, and nothing of it runs. And the
 * page's Content-Security-Policy allows the app's own origin only.
 */
const POLICY =
  "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; " +
  "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'";

const IMG = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
/** Accepted: markup in a string field and in an attribute. */
const ACCEPTED = JSON.stringify({
  event_id: 'xss-1',
  event_type: 'reader_dropoff',
  occurred_at: '2025-01-05T10:00:00Z',
  creator_id: 'c1',
  work_id: IMG,
  schema_version: 1,
  reader_id: SCRIPT,
  progress_pct: 40,
  attributes: { note: `${IMG}${SCRIPT}` },
});
/** Rejected at parse: a line that is nothing but markup. */
const MARKUP_LINE = '<img src=x onerror="window.__pwned=3"><script>window.__pwned=4</script><b>bold</b>';
/** Rejected by the schema (progress_pct out of range), markup in its id. */
const SCHEMA_REJECT = ACCEPTED.replace('"xss-1"', JSON.stringify('<script>window.__pwned=5</script>')).replace('"progress_pct":40', '"progress_pct":140');

describe('user data in the page', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();
  /** Nothing of the upload became an element or ran. */
  async function nothingRan(): Promise<void> {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    expect(await page.locator('#app b', { hasText: 'bold' }).count()).toBe(0);
  }

  beforeAll(async () => {
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  test('the Content-Security-Policy allows only the app’s own origin, and the browser enforces it', async () => {
    const metas = page.locator('meta[http-equiv="Content-Security-Policy"]');
    expect(await metas.count()).toBe(1);
    expect(await metas.getAttribute('content')).toBe(POLICY);
    // The browser enforces it: an inline script (even one the page inserts), an image and a request to another origin are refused.
    const tried = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.body.append(script);
      const img = document.createElement('img');
      img.src = 'http://example.invalid/x.png';
      document.body.append(img);
      const fetched = await fetch('http://example.invalid/data').then(
        () => 'fetched',
        (e: Error) => e.name,
      );
      await new Promise((r) => setTimeout(r, 500));
      script.remove();
      img.remove();
      return { inline: (window as unknown as { __inline?: unknown }).__inline, fetched, violations: violations.sort() };
    });
    expect(tried).toEqual({
      inline: undefined,
      fetched: 'TypeError',
      violations: ['connect-src http://example.invalid/data', 'img-src http://example.invalid/x.png', 'script-src-elem inline'],
    });
  });

  test('markup uploaded as events shows as text in Quality, rows and the SQL console, and never runs', async () => {
    await tab('Run');
    await page.getByLabel('Ingest a .jsonl file').setInputFiles({
      name: '<img src=x onerror="window.__pwned=6">.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(`${[ACCEPTED, MARKUP_LINE, SCHEMA_REJECT].join('\n')}\n`),
    });
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-rows="bronze"]').innerText()).toBe('3');
    expect(await page.locator('[data-rows="silver"]').innerText()).toBe('1');
    expect(await page.locator('[data-rows="rejects"]').innerText()).toBe('2');
    await nothingRan();

    // Quality: the rejected lines, raw, as text.
    await tab('Quality');
    const samples = page.locator('li.sample');
    await samples.first().waitFor();
    const raw = await samples.evaluateAll((items) =>
      items.map((li) => [li.getAttribute('data-stage'), li.querySelector('pre.raw')!.textContent, li.querySelector('pre.raw')!.children.length]),
    );
    expect(raw).toEqual([
      ['parse', MARKUP_LINE, 0],
      ['schema', SCHEMA_REJECT, 0],
    ]);
    // The file's name (markup too) is shown as text where Quality names the source.
    expect(await page.getByText('upload:<img src=x onerror="window.__pwned=6">.jsonl').count()).toBe(1);
    await nothingRan();

    // The explorer's rows of silver/events.
    await page.goto(`${server.url}#explorer/silver/events`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    const cell = page.locator('td', { hasText: IMG });
    await cell.first().waitFor();
    expect(await cell.first().innerText()).toBe(IMG);
    expect(await cell.first().evaluate((td) => td.children.length)).toBe(0);
    expect(await page.locator('td', { hasText: SCRIPT }).first().innerText()).toBe(SCRIPT);
    await nothingRan();

    // The SQL console.
    await tab('SQL');
    await typeSql(page, 'SELECT work_id, reader_id FROM silver_events UNION ALL SELECT raw, stage FROM silver_rejects ORDER BY 2');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByTestId('sql-status').waitFor();
    const grid = await page
      .locator('#panel tbody tr')
      .evaluateAll((rows) => rows.map((tr) => [...tr.querySelectorAll('td')].map((td) => [td.textContent, td.children.length])));
    expect(grid).toEqual([
      [
        [IMG, 0],
        [SCRIPT, 0],
      ],
      [
        [MARKUP_LINE, 0],
        ['parse', 0],
      ],
      [
        [SCHEMA_REJECT, 0],
        ['schema', 0],
      ],
    ]);
    await nothingRan();
    expect(session.errors.filter((e) => !/Content Security Policy|Content-Security-Policy/.test(e))).toEqual([]);
  });
});

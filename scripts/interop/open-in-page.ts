/**
 * `E2E_DIST=BUILD npx tsx scripts/interop/open-in-page.ts LAKEHOUSE.zip`: the built app in headless
 * Chromium (the e2e harness: static server, fresh profile), the .zip imported through the
 * Explorer's "Import a lakehouse (.zip)" as a user does, then what the page shows, as one JSON
 * object: the import's message, the Explorer's table nodes (path and their text), and each KPI
 * card of the dashboard (caption, column names, every cell as drawn), plus any page errors.
 */
import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, serveStatic, waitForEngine } from '../../test/e2e/harness.ts';

/** Every row of a card's table: a windowed table draws only the rows in view, so it is scrolled through. */
function allRows(region: Locator): Promise<(string | null)[][]> {
  return region.evaluate(async (el) => {
    const total = Number(el.querySelector('table')?.getAttribute('aria-rowcount')) - 1;
    const got = new Map<number, (string | null)[]>();
    // (no named functions in here: tsx would wrap them in a helper the page does not have)
    el.scrollTop = 0;
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    for (let step = 0; step < 10_000; step++) {
      for (const tr of el.querySelectorAll('tbody tr[data-row]')) {
        const cells = [...tr.querySelectorAll('td')].map((td) => (td.querySelector('.null') ? null : (td.textContent ?? '').trim()));
        got.set(Number(tr.getAttribute('aria-rowindex')), cells);
      }
      if (got.size >= total || el.scrollTop + el.clientHeight >= el.scrollHeight) break;
      el.scrollTop += Math.max(1, el.clientHeight - 30);
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    }
    return [...got.entries()].sort((a, b) => a[0] - b[0]).map(([, cells]) => cells);
  });
}

async function dashboard(page: Page) {
  await page.getByRole('tab', { name: 'Dashboard', exact: true }).click();
  const out: Record<string, { caption: string; columns: string[]; rows: (string | null)[][] }> = {};
  for (const kpi of GOLD_TABLES) {
    const card = page.locator(`article[data-kpi="${kpi}"]`);
    const caption = card.locator('caption');
    await caption.waitFor({ timeout: 60_000 });
    const region = card.getByRole('region');
    out[kpi] = {
      caption: ((await caption.textContent()) ?? '').trim(),
      columns: (await card.locator('thead th').allInnerTexts()).map((t) => t.trim()),
      rows: await allRows(region),
    };
  }
  return out;
}

async function main([zip]: string[]): Promise<void> {
  if (!zip) throw new Error('usage: open-in-page.ts LAKEHOUSE.zip (the app built in E2E_DIST)');
  const [server, browser] = await Promise.all([serveStatic(DIST), launchBrowser()]);
  try {
    const page = browser.page;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}#explorer`);
    const engine = await waitForEngine(page);
    await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(resolve(zip));
    const done = page.getByTestId('archive-result').or(page.getByRole('alert'));
    await done.first().waitFor({ timeout: 120_000 });
    const imported = ((await done.first().textContent()) ?? '').trim();
    const nodes = page.locator('figure.lineage button.node');
    await nodes.first().waitFor();
    // the lineage (each node's "from …") is read after the listing: wait for it, not past a while
    await page
      .waitForFunction(() => document.querySelectorAll('figure.lineage .from').length >= document.querySelectorAll('figure.lineage .node').length - 1, null, {
        timeout: 30_000,
      })
      .catch(() => {});
    const explorer = await nodes.evaluateAll((els) =>
      els.map((el) => ({
        path: el.querySelector('.path')?.textContent?.trim() ?? '',
        stats: el.querySelector('.stats')?.textContent?.trim() ?? '',
        from: el.querySelector('.from')?.textContent?.trim() ?? null,
        stale: el.querySelector('.stale') !== null,
      })),
    );
    const kpis = await dashboard(page);
    process.stdout.write(`${JSON.stringify({ engine, imported, explorer, dashboard: kpis, errors: browser.errors })}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

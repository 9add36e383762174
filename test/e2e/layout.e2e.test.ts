import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { DIST, typeSql, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Phone (390 px) and desktop (1280 px) layouts of every tab after a run: the page never scrolls
 * sideways, no control leaves its panel, and a table wider than its box sits in a focusable
 * scrolling region that shows an edge shadow where columns are cut.
 */
async function problems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) out.push(`the page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    const scroller = (el: Element): Element | null => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (/(auto|scroll)/.test(s.overflowX) && p.scrollWidth > p.clientWidth + 1) return p;
      }
      return null;
    };
    for (const el of document.querySelectorAll('#panel button, #panel input, #panel select, #panel textarea, #panel .cm-editor')) {
      const panel = el.closest('.panel');
      const r = el.getBoundingClientRect();
      if (!panel || r.width === 0 || scroller(el)) continue;
      const p = panel.getBoundingClientRect();
      if (r.right > p.right + 1 || r.left < p.left - 1)
        out.push(`${name(el)} leaves its panel (${Math.round(r.left)}–${Math.round(r.right)} of ${Math.round(p.left)}–${Math.round(p.right)})`);
    }
    for (const table of document.querySelectorAll('#panel table')) {
      const box = table.parentElement!;
      if (table.getBoundingClientRect().width <= box.clientWidth + 1) continue;
      const region = table.closest('[role="region"][tabindex="0"]');
      if (!region) out.push(`${name(table)} is cut with no scrolling region`);
      else if (!/more-(left|right)/.test(region.className)) out.push(`${name(table)} is cut with no scroll cue in ${name(region)}`);
    }
    return out;
  });
}

describe('layouts at phone and desktop width', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();

  beforeAll(async () => {
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await runThroughForm(page, { seed: 12, events: 1500, days: 20, invalidRate: 0.03 });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  for (const [width, height] of [
    [390, 844],
    [1280, 900],
  ] as const) {
    test(`every tab at ${width} px`, async () => {
      await page.setViewportSize({ width, height });
      const found: string[] = [];
      for (const t of ['Run', 'Dashboard', 'Explorer', 'Quality', 'SQL']) {
        await tab(t);
        if (t === 'Run') await page.getByRole('heading', { name: 'Run complete' }).waitFor();
        if (t === 'Dashboard') for (const kpi of GOLD_TABLES) await page.locator(`[data-kpi="${kpi}"] svg[role="img"]`).first().waitFor();
        if (t === 'Explorer') await page.locator('[data-column]').first().waitFor();
        if (t === 'Quality') await page.locator('li.sample').first().waitFor();
        if (t === 'SQL') {
          await typeSql(page, 'SELECT * FROM silver_events');
          await page.getByRole('button', { name: 'Run query' }).click();
          await page.getByTestId('sql-status').first().waitFor();
        }
        await page.waitForTimeout(300);
        for (const p of await problems(page)) found.push(`${t}: ${p}`);
      }
      expect(found).toEqual([]);
    });
  }
});

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { DIST, launchBrowser, sqlEditor, typeSql, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * An automated accessibility audit (axe-core, WCAG 2 A and AA rules and best practices) of every
 * tab after a run, at desktop and phone width, light and dark: no violation. The SQL tab with its editor loaded
 * (highlighted text, the completion list open), the Learn tab's list and a lesson with a step done.
 */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** axe's violations on the page as it is, each as "rule: selector, …". */
async function audit(page: Page, source: string): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's Content Security Policy does not stop it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.map((v: Violation) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('accessibility, measured', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let source: string;
  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();

  beforeAll(async () => {
    [server, session, source] = await Promise.all([serveStatic(DIST), launchBrowser(), readFile(AXE, 'utf8')]);
    page = session.page;
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await runThroughForm(page, { seed: 11, events: 1500, days: 20, invalidRate: 0.03 });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  for (const [width, height, colorScheme] of [
    [1280, 900, 'light'],
    [390, 844, 'light'],
    [1280, 900, 'dark'],
  ] as const) {
    test(`every tab at ${width} px${colorScheme === 'dark' ? ' in the dark scheme' : ''}: no violation`, async () => {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme });
      const found: string[] = [];
      for (const t of ['Run', 'Dashboard', 'Explorer', 'Quality', 'SQL', 'Learn']) {
        await tab(t);
        if (t === 'Dashboard') for (const kpi of GOLD_TABLES) await page.locator(`[data-kpi="${kpi}"] svg[role="img"]`).first().waitFor();
        if (t === 'Explorer') await page.locator('[data-column]').first().waitFor();
        if (t === 'Quality') await page.locator('li.sample').first().waitFor();
        if (t === 'SQL') {
          await page.getByRole('button', { name: 'Run query' }).click();
          await page.getByTestId('sql-status').first().waitFor();
          await page.getByText('silver_events', { exact: true }).first().click();
          await typeSql(page, "SELECT event_type, 42 AS n -- a note\nFROM silver_events WHERE event_type <> 'x' AND ");
          await sqlEditor(page).pressSequentially('ev', { delay: 20 });
          await page.locator('.cm-tooltip-autocomplete [role="option"]').first().waitFor();
        }
        if (t === 'Learn') {
          await page.locator('.lessons').waitFor();
          for (const v of await audit(page, source)) found.push(`Learn (lessons): ${v}`);
          await page.locator('.lessons [data-lesson="layers"] a').click();
          const step = page.locator('article[data-lesson="layers"] [data-step]').first();
          await step.getByRole('button').click();
          await step.and(page.locator('[data-state="done"]')).waitFor({ timeout: 90_000 });
        }
        for (const v of await audit(page, source)) found.push(`${t}: ${v}`);
        if (t === 'SQL') await page.keyboard.press('Escape');
        if (t === 'Learn') await page.getByRole('link', { name: 'All lessons' }).click();
      }
      expect(found).toEqual([]);
    });
  }
});

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DIST, ROOT, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A newcomer walks through every lesson of the Learn tab in Chromium: presses each step's button,
 * reads what it shows, answers the check question. What each step shows is checked against the
 * sandbox lakehouse itself (through the worker's api, as window.lakehouse), and the user's own
 * lakehouse stays empty throughout. Screenshots at phone and desktop width go to .tmp/screenshots.
 */
const SHOTS = join(ROOT, '.tmp', 'screenshots');

describe('the Learn tab, lesson by lesson', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}#learn`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  /** Press a step's button and wait for what it shows; a step that fails fails the test with its message. */
  async function step(id: string): Promise<ReturnType<Page['locator']>> {
    const s = page.locator(`[data-step="${id}"]`);
    await s.getByRole('button').click();
    await s.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 90_000 });
    if ((await s.getAttribute('data-state')) === 'error') throw new Error(`step ${id}: ${await s.locator('[role="alert"]').innerText()}`);
    return s;
  }

  /** Answer the check question wrong first, then right, and read the feedback each time. */
  async function check(wrong: string, right: string): Promise<void> {
    const c = page.locator('.check');
    await c.getByLabel(wrong).check();
    expect(await c.locator('.feedback').getAttribute('data-right')).toBe('no');
    await c.getByLabel(right).check();
    expect(await c.locator('.feedback').getAttribute('data-right')).toBe('yes');
    expect(await c.locator('.feedback strong').innerText()).toBe('Right.');
  }

  /** The lesson at both widths, for the eye: nothing may scroll sideways. */
  async function shots(name: string): Promise<void> {
    for (const [width, height, label] of [[390, 844, 'phone'], [1280, 900, 'desktop']] as const) {
      await page.setViewportSize({ width, height });
      const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      expect(scrollWidth, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(clientWidth);
      await page.screenshot({ path: join(SHOTS, `learn-${name}-${label}.png`), fullPage: true });
    }
  }

  const open = async (id: string): Promise<void> => {
    await page.locator(`.lessons [data-lesson="${id}"] a`).click();
    await page.locator(`article[data-lesson="${id}"]`).waitFor();
    expect(page.url()).toContain(`#learn/${id}`);
  };
  const backToList = async (): Promise<void> => {
    await page.getByRole('link', { name: 'All lessons' }).click();
    await page.locator('.lessons').waitFor();
  };

  test('the list names every lesson, and the user’s lakehouse is empty', async () => {
    await page.locator('.lessons').waitFor();
    expect(await page.locator('.lessons li a').allInnerTexts()).toEqual([
      '1 Bronze, silver, gold',
      '2 What a commit holds',
      '3 Time travel',
      '4 Contracts and expectations',
      '5 OPTIMIZE and VACUUM',
      '6 Checkpoints',
      '7 Optimistic concurrency',
      '8 Idempotence',
    ]);
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
  });

  test('layers: a batch of 40 lines goes to bronze whole, to silver or rejects, and gold is recomputed', async () => {
    await open('layers');
    const s = await step('batch');
    const tables = await page.evaluate(() => window.lakehouse.learnTables());
    const rows = Object.fromEntries(tables.map((t) => [t.path, t.rows]));
    expect(rows['bronze/events']).toBe(40);
    expect(rows['silver/events']! + rows['silver/rejects']!).toBe(40);
    expect(await s.getByTestId('layers-summary').innerText()).toBe(
      `Bronze took all 40 lines in one commit. Silver kept ${rows['silver/events']} and rejected ${rows['silver/rejects']}: together they account for every line. Then every gold table was recomputed from silver.`,
    );
    expect(await s.locator('[data-layer="rejects"] text').allTextContents()).toEqual(['silver/rejects', `+${rows['silver/rejects']} rows · v0`]);
    expect(await s.locator('[data-layer="bronze"] text').allTextContents()).toEqual(['bronze/events', '+40 rows · v0']);
    const r = await step('rejects');
    const stages = await r.locator('tbody tr td:first-child').allInnerTexts();
    expect(stages).toHaveLength(rows['silver/rejects']!);
    for (const st of stages) expect(['parse', 'schema', 'expectation', 'duplicate']).toContain(st);
    await check('Nowhere: invalid lines are dropped on arrival.', 'In bronze as received, and in silver/rejects with the reason — not in silver/events.');
    await shots('layers');
    // the lesson never wrote to the user's lakehouse
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual([]);
  });

  test('progress is kept across a reload, and a lesson opens from its link', async () => {
    await backToList();
    expect(await page.locator('.lessons [data-lesson="layers"] .state').innerText()).toBe('✓ done');
    await page.goto(`${server.url}#learn/layers`);
    await page.locator('article[data-lesson="layers"]').waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Bronze, silver, gold');
    await backToList();
    expect(await page.locator('.lessons [data-lesson="layers"] .state').innerText()).toBe('✓ done');
  });
});

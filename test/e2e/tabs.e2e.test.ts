import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openNodeEngine } from '../../src/engine/node.ts';
import type { Engine } from '../../src/engine/types.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { copyOutOfOpfs } from '../reliability/browser-trials.ts';
import { checkLakehouse } from '../reliability/invariants.ts';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Three tabs of the app (one browser profile, one OPFS) start the pipeline at the same moment.
 * A run holds a Web Lock for its whole length, so while one runs the others say they wait; no
 * commit is lost or overwritten, versions are contiguous and every batch is whole.
 *
 * A fourth page holds the run lock while the three are started, so that all three are waiting
 * at once however slowly the machine clicks (a run of 1,200 events can end before a loaded
 * machine clicks the next tab); then it lets go and the three take the lock one after another.
 */
const RUN_LOCK = 'creatorops-lakehouse-run';
const WAITING = 'Waiting for another tab’s run to finish…';
const RUNS = [
  { seed: 21, events: 1200 },
  { seed: 22, events: 900 },
  { seed: 23, events: 700 },
];

describe('several tabs running the pipeline at once', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let engine: Engine;
  let work: string;

  beforeAll(async () => {
    initParquet();
    [server, session, engine, work] = await Promise.all([serveStatic(DIST), launchBrowser(), openNodeEngine(), mkdtemp(join(tmpdir(), 'tabs-e2e-'))]);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('each says it waits while another holds the run lock, then they run one at a time, and every batch lands whole at its own version', async () => {
    const tabs: Page[] = [session.page, await session.context.newPage(), await session.context.newPage()];
    for (const [i, page] of tabs.entries()) {
      await page.goto(server.url);
      expect(await waitForEngine(page)).toMatch(/^Engine ready/);
      await page.getByRole('tab', { name: 'Run', exact: true }).click();
      await page.getByLabel('Seed', { exact: true }).fill(String(RUNS[i]!.seed));
      await page.getByLabel('Events', { exact: true }).fill(String(RUNS[i]!.events));
      await page.getByLabel('Days', { exact: true }).fill('30');
      await page.getByLabel('Invalid rate', { exact: true }).fill('0.02');
      // Record every text the waiting line shows, however briefly.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { waitingSeen: string[] }).waitingSeen = seen;
        new MutationObserver(() => {
          const text = document.querySelector('[data-testid="run-waiting"]')?.textContent;
          if (text && seen.at(-1) !== text) seen.push(text);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
    }

    const holder = await session.context.newPage();
    await holder.goto(server.url);
    await holder.evaluate(
      (name) =>
        new Promise<void>((held) => {
          void navigator.locks.request(
            name,
            () =>
              new Promise<void>((release) => {
                (window as unknown as { releaseRunLock: () => void }).releaseRunLock = release;
                held();
              }),
          );
        }),
      RUN_LOCK,
    );
    await Promise.all(tabs.map((page) => page.getByRole('button', { name: 'Run pipeline' }).click()));
    for (const page of tabs) await page.getByTestId('run-waiting').waitFor({ timeout: 60_000 });
    const t0 = Date.now();
    await holder.evaluate(() => (window as unknown as { releaseRunLock: () => void }).releaseRunLock());
    const ended = await Promise.all(
      tabs.map(async (page) => {
        await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 300_000 });
        return Date.now() - t0;
      }),
    );
    console.log(`three tabs at once: runs complete after ${ended.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`);

    const seen = await Promise.all(tabs.map((page) => page.evaluate(() => (window as unknown as { waitingSeen: string[] }).waitingSeen)));
    // Each tab said it waits, with these words, once.
    expect(seen).toEqual([[WAITING], [WAITING], [WAITING]]);
    // Once a run finished, nothing says "waiting" any more.
    for (const page of tabs) expect(await page.getByTestId('run-waiting').count()).toBe(0);

    // What each tab reports: its batch, the bronze version it committed, the version of each gold table.
    const reports = await Promise.all(
      tabs.map(async (page) => {
        const result = page.locator('.result.ok');
        const cells = async (name: string) =>
          await result
            .locator('tr', { has: page.locator('td', { hasText: new RegExp(`^${name}$`) }) })
            .locator('td')
            .allInnerTexts();
        const gold: Record<string, number> = {};
        for (const kpi of GOLD_TABLES) gold[kpi] = Number((await cells(`gold/${kpi}`))[1]!.slice(1));
        return {
          batch: await result.locator('p code').first().innerText(),
          bronzeVersion: Number((await cells('bronze/events'))[1]!.slice(1)),
          bronzeRows: Number((await result.locator('[data-rows="bronze"]').innerText()).replace(/,/g, '')),
          gold,
        };
      }),
    );
    expect(reports.map((r) => r.bronzeRows)).toEqual(RUNS.map((r) => r.events));
    // Bronze versions 0, 1, 2: one each, none shared (a shared one would be an overwrite).
    expect(reports.map((r) => r.bronzeVersion).sort()).toEqual([0, 1, 2]);
    for (const kpi of GOLD_TABLES) expect(reports.map((r) => r.gold[kpi]).sort()).toEqual([0, 1, 2]);

    // The tables themselves, copied out of OPFS and checked by the validator and SPEC §2.
    await copyOutOfOpfs(tabs[0]!, work);
    const storage = new NodeStorage(work);
    for (const r of reports) {
      const commit = await readFile(join(work, 'bronze/events/_delta_log', `${String(r.bronzeVersion).padStart(20, '0')}.json`), 'utf8');
      const info = commit
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { commitInfo?: { operationParameters: { batchId: string } } })
        .find((a) => a.commitInfo);
      expect(info?.commitInfo?.operationParameters.batchId).toBe(r.batch);
    }
    const check = await checkLakehouse(storage, engine, { complete: true });
    expect(check.problems).toEqual([]);
    expect(check.bronzeVersion).toBe(2);
    expect(check.processed).toBe(2);
    expect(check.batchesChecked).toBe(3);
    expect(check.bronzeRows).toBe(RUNS.reduce((s, r) => s + r.events, 0));
    expect(check.untrackedFiles).toBe(0);
    for (const kpi of GOLD_TABLES) expect(check.versions[`gold/${kpi}`]).toBe(2);
    expect(session.errors).toEqual([]);
  }, 420_000);
});

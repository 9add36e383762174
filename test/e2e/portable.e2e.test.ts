import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { zip } from '../../src/zip.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';
import { testEngine } from '../helpers/engine.ts';
import { DIST, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Issue 7, items 2 and 3, in the page: the whole lakehouse exported from profile A and imported
 * into a fresh profile B with every version; OPTIMIZE and VACUUM of one table from the explorer.
 */
const RUNS = [
  { seed: 11, events: 700, days: 12, invalidRate: 0.03 },
  { seed: 12, events: 500, days: 12, invalidRate: 0.03 },
  { seed: 13, events: 600, days: 12, invalidRate: 0.03 },
];

describe('export and import the lakehouse; optimize and vacuum from the explorer', () => {
  let server: StaticServer;
  let a: BrowserSession;
  let work: string;
  let engine: Engine;
  let exported: string;

  const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true }).click();
  const tables = (page: Page) => page.evaluate(() => window.lakehouse.tables());
  /** every table's reachable versions */
  const versions = (page: Page) =>
    page.evaluate(async () => {
      const out: Record<string, number[]> = {};
      for (const t of await window.lakehouse.tables()) out[t.path] = (await window.lakehouse.table(t.path)).versions;
      return out;
    });
  /** every gold table's rows at a version (default latest), sorted */
  const gold = (page: Page, version?: number) =>
    page.evaluate(
      async ([kpis, v]) => {
        const out: Record<string, string[]> = {};
        for (const k of kpis) out[k] = (await window.lakehouse.goldTable(k, v)).rows.map((r) => JSON.stringify(r)).sort();
        return out;
      },
      [GOLD_TABLES as readonly string[], version] as const,
    );
  /** every row of a table at a version (default latest), page by page, sorted */
  const rows = (page: Page, path: string, version?: number) =>
    page.evaluate(
      async ([p, v]) => {
        const out: string[] = [];
        for (let offset = 0; ; offset += 1000) {
          const got = await window.lakehouse.rows(p, v, 1000, offset);
          out.push(...got.rows.map((r) => JSON.stringify(r)));
          if (offset + 1000 >= got.total) return out.sort();
        }
      },
      [path, version] as const,
    );
  const count = async (page: Page, sql: string) => (await page.evaluate((q) => window.lakehouse.query(q), sql)).rows[0]![0];

  beforeAll(async () => {
    [server, a, work, engine] = await Promise.all([serveStatic(DIST), launchBrowser(), mkdtemp(join(tmpdir(), 'e2e-portable-')), testEngine()]);
    const page = a.page;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    for (const o of RUNS) {
      await runThroughForm(page, o);
    }
  }, 300_000);
  afterAll(async () => {
    await a?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('export from A: one .zip that unzips to a valid Delta table per table, each with its whole log', { timeout: 110_000 }, async () => {
    const page = a.page;
    await tab(page, 'Explorer');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export lakehouse (.zip)' }).click()]);
    expect(download.suggestedFilename()).toBe('creatorops-lakehouse.zip');
    exported = join(work, 'creatorops-lakehouse.zip');
    await download.saveAs(exported);
    await page
      .getByTestId('archive-result')
      .filter({ hasText: /^Exported 10 tables \(/ })
      .waitFor();

    const out = join(work, 'unzipped');
    execFileSync('unzip', ['-q', exported, '-d', out]);
    expect(await readdir(out)).toEqual(['creatorops-lakehouse']);
    const storage = new NodeStorage(join(out, 'creatorops-lakehouse'));
    const inPage = await tables(page);
    expect(inPage.map((t) => t.path).sort()).toEqual(
      ['bronze/events', 'silver/events', 'silver/quality', 'silver/rejects', ...GOLD_TABLES.map((k) => `gold/${k}`)].sort(),
    );
    for (const t of inPage) {
      expect(t.version, t.path).toBe(RUNS.length - 1);
      const commits = (await storage.list(`${t.path}/_delta_log`)).filter((f) => f.path.endsWith('.json')).length;
      expect(commits, t.path).toBe(RUNS.length);
      expect(await validateDeltaTable(storage, t.path, engine), t.path).toEqual([]);
    }
  });

  test('import into a fresh profile B: every version list, the gold rows and time travel equal A’s', { timeout: 110_000 }, async () => {
    const b = await launchBrowser();
    try {
      const page = b.page;
      await page.goto(`${server.url}#explorer`);
      expect(await waitForEngine(page)).toMatch(/^Engine ready/);
      expect(await tables(page)).toEqual([]);

      // An archive without a Delta table is refused, and nothing is written.
      const notes = join(work, 'notes.zip');
      await writeFile(notes, zip([{ name: 'notes/readme.txt', data: new TextEncoder().encode('no table here') }]));
      await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(notes);
      await page.getByRole('alert').filter({ hasText: 'notes.zip holds no Delta table' }).waitFor();
      expect(await tables(page)).toEqual([]);

      await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(exported);
      await page
        .getByTestId('archive-result')
        .filter({ hasText: /^Imported 10 tables with their whole history/ })
        .waitFor({ timeout: 60_000 });
      expect(await versions(page)).toEqual(await versions(a.page));
      expect(await gold(page)).toEqual(await gold(a.page));
      // Time travel to the first version, in B as in A.
      expect(await gold(page, 0)).toEqual(await gold(a.page, 0));
      expect(await gold(page, 0)).not.toEqual(await gold(page));
      expect(await rows(page, 'silver/rejects', 0)).toEqual(await rows(a.page, 'silver/rejects', 0));
      const v0 = 'SELECT count(*) FROM silver_events@v0';
      expect(await count(page, v0)).toBe(await count(a.page, v0));
      expect(Number(await count(page, v0))).toBeLessThan(Number(await count(page, 'SELECT count(*) FROM silver_events')));
      // The explorer lists the imported tables.
      await page
        .getByRole('button', { name: /silver\/events/ })
        .first()
        .waitFor();

      // A lakehouse with tables is not replaced unless the user says so.
      let question = '';
      page.once('dialog', (d) => {
        question = d.message();
        void d.dismiss();
      });
      await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(exported);
      await page.getByTestId('archive-result').filter({ hasText: 'Import cancelled: the lakehouse is unchanged.' }).waitFor();
      expect(question).toMatch(/^Replace the lakehouse in this browser with the 10 tables of creatorops-lakehouse\.zip \(bronze\/events \(v\d+\), /);
      expect(question).toContain('10 tables');
      expect(await versions(page)).toEqual(await versions(a.page));
      expect(b.offOrigin(server.origin)).toEqual([]);
      expect(b.errors).toEqual([]);
    } finally {
      await b.close();
    }
  });

  test('optimize a table: same rows, fewer files, time travel within retention still works', { timeout: 110_000 }, async () => {
    const page = a.page;
    await page.goto(`${server.url}#explorer/silver/events`);
    await waitForEngine(page);
    const before = (await tables(page)).find((t) => t.path === 'silver/events')!;
    expect(before.files).toBeGreaterThanOrEqual(2);
    const latest = await rows(page, 'silver/events');
    const v1 = await rows(page, 'silver/events', 1);
    expect(latest.length).toBe(before.rows);

    await page.getByRole('button', { name: 'Optimize', exact: true }).click();
    const report = page.getByTestId('maintenance-result');
    await report.filter({ hasText: /^Optimized: / }).waitFor({ timeout: 60_000 });
    expect(await report.innerText()).toContain(`${before.files} files`);
    expect(await report.innerText()).toContain(`compacted into 1 file`);
    expect(await report.innerText()).toContain(`as version ${before.version + 1}`);

    const after = (await tables(page)).find((t) => t.path === 'silver/events')!;
    expect(after.version).toBe(before.version + 1);
    expect(after.files).toBe(1);
    expect(after.files).toBeLessThan(before.files);
    expect(after.rows).toBe(before.rows);
    expect(await rows(page, 'silver/events')).toEqual(latest);
    expect(await rows(page, 'silver/events', 1)).toEqual(v1);
    const details = await page.evaluate(() => window.lakehouse.table('silver/events'));
    expect(details.history[0]!.operation).toBe('OPTIMIZE');
    // The page shows the new version and its one file.
    await page.getByRole('heading', { name: `Data files at version ${after.version}` }).waitFor();
  });

  test('vacuum with retention 0 only after an explicit confirm: unreferenced files go, the current version reads the same', { timeout: 110_000 }, async () => {
    const page = a.page;
    const dataFiles = async () => (await page.evaluate(() => window.lakehouse.listFiles('silver/events'))).filter((f) => !f.path.includes('/_delta_log/'));
    const before = await dataFiles();
    const latest = await rows(page, 'silver/events');
    const table = (await tables(page)).find((t) => t.path === 'silver/events')!;
    expect(before.length).toBe(RUNS.length + 1);

    await page.getByLabel('Retention (hours)').fill('0');
    let question = '';
    page.once('dialog', (d) => {
      question = d.message();
      void d.dismiss();
    });
    await page.getByRole('button', { name: 'Vacuum', exact: true }).click();
    await page.getByTestId('maintenance-result').filter({ hasText: 'Vacuum cancelled: nothing was deleted.' }).waitFor();
    expect(question).toMatch(/^Vacuum silver\/events with a retention of 0 hours\?/);
    expect(question).toContain('versions older than that can no longer be read');
    expect(await dataFiles()).toEqual(before);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Vacuum', exact: true }).click();
    const report = page.getByTestId('maintenance-result').filter({ hasText: /^Vacuumed: / });
    await report.waitFor({ timeout: 60_000 });
    const left = await dataFiles();
    expect(left.length).toBe(1);
    const gone = before.filter((f) => !left.some((l) => l.path === f.path));
    expect(gone.length).toBe(RUNS.length);
    const reclaimed = gone.reduce((s, f) => s + f.size, 0);
    expect(await report.innerText()).toContain(`deleted ${RUNS.length} files`);
    expect(reclaimed).toBeGreaterThan(0);
    expect(left[0]!.size).toBe(table.bytes);
    expect(await rows(page, 'silver/events')).toEqual(latest);
    // What the confirm said: the version before the OPTIMIZE can no longer be read.
    await expect(page.evaluate(() => window.lakehouse.rows('silver/events', 1))).rejects.toThrow();
    expect(a.offOrigin(server.origin)).toEqual([]);
    expect(a.errors).toEqual([]);
  });
});

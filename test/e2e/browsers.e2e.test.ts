import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeContext } from '../../src/cli/context.ts';
import { jsonLines } from '../../src/delta/export.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import type { Engine } from '../../src/engine/types.ts';
import { decodeParquet } from '../../src/parquet/codec.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch, type RunSummary } from '../../src/pipeline/lakehouse.ts';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { unzip } from '../../src/unzip.ts';
import { zip } from '../../src/zip.ts';
import { openTab, type EngineName, type Tab } from './engines.ts';
import { DIST, ROOT, serveStatic, type StaticServer } from './harness.ts';
import { cells, openSection, runThroughForm, saveThrough, uploadThrough, whenStarted } from './journey.ts';

/**
 * The same journey in every engine and window a newcomer may use: open the page, run a small
 * pipeline through the form, read the KPIs, look at a table in the explorer and query it back in
 * time, download a gold table as Parquet and export the lakehouse, then reload. Every value is
 * checked against the same run done in this process by the command line's code. Where a browser
 * offers no private file system the tables live in memory: the banner says so, the reload finds the
 * lakehouse empty, and importing the exported .zip brings it back.
 */
const RUN = { seed: 5, events: 3000, days: 30, invalidRate: 0.02 };
const OPFS = 'OPFS lakehouse/';
const MEMORY = 'memory (this tab only)';
const SHOTS = join(ROOT, '.tmp', 'screenshots');

interface Mode {
  engine: EngineName;
  private: boolean;
  storage: string;
  /** what the banner names (data-feature), in order */
  limitations: string[];
}

const MODES: Mode[] = [
  { engine: 'chromium', private: false, storage: OPFS, limitations: [] },
  // Chromium's incognito profile keeps OPFS (in memory, gone with the profile) and service workers.
  { engine: 'chromium', private: true, storage: OPFS, limitations: [] },
  { engine: 'firefox', private: false, storage: OPFS, limitations: [] },
  // Firefox refuses OPFS in a private window ("Security error when calling GetDirectory").
  { engine: 'firefox', private: true, storage: MEMORY, limitations: ['opfs'] },
  // WebKitGTK 2.50 under WebKitWebDriver has no navigator.storage at all.
  { engine: 'webkit', private: false, storage: MEMORY, limitations: ['opfs'] },
];

describe('the same journey in every engine', () => {
  let server: StaticServer;
  let engine: Engine;
  let cliDir: string;
  let cli: RunSummary;

  async function cliRows(table: string): Promise<string[]> {
    const storage = new NodeStorage(cliDir);
    const snapshot = await loadSnapshot(storage, table);
    await scanIntoEngine(engine, storage, snapshot, 'cli_table');
    return [...jsonLines(engine, 'cli_table', snapshot.schema)].sort();
  }

  /** Rows as JSON with their keys in name order: WebDriver hands an object's keys over in its own order. */
  const canonical = (row: object): string => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))));
  const normal = (lines: string[]): string[] => lines.map((l) => canonical(JSON.parse(l) as object)).sort();

  beforeAll(async () => {
    initParquet();
    [server, engine, cliDir] = await Promise.all([
      serveStatic(DIST),
      openNodeEngine(),
      mkdtemp(join(tmpdir(), 'cli-browsers-')),
      mkdir(SHOTS, { recursive: true }),
    ]);
    cli = await runBatch(nodeContext(engine, cliDir), generateEvents(RUN), 'generator', RUN.events);
  });

  afterAll(async () => {
    await server?.close();
    await rm(cliDir, { recursive: true, force: true });
  });

  for (const mode of MODES) {
    const name = `${mode.engine}${mode.private ? ' (private)' : ''}`;
    test(`${name}: run, KPIs, explorer, a Parquet download, an export, a table opened from a .zip, a reload${mode.storage === OPFS ? '' : ' and an import'} — tables in ${mode.storage}`, {
      timeout: 300_000,
    }, async () => {
      const tab: Tab = await openTab(mode.engine, { private: mode.private });
      try {
        await tab.goto(server.url);
        const started = await whenStarted(tab);
        expect(started.status, tab.label).toMatch(
          new RegExp(
            `^Engine ready — DuckDB v1\\.4\\.3 duckdb-wasm 1\\.32\\.0 · tables in ${mode.storage.replace(/[()/]/g, '\\$&')} · started \\d+\\.\\d s after the page opened$`,
          ),
        );
        expect(started.limitations, tab.label).toEqual(mode.limitations);

        const shown = await runThroughForm(tab, RUN);
        const silver = cli.silver[0]!;
        expect(shown, tab.label).toEqual({
          bronze: '3,000',
          silver: silver.silverRows.toLocaleString('en-US'),
          rejects: silver.rejectedRows.toLocaleString('en-US'),
        });

        // The dashboard: a chart per gold table, each table's rows those of `cli run`.
        expect(await openSection(tab, 'Dashboard', '[data-kpi] svg[role="img"]', GOLD_TABLES.length)).toBeGreaterThanOrEqual(GOLD_TABLES.length);
        for (const kpi of GOLD_TABLES) {
          const gold = await tab.evaluate((k) => window.lakehouse.goldTable(k), kpi);
          expect(gold.rows.map(canonical).sort(), `${tab.label}: ${kpi}`).toEqual(normal(await cliRows(`gold/${kpi}`)));
        }
        const bands = (await cliRows('gold/engagement_bands')).map((l) => JSON.parse(l) as { band: string; sessions: number });
        expect((await cells(tab, '[data-kpi="engagement_bands"]', 2)).sort()).toEqual(bands.map((b) => [b.band, b.sessions.toLocaleString('en-US')]).sort());
        await tab.screenshot(join(SHOTS, `browsers-${mode.engine}${mode.private ? '-private' : ''}.png`));

        // A gold table downloaded as Parquet holds exactly its rows.
        const parquet = await saveThrough(tab, 'Download stage_bottlenecks as Parquet');
        expect(parquet.name).toBe('stage_bottlenecks.parquet');
        const bytes = Buffer.from(parquet.base64, 'base64');
        expect(bytes.subarray(0, 4).toString('latin1')).toBe('PAR1');
        expect(bytes.subarray(-4).toString('latin1')).toBe('PAR1');
        const storage = new NodeStorage(cliDir);
        engine.insertIPC('downloaded', decodeParquet(new Uint8Array(bytes)));
        const schema = (await loadSnapshot(storage, 'gold/stage_bottlenecks')).schema;
        expect([...jsonLines(engine, 'downloaded', schema)].sort()).toEqual(await cliRows('gold/stage_bottlenecks'));

        // The explorer: silver/events with its row count; SQL on it now and at version 0.
        await openSection(tab, 'Explorer', '[data-testid="table-rows"]');
        expect(await tab.evaluate(() => document.querySelector('#table-title')?.textContent?.replace(/\s+/g, ' ').trim())).toBe('silver silver/events');
        expect(await tab.evaluate(() => document.querySelector('[data-testid="table-rows"]')?.textContent?.trim())).toBe(
          silver.silverRows.toLocaleString('en-US'),
        );
        const counted = await tab.evaluate(() => window.lakehouse.query('SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM silver_events@v0'));
        expect(counted.rows).toEqual([[String(silver.silverRows), String(silver.silverRows)]]);

        // The whole lakehouse as a .zip: every table's log and files.
        const archive = await saveThrough(tab, 'Export lakehouse (.zip)');
        expect(archive.name).toBe('creatorops-lakehouse.zip');
        const entries = await unzip(new Uint8Array(Buffer.from(archive.base64, 'base64')));
        const logs = entries.filter((e) => e.name.endsWith('/_delta_log/00000000000000000000.json')).map((e) => e.name.replace(/\/_delta_log\/.*$/, ''));
        const tables = await tab.evaluate(() => window.lakehouse.tables());
        expect(logs.sort()).toEqual(tables.map((t) => `creatorops-lakehouse/${t.path}`).sort());
        expect(tables.length).toBe(GOLD_TABLES.length + 4);

        // One table of it as a .zip of its own, opened read-only as a table from elsewhere would be.
        const prefix = 'creatorops-lakehouse/gold/engagement_bands/';
        const single = zip(
          entries.filter((e) => e.name.startsWith(prefix)).map((e) => ({ name: `engagement_bands/${e.name.slice(prefix.length)}`, data: e.data })),
        );
        const opened = await uploadThrough(
          tab,
          'Open a .zip of a Delta table',
          { name: 'engagement_bands.zip', base64: Buffer.from(single).toString('base64') },
          'opened-table',
        );
        expect(opened, tab.label).toContain('opened/engagement_bands');
        expect(opened, tab.label).toContain(`version ${tables.find((t) => t.path === 'gold/engagement_bands')!.version}`);

        // A reload: the tables stay in OPFS; in memory they are gone, and the banner says so again.
        // The tables are listed before the engine starts: no need to wait for it.
        await tab.reload();
        const again = await whenStarted(tab, 'open');
        expect(again.limitations).toEqual(mode.limitations);
        const after = await tab.evaluate(() => window.lakehouse.tables());
        const versions = (list: typeof tables): string[] => list.map((t) => `${t.path}@${t.version}`).sort();
        if (mode.storage === OPFS) {
          expect(versions(after)).toEqual(versions(tables));
        } else {
          // Gone with the tab, as the banner said; the exported .zip brings every table back.
          expect(after).toEqual([]);
          await openSection(tab, 'Explorer', 'input[type="file"][accept^=".zip"]');
          const imported = await uploadThrough(tab, 'Import a lakehouse (.zip)', archive, 'archive-result');
          expect(imported).toMatch(new RegExp(`^Imported ${tables.length} tables with their whole history from creatorops-lakehouse\\.zip: `));
          expect(versions(await tab.evaluate(() => window.lakehouse.tables()))).toEqual(versions(tables));
          const bands = await tab.evaluate(() => window.lakehouse.goldTable('engagement_bands'));
          expect(bands.rows.map(canonical).sort()).toEqual(normal(await cliRows('gold/engagement_bands')));
        }
      } finally {
        await tab.close();
      }
    });
  }
});

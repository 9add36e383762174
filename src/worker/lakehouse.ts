import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { jsonLines } from '../delta/export.ts';
import { encodeParquet } from '../parquet/codec.ts';
import { GOLD_KPIS, TABLES, goldTable } from '../pipeline/tables.ts';
import type { RunSummary } from '../pipeline/lakehouse.ts';
import type { Storage } from '../storage/types.ts';
import { zip } from '../zip.ts';
import { TableCache, useLake } from './cache.ts';
import { Catalog, viewName, type CommitView, type TableDetails, type TableSummary } from './catalog.ts';
import { SqlConsole, type ConsoleResult } from './console.ts';
import { count, gridOf, type Grid } from './grid.ts';
import { profileTable, type TableProfile } from './profile.ts';
import { qualityReport, type QualityReport } from './quality.ts';
import { Runs, type Exclusive, type ProgressCallback, type RunOptions } from './runs.ts';

export interface LakehouseDeps {
  storage: Storage;
  /** a new connection to the one DuckDB instance */
  openEngine: () => Promise<Engine>;
  /** gold SQL by KPI name */
  goldSql: Record<string, string>;
  expectationsText: string;
  exclusive?: Exclusive;
}

export interface RowsPage extends Grid {
  path: string;
  version: number;
  /** rows in the table at that version */
  total: number;
  offset: number;
}

export interface GoldData {
  name: string;
  path: string;
  version: number;
  columns: { name: string; type: string }[];
  /** typed as `cli read` prints them: numbers, text, ISO timestamps, dates as YYYY-MM-DD */
  rows: Record<string, unknown>[];
}

export interface Download {
  fileName: string;
  bytes: Uint8Array;
}

const MAX_PAGE = 1000;

/**
 * Everything the page can ask of the lakehouse, over any storage and engine: the worker exposes
 * it on OPFS and DuckDB-WASM, the Node tests on a temp folder.
 */
export async function openLakehouse(deps: LakehouseDeps) {
  const { storage } = deps;
  const [pipelineEngine, lakeEngine, consoleEngine] = await Promise.all([deps.openEngine(), deps.openEngine(), deps.openEngine()]);
  const catalog = new Catalog(storage);
  const cache = new TableCache(useLake(lakeEngine), storage, catalog);
  const sqlConsole = new SqlConsole(useLake(consoleEngine), cache, catalog);
  const goldSql = Object.fromEntries(
    GOLD_KPIS.map((name) => {
      const sql = deps.goldSql[name];
      if (sql === undefined) throw new Error(`the gold model sql/gold/${name}.sql is missing from the app`);
      return [name, sql];
    }),
  );
  /** Gold rows by table@version: a version never changes, and the dashboard asks for all six at once. */
  const goldRows = new Map<string, Promise<GoldData>>();
  const goldPath = (name: string): string => {
    const kpi = name.replace(/^gold[/_]/, '');
    if (!(GOLD_KPIS as readonly string[]).includes(kpi)) throw new Error(`there is no gold table ${JSON.stringify(name)}; the gold tables are ${GOLD_KPIS.join(', ')}`);
    return goldTable(kpi);
  };
  const readGold = async (path: string, version: number | undefined): Promise<GoldData> => {
    const snapshot = await catalog.snapshot(path, version);
    const key = `${path}@${snapshot.version}`;
    let rows = goldRows.get(key);
    if (!rows) {
      rows = cache.use(path, snapshot.version, (t) => ({
        name: path.slice('gold/'.length),
        path,
        version: t.version,
        columns: t.snapshot.schema.fields.map((f) => ({ name: f.name, type: typeof f.type === 'string' ? f.type : f.type.type })),
        rows: [...jsonLines(lakeEngine, t.table, t.snapshot.schema)].map((line) => JSON.parse(line) as Record<string, unknown>),
      }));
      goldRows.set(key, rows);
      rows.catch(() => goldRows.delete(key));
    }
    return rows;
  };

  const runs = new Runs(pipelineEngine, storage, goldSql, deps.expectationsText, deps.exclusive ?? ((fn) => fn()), () => {
    cache.invalidate();
    catalog.clear();
    goldRows.clear();
    // The dashboard is what a user opens after a run: have it ready.
    for (const kpi of GOLD_KPIS) readGold(goldTable(kpi), undefined).catch(() => {});
  });

  return {
    /** Generate a batch and run it bronze → silver → gold, like `cli run`. */
    run: async (options: RunOptions, onProgress?: ProgressCallback): Promise<RunSummary> => runs.run(options, onProgress),
    /** A JSONL file's lines as a batch, like `cli ingest`. */
    ingest: async (fileName: string, bytes: Uint8Array, onProgress?: ProgressCallback): Promise<RunSummary> => runs.ingest(fileName, bytes, onProgress),
    cancel: async (): Promise<boolean> => runs.cancel(),
    reset: async (): Promise<void> => runs.reset(),
    running: async (): Promise<boolean> => runs.running,

    tables: async (): Promise<TableSummary[]> => catalog.list(),
    table: async (path: string): Promise<TableDetails> => catalog.details(path),
    commit: async (path: string, version: number): Promise<CommitView> => catalog.commit(path, version),

    profile: async (path: string, version?: number): Promise<TableProfile & { path: string; version: number }> =>
      cache.use(path, version, (t) => ({ path, version: t.version, ...profileTable(lakeEngine, t.table) })),

    rows: async (path: string, version?: number, limit = 100, offset = 0): Promise<RowsPage> => {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new Error(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
      if (!Number.isInteger(offset) || offset < 0) throw new Error(`offset must be a whole number ≥ 0, got ${offset}`);
      return cache.use(path, version, (t) => ({
        path, version: t.version, total: count(lakeEngine, t.table), offset, ...gridOf(lakeEngine, t.table, limit, offset),
      }));
    },

    query: async (sql: string): Promise<ConsoleResult> => sqlConsole.run(sql),

    /** `version`: default the latest. */
    goldTable: async (name: string, version?: number): Promise<GoldData> => readGold(goldPath(name), version),

    quality: async (): Promise<QualityReport> => {
      const present = await catalog.list();
      const refs = [TABLES.rejects, TABLES.quality].filter((p) => present.some((t) => t.path === p)).map((path) => ({ path }));
      return cache.useMany(refs, (loaded) => {
        const table = (p: string) => loaded.find((t) => t.path === p)?.table;
        return qualityReport(lakeEngine, () => catalog.history(TABLES.bronze), table(TABLES.rejects), table(TABLES.quality));
      });
    },

    /** One gold table (latest version) as a single Parquet file whose columns carry the Delta types. */
    downloadParquet: async (name: string): Promise<Download> => {
      const path = goldPath(name);
      return cache.use(path, undefined, (t) => ({
        fileName: `${path.slice('gold/'.length)}.parquet`,
        bytes: encodeParquet(lakeEngine.queryIPC(`SELECT * FROM ${quoteIdent(t.table)}`)),
      }));
    },

    /** A table's folder — data files and `_delta_log` — as a .zip that unzips to a folder named like the table. */
    downloadZip: async (path: string): Promise<Download> => {
      catalog.checkPath(path);
      const files = await storage.list(path);
      if (!files.some((f) => f.path.startsWith(`${path}/_delta_log/`))) throw new Error(`table ${path} does not exist yet: run the pipeline first`);
      const folder = viewName(path);
      const entries = [];
      for (const f of files) {
        entries.push({ name: `${folder}/${f.path.slice(path.length + 1)}`, data: await storage.read(f.path), modified: f.modificationTime });
      }
      return { fileName: `${folder}.zip`, bytes: zip(entries) };
    },
  };
}

export type Lakehouse = Awaited<ReturnType<typeof openLakehouse>>;

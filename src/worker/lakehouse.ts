import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { jsonLines } from '../delta/export.ts';
import { encodeParquet } from '../parquet/codec.ts';
import type { LineCheckers } from '../pipeline/check-lines.ts';
import type { ParquetEncoder } from '../pipeline/encoder.ts';
import type { CheckedSource } from '../pipeline/checked-chunks.ts';
import type { GenerateOptions } from '../pipeline/generator/index.ts';
import { checkGoldSql } from '../pipeline/gold.ts';
import { GOLD_TABLES, TABLES } from '../pipeline/tables.ts';
import type { RunSummary } from '../pipeline/lakehouse.ts';
import type { RepairResult } from '../pipeline/repair.ts';
import type { Lineage } from '../pipeline/lineage.ts';
import type { Storage } from '../storage/types.ts';
import { zipBlob, zipChunks } from '../zip.ts';
import type { ZipInput } from '../unzip.ts';
import { ZipStorage } from '../storage/zip.ts';
import { LAKE_DB, TableCache, useLake } from './cache.ts';
import { KNOWN_TABLES, viewName } from './catalog.ts';
import { SqlConsole } from './console.ts';
import { count, gridOf } from './grid.ts';
import { pageText } from '../delta/page-text.ts';
import { profileTable } from './profile.ts';
import { qualityReport } from './quality.ts';
import { Runs, type Exclusive, type ProgressCallback } from './runs.ts';
import { optimizeTable, type OptimizeResult } from '../delta/optimize.ts';
import { exportLakehouse, importLakehouse } from './portable.ts';
import { vacuumTable, type VacuumResult } from '../delta/vacuum.ts';
import { describePruning, pruneFiles } from '../delta/skipping.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { numRecords, type Snapshot } from '../delta/snapshot.ts';
import { goldHeader, goldPath, openLakeReader, type LakeReader } from './reader.ts';
import { parseRowFilter } from './filter.ts';
import { copyLakehouse, findTables, type CopiedTable, type CopyProgress } from '../delta/copy.ts';
import { FolderStorage, openedFrom, openedPath, ReadOnlyTableError, readOnlyMessage, StoreTableStorage, type TableSource } from './opened.ts';
import type {
  ArchiveDownload,
  CommitView,
  ConsoleBatch,
  ConsoleFile,
  ConsolePage,
  ConsoleResult,
  ConsoleSort,
  Download,
  ExportResult,
  GoldData,
  ImportResult,
  LakeVacuumOptions,
  OpenedReads,
  QualityReport,
  RowsPage,
  RunOptions,
  TableDetails,
  TableSummary,
  TableVacuumOptions,
  VersionProfile,
} from './protocol.ts';

export interface LakehouseDeps {
  storage: Storage;
  /** a new connection to the one DuckDB instance */
  openEngine: () => Promise<Engine>;
  /** gold SQL by KPI name */
  goldSql: Record<string, string>;
  /** silver's SQL checks by file name (sql/silver/) */
  silverSql: Record<string, string>;
  expectationsText: string;
  exclusive?: Exclusive;
  /** threads for silver's line checks, if any (the worker's: browserCheckers) */
  checkers?: () => LineCheckers | undefined;
  /** where a generated run's lines are made and checked, if not on the lakehouse's thread (the worker's: browserProducer) */
  producer?: (options: GenerateOptions) => CheckedSource | undefined;
  /** a run's Parquet encoder on another thread, if any (the worker's: browserEncoder); closed when the run ends */
  encoder?: () => Promise<ParquetEncoder | undefined>;
  /** the reader the page used before the engine started (made here if not given) */
  reader?: LakeReader;
  /** a test hook: the commit after which runs stop (see stop-after-commit.ts) */
  stopAfterCommit?: () => string | undefined;
  /**
   * A name for the DuckDB databases this lakehouse works in (`<name>_pipeline`, `<name>_lake`),
   * for a second lakehouse in the same DuckDB (the Learn tab's sandbox); default: DuckDB's own and `lake`.
   */
  database?: string;
}

const MAX_PAGE = 1000;
function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new Error(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
}
const FILTERED = '__rows_filtered';
/** tables of one page of rows, numbered (two pages may load at once) */
const PAGE = '__rows_page_';
let pages = 0;

/**
 * Everything the page can ask of the lakehouse, over any storage and engine: the worker exposes
 * it on OPFS and DuckDB-WASM, the Node tests on a temp folder.
 */
export async function openLakehouse(deps: LakehouseDeps) {
  const { storage } = deps;
  const reader = deps.reader ?? openLakeReader(storage);
  const { mounted, catalog } = reader;
  const [pipelineEngine, lakeEngine, consoleEngine] = await Promise.all([deps.openEngine(), deps.openEngine(), deps.openEngine()]);
  const lakeDb = deps.database ? `${deps.database}_lake` : LAKE_DB;
  if (deps.database) useLake(pipelineEngine, `${deps.database}_pipeline`);
  const cache = new TableCache(useLake(lakeEngine, lakeDb), mounted, catalog, undefined, lakeDb);
  const sqlConsole = new SqlConsole(useLake(consoleEngine, lakeDb), cache, catalog, () => reader.tables());
  checkGoldSql(deps.goldSql);
  /** A gold table the reader cannot read without the engine (a column type it does not handle). */
  const throughEngine = async (path: string, version: number | undefined): Promise<GoldData> =>
    cache.use(path, await reader.versionOf(path, version), (t) => ({
      ...goldHeader(path, t.snapshot),
      rows: [...jsonLines(lakeEngine, t.table, t.snapshot.schema)].map((line) => JSON.parse(line) as Record<string, unknown>),
    }));
  const readGold = async (name: string, version: number | undefined): Promise<GoldData> =>
    (await reader.goldTable(name, version)) ?? throughEngine(goldPath(name), version);

  const runs = new Runs(
    pipelineEngine,
    storage,
    deps.goldSql,
    deps.silverSql,
    deps.expectationsText,
    deps.exclusive ?? ((fn) => fn()),
    () => {
      cache.invalidate();
      reader.forget();
      // The dashboard is what a user opens after a run: have it ready.
      for (const kpi of GOLD_TABLES) readGold(kpi, undefined).catch(() => {});
    },
    deps.checkers,
    deps.producer,
    deps.stopAfterCommit,
    deps.encoder,
  );

  /**
   * Rows matching a filter (`year = '2021' AND id >= 10`): only the data files whose partition
   * values and statistics can match are read (src/delta/skipping.ts), and the page says how many.
   */
  const filteredRows = async (path: string, version: number | undefined, limit: number, offset: number, filter: string): Promise<RowsPage> => {
    const snap = await catalog.snapshot(path, await reader.versionOf(path, version));
    const parsed = parseRowFilter(
      filter,
      snap.schema.fields.map((f) => f.name),
    );
    const p = pruneFiles(snap, parsed.conditions);
    const subset = p.files.length < p.total ? { paths: new Set(p.files.map((a) => a.path)) } : undefined;
    return cache.use(
      path,
      snap.version,
      (t) => {
        lakeEngine.run(`CREATE OR REPLACE TEMP VIEW ${FILTERED} AS SELECT * FROM ${quoteIdent(t.table)} WHERE ${parsed.sql}`);
        try {
          const files = {
            sql: parsed.sql,
            read: t.files,
            total: p.total,
            skippedByPartition: p.skippedByPartition,
            skippedByStats: p.skippedByStats,
            text: describePruning(p),
          };
          return { path, version: t.version, total: count(lakeEngine, FILTERED), offset, ...gridOf(lakeEngine, FILTERED, limit, offset), filter: files };
        } finally {
          lakeEngine.run(`DROP VIEW IF EXISTS ${FILTERED}`);
        }
      },
      subset,
    );
  };

  /** The page `readAhead` read (or is reading), until a `rows` call of it takes it. */
  let ahead: { snap: Snapshot; limit: number; page: Promise<RowsPage | undefined> } | undefined;
  const takeAhead = (snap: Snapshot, limit: number, offset: number): Promise<RowsPage | undefined> | undefined => {
    // The same snapshot object, not just its version: a reset forgets snapshots, and versions are reused.
    if (ahead?.snap !== snap || ahead.limit !== limit || offset !== 0) return undefined;
    const { page } = ahead;
    ahead = undefined;
    return page;
  };

  /**
   * One page of a version not loaded yet: only the files it falls in, only its rows of them
   * (scan.ts `window`), so the first rows of a big table show without loading all of it; printed
   * without the engine when page-text.ts can. The total comes from the files' row counts; without
   * them (undefined) the whole version is loaded.
   */
  const pageOfRows = async (snap: Snapshot, limit: number, offset: number): Promise<RowsPage | undefined> => {
    const counts = snap.files.map(numRecords);
    if (counts.some((n) => n === null)) return undefined;
    const total = counts.reduce<number>((s, n) => s + n!, 0);
    const text = await pageText(mounted, snap, { offset, limit });
    if (text) return { path: snap.table, version: snap.version, total, offset, ...text };
    const table = `${PAGE}${++pages}`;
    try {
      await scanIntoEngine(lakeEngine, mounted, snap, table, { window: { offset, limit } });
      return { path: snap.table, version: snap.version, total, offset, ...gridOf(lakeEngine, table, limit) };
    } finally {
      lakeEngine.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    }
  };

  /** One of the lakehouse's own tables (not an opened one, which is read-only). */
  const ownTable = (path: string): string => {
    const source = mounted.source(path);
    if (source) throw new ReadOnlyTableError(readOnlyMessage(mounted.describe(path), source.kind));
    if (!KNOWN_TABLES.includes(path)) throw new Error(`${JSON.stringify(path)} is not a table of the lakehouse; the tables are ${KNOWN_TABLES.join(', ')}`);
    return path;
  };
  /** A change to the lakehouse outside a run: never during one, under the run lock; every cache forgotten after. */
  const maintain = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (runs.running) throw new Error('a run is in progress: wait for it to finish or cancel it first');
    try {
      return await (deps.exclusive ?? ((f) => f()))(fn);
    } finally {
      cache.invalidate();
      reader.forget();
    }
  };

  return {
    /**
     * Read the first `limit` rows of `path` as every default read shows it, and keep the page for
     * the first `rows` call that asks for it (the same snapshot, offset 0, no filter): the page
     * asks this for the table its Explorer opens on, once the engine is up. The first read after
     * a page load runs parquet-wasm's code cold (compiled on first call, not yet optimised), and
     * DuckDB's for a table page-text.ts cannot print; read ahead, a click on the Explorer meets
     * the page read, or being read, instead of starting it.
     */
    readAhead: async (path: string, limit: number): Promise<void> => {
      checkLimit(limit);
      if (runs.running) return;
      const snap = await catalog.snapshot(path, await reader.versionOf(path, undefined));
      if (cache.loaded(snap)) return;
      const page = pageOfRows(snap, limit, 0);
      ahead = { snap, limit, page };
      await page;
    },
    /**
     * Open a Delta table from outside (a .zip or a folder, see opened.ts) read-only at
     * `opened/<name>`: from then on `table`, `rows`, `profile`, `commit` and the SQL console
     * (`opened_<name>`, with time travel) serve it like the lakehouse's own tables. Refused, with
     * the reason, when the reader cannot read it (deletion vectors, variant columns, …).
     */
    open: async (source: TableSource): Promise<TableDetails> => {
      const path = openedPath(source.name);
      const replacing = mounted.source(path) !== undefined;
      mounted.mount(path, source);
      catalog.mount(path);
      if (replacing) cache.invalidate();
      try {
        return { ...(await catalog.details(path)), openedFrom: openedFrom(mounted, path) };
      } catch (err) {
        catalog.unmount(path);
        mounted.unmount(path);
        throw err;
      }
    },
    /** The data files of an opened folder or .zip read so far (both are read lazily). */
    openedReads: async (path: string): Promise<OpenedReads> => {
      const source = mounted.source(catalog.checkPath(path));
      if (!source) throw new Error(`${path} is not an opened table`);
      const { storage: lazy } = source;
      const read =
        lazy instanceof FolderStorage || lazy instanceof ZipStorage || lazy instanceof StoreTableStorage
          ? lazy.readPaths.filter((f) => !f.split('/').includes('_delta_log'))
          : null;
      return { kind: source.kind, read, requests: null };
    },
    /** Close the opened tables `which` keeps (those of a store that was disconnected). */
    close: (which: (source: TableSource) => boolean): void => {
      const closing = mounted.paths().filter((p) => which(mounted.source(p)!));
      for (const path of closing) {
        catalog.unmount(path);
        mounted.unmount(path);
      }
      if (closing.length) cache.invalidate();
    },

    /**
     * The lakehouse's tables copied to `target` (a bucket's prefix) with their history, as `cli
     * push` does: only what the target lacks is sent, a diverged history is refused (DivergedError).
     * Under the run lock, so no run of this origin writes meanwhile.
     */
    push: async (target: Storage, onProgress?: (p: CopyProgress) => void): Promise<CopiedTable[]> =>
      maintain(() => copyLakehouse(storage, target, 'the lakehouse in this browser', { tables: (t) => KNOWN_TABLES.includes(t), onProgress })),
    /**
     * The lakehouse at `source` (a bucket's prefix) copied into the browser's, as `cli pull` does:
     * its tables of the lakehouse's layout (bronze/events, silver/…, gold/…), with their history.
     */
    pull: async (source: Storage, onProgress?: (p: CopyProgress) => void): Promise<CopiedTable[]> =>
      maintain(async () => {
        const known = (t: string) => KNOWN_TABLES.includes(t);
        const found = await findTables(source, source.description);
        if (!found.some(known)) {
          throw new Error(
            `${source.description} holds no table of this lakehouse (${KNOWN_TABLES.join(', ')}); its Delta tables ` +
              `(${found.map((t) => t || '(the prefix itself)').join(', ')}) can be opened read-only instead`,
          );
        }
        const copied = await copyLakehouse(source, storage, source.description, { tables: known, onProgress });
        // The pipeline's working copy of silver belongs to the lakehouse as it was.
        pipelineEngine.run('DROP TABLE IF EXISTS silver_events');
        return copied;
      }),

    /** Generate a batch and run it bronze → silver → gold, like `cli run`. */
    run: async (options: RunOptions, onProgress?: ProgressCallback): Promise<RunSummary> => runs.run(options, onProgress),
    /** Finish what a run stopped earlier left undone, like `cli status --repair`. */
    repair: async (onProgress?: ProgressCallback): Promise<RepairResult> => runs.repair(onProgress),
    /** A JSONL file's lines as a batch, like `cli ingest`. */
    ingest: async (fileName: string, bytes: Uint8Array, onProgress?: ProgressCallback): Promise<RunSummary> => runs.ingest(fileName, bytes, onProgress),
    cancel: async (): Promise<boolean> => runs.cancel(),
    /**
     * VACUUM every table of the lakehouse (src/delta/vacuum.ts: files no version within the
     * retention needs, and temporary files of writes cut short), holding the run lock so that no
     * run of this origin is writing meanwhile.
     */
    vacuum: async (options: LakeVacuumOptions = {}): Promise<VacuumResult[]> => {
      const results = await (deps.exclusive ?? ((fn) => fn()))(async () => {
        const out: VacuumResult[] = [];
        for (const t of await catalog.list()) out.push(await vacuumTable(storage, t.path, options));
        return out;
      });
      reader.forget();
      cache.invalidate();
      return results;
    },
    reset: async (): Promise<void> => runs.reset(),
    running: async (): Promise<boolean> => runs.running,

    /** The tables at their latest versions, each with the version every view shows while a newer batch is partly in its layer. */
    tables: async (): Promise<TableSummary[]> => reader.tables(),
    /** What each table was computed from, which are behind, and the versions that agree (src/pipeline/lineage.ts). */
    lineage: async (): Promise<Lineage> => reader.lineage(),
    table: async (path: string): Promise<TableDetails> => reader.table(path),
    commit: async (path: string, version: number): Promise<CommitView> => catalog.commit(path, version),

    /** `version`: default, as every default read (see reader.partlyIn). */
    profile: async (path: string, version?: number): Promise<VersionProfile> =>
      cache.use(path, await reader.versionOf(path, version), (t) => ({ path, version: t.version, ...profileTable(lakeEngine, t.table) })),

    rows: async (path: string, version?: number, limit = 100, offset = 0, filter = ''): Promise<RowsPage> => {
      checkLimit(limit);
      if (!Number.isInteger(offset) || offset < 0) throw new Error(`offset must be a whole number ≥ 0, got ${offset}`);
      if (filter.trim()) return filteredRows(path, version, limit, offset, filter);
      const snap = await catalog.snapshot(path, await reader.versionOf(path, version));
      if (!cache.loaded(snap)) {
        const early = takeAhead(snap, limit, offset);
        const page = await (early ? early.catch(() => pageOfRows(snap, limit, offset)) : pageOfRows(snap, limit, offset));
        if (page) return page;
      }
      return cache.use(path, snap.version, (t) => ({
        path,
        version: t.version,
        total: count(lakeEngine, t.table),
        offset,
        ...gridOf(lakeEngine, t.table, limit, offset),
      }));
    },

    query: async (sql: string): Promise<ConsoleResult> => sqlConsole.run(sql),
    queries: async (sql: string): Promise<ConsoleBatch> => sqlConsole.runAll(sql),
    consolePage: async (id: number, offset: number, limit: number, sort?: ConsoleSort): Promise<ConsolePage> => sqlConsole.page(id, offset, limit, sort),
    consoleFile: async (fileName: string, bytes: Uint8Array): Promise<ConsoleFile> => sqlConsole.attachFile(fileName, bytes),
    consoleDownload: async (id: number, format: 'csv' | 'parquet', sort?: ConsoleSort): Promise<Download> => sqlConsole.download(id, format, sort),

    /** `version`: default, as every default read (see reader.partlyIn). */
    goldTable: async (name: string, version?: number): Promise<GoldData> => readGold(name, version),

    /** silver/rejects and silver/quality as every default read shows them (see reader.partlyIn). */
    quality: async (): Promise<QualityReport> => {
      const present = (await catalog.list()).map((t) => t.path).filter((p) => p === TABLES.rejects || p === TABLES.quality);
      const shown = await Promise.all(present.map((path) => reader.partlyIn(path)));
      const refs = present.map((path, i) => ({ path, version: shown[i]?.version }));
      const report = await cache.useMany(refs, (loaded) => {
        const table = (p: string) => loaded.find((t) => t.path === p)?.table;
        return qualityReport(lakeEngine, () => catalog.history(TABLES.bronze), table(TABLES.rejects), table(TABLES.quality));
      });
      const note = shown.find((p) => p !== undefined)?.note;
      return note === undefined ? report : { ...report, partlyIn: note };
    },

    /** One gold table, as the dashboard shows it, as a single Parquet file whose columns carry the Delta types. */
    downloadParquet: async (name: string): Promise<Download> => {
      const path = goldPath(name);
      return cache.use(path, await reader.versionOf(path, undefined), (t) => ({
        fileName: `${path.slice('gold/'.length)}.parquet`,
        bytes: encodeParquet(lakeEngine.queryIPC(`SELECT * FROM ${quoteIdent(t.table)}`)),
      }));
    },

    /** A table's folder — data files and `_delta_log` — as a .zip that unzips to a folder named like the table. */
    downloadZip: async (path: string): Promise<ArchiveDownload> => {
      catalog.checkPath(path);
      const files = await mounted.list(path);
      if (!files.some((f) => f.path.startsWith(`${path}/_delta_log/`))) throw new Error(`table ${path} does not exist yet: run the pipeline first`);
      const folder = viewName(path);
      async function* entries() {
        for (const f of files) yield { name: `${folder}/${f.path.slice(path.length + 1)}`, data: await mounted.read(f.path), modified: f.modificationTime };
      }
      return { fileName: `${folder}.zip`, archive: await zipBlob(zipChunks(entries())) };
    },

    // Export, import and maintenance (issue 7, items 2 and 3): see portable.ts and src/delta/.
    /** The whole lakehouse — every table's Delta folder, its whole log — as one .zip. */
    exportLakehouse: async (): Promise<ExportResult> => {
      const own = (await catalog.list()).map((t) => t.path).filter((p) => KNOWN_TABLES.includes(p));
      const { fileName, tables, chunks } = await exportLakehouse(storage, own);
      return { fileName, tables, archive: await zipBlob(chunks) };
    },
    /** Restore an exported lakehouse (or one table's .zip); a lakehouse with tables is replaced only with `replace`. */
    importLakehouse: async (name: string, archive: ZipInput, replace: boolean | 'check' = false): Promise<ImportResult> =>
      maintain(() =>
        importLakehouse(storage, name, archive, {
          known: KNOWN_TABLES,
          replace: replace === true,
          check: replace === 'check',
          present: async () => (await catalog.list()).map((t) => t.path).filter((p) => KNOWN_TABLES.includes(p)),
          clear: async () => {
            await storage.deleteDir('');
            // The pipeline's working copy of silver belongs to the lakehouse being replaced.
            pipelineEngine.run('DROP TABLE IF EXISTS silver_events');
          },
        }),
      ),
    /** OPTIMIZE one table: small files compacted into larger ones, `dataChange: false`, rows unchanged. */
    optimize: async (path: string): Promise<OptimizeResult> => maintain(() => optimizeTable(storage, ownTable(path))),
    /**
     * VACUUM one table: data files no version within `retentionHours` needs are deleted, so older
     * versions stop being readable. Shorter than the table's retention (7 days) needs `force`.
     */
    vacuumTable: async (path: string, options: TableVacuumOptions = {}): Promise<VacuumResult> => maintain(() => vacuumTable(storage, ownTable(path), options)),
  };
}

export type Lakehouse = Awaited<ReturnType<typeof openLakehouse>>;

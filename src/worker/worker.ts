import { expose, releaseProxy, transfer, type Remote } from 'comlink';
import expectationsText from '../../contracts/expectations.yml?raw';
import type { Engine } from '../engine/types.ts';
import { initParquet } from '../parquet/browser.ts';
import type { Progress } from '../pipeline/context.ts';
import { checkStorage } from '../storage/contract.ts';
import { OpfsStorage } from '../storage/opfs.ts';
import type { FileInfo } from '../storage/types.ts';
import { withContext } from './errors.ts';
import type { Download, Lakehouse } from './lakehouse.ts';
import { openLakeReader, type LakeReader } from './reader.ts';
import { filesOfDirectory, folderSource, zipSource, type FolderFile } from './opened.ts';
import type { RunOptions } from './runs.ts';
import type { ZipInput } from '../unzip.ts';
import { workerMetrics, type WorkerMetrics } from './metrics.ts';
import { browserCheckers, useCheckerThreads } from './checkers.ts';

/** Where the lakehouse lives in OPFS, and a separate folder the storage self-test may scribble in. */
const ROOT = 'lakehouse';
const SELFTEST_ROOT = 'lakehouse-selftest';
/** The Web Lock a run (and a reset, a VACUUM) holds: one at a time across the tabs of this origin. */
const RUN_LOCK = 'creatorops-lakehouse-run';

/** The gold models, bundled as text: the same files `cli run` reads. */
const GOLD_SQL: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>('../../sql/gold/*.sql', { query: '?raw', import: 'default', eager: true })).map(([path, sql]) => [
    path.slice(path.lastIndexOf('/') + 1, -'.sql'.length),
    sql,
  ]),
);

export interface Versions {
  /** e.g. "v1.4.3" */
  duckdb: string;
  /** the @duckdb/duckdb-wasm package, e.g. "1.32.0" */
  duckdbWasm: string;
  /** where the tables are, e.g. "OPFS lakehouse/" */
  storage: string;
}

export interface StorageInfo {
  /** bytes this origin uses (all of OPFS and caches), when the browser says */
  usage: number | null;
  quota: number | null;
  /** whether the browser promised not to evict this origin's data */
  persisted: boolean | null;
}

interface Store {
  storage: OpfsStorage;
  reader: LakeReader;
}

interface Runtime extends Store {
  engine: Engine;
  versions: Versions;
  lakehouse: Lakehouse;
}

let store: Promise<Store> | undefined;
let runtime: Promise<Runtime> | undefined;
let engineUp = false;

/**
 * OPFS and the Parquet codec, then the table list and the latest gold tables read from their logs
 * and Parquet files: what a reload shows first, ready before the engine (a 34 MB wasm module to
 * compile) starts taking the CPU. Started as soon as the worker runs.
 */
function openStore(): Promise<Store> {
  store ??= (async () => {
    const [storage] = await Promise.all([OpfsStorage.open(ROOT), initParquet()]);
    const reader = openLakeReader(storage);
    // A table whose log cannot be read must not keep the lakehouse shut: its own view says why.
    const gold = (await reader.catalog.list().catch(() => [])).filter((t) => t.layer === 'gold');
    await Promise.all(gold.map((t) => reader.goldTable(t.path).catch(() => undefined)));
    return { storage, reader };
  })();
  store.catch(() => (store = undefined));
  return store;
}
void openStore().catch(() => {});

/**
 * Engine, Parquet codec and storage, started once on first use and shared by every call.
 * Nothing here reads table data: the page shows what is in the log first, and loads rows only
 * when a view needs them.
 */
function start(): Promise<Runtime> {
  runtime ??= (async () => {
    // The engine's glue and the pipeline are chunks of their own, loaded now: the worker answers before.
    const [{ openBrowserEngine, PACKAGE_VERSION }, { openLakehouse }, { storage, reader }] = await Promise.all([
      import('../engine/browser.ts'),
      import('./lakehouse.ts'),
      openStore(),
    ]);
    const engine = await openBrowserEngine();
    const [row] = engine.rows<{ version: string }>('select version() as version');
    const lakehouse = await openLakehouse({
      storage,
      reader,
      openEngine: openBrowserEngine,
      goldSql: GOLD_SQL,
      expectationsText,
      // One run at a time across every tab of this origin; a run that has to wait says so.
      exclusive: async <T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> => {
        const now = (await navigator.locks.request(RUN_LOCK, { ifAvailable: true }, async (lock) => (lock ? { value: await fn() } : undefined))) as
          | { value: T }
          | undefined;
        if (now) return now.value;
        onWait?.();
        return navigator.locks.request(RUN_LOCK, fn) as Promise<T>;
      },
      checkers: () => browserCheckers(),
    });
    engineUp = true;
    return {
      engine,
      storage,
      reader,
      lakehouse,
      versions: { duckdb: row?.version ?? 'unknown', duckdbWasm: PACKAGE_VERSION, storage: storage.description },
    };
  })();
  // A failed start is not kept: the next call tries again.
  runtime.catch(() => (runtime = undefined));
  return runtime;
}

const lake = async (): Promise<Lakehouse> => (await start()).lakehouse;

/** The lakehouse for a run, saying so first when the run has to wait for the engine to start. */
async function lakeForRun(report: ((p: Progress) => void) | undefined): Promise<Lakehouse> {
  if (!engineUp) report?.({ stage: 'bronze', done: 0, waiting: 'Waiting for the engine to start…' });
  return lake();
}

/** A progress callback from the page (a comlink proxy): never awaited, released when the run ends. */
async function withProgress<R>(onProgress: ((p: Progress) => void) | undefined, fn: (report?: (p: Progress) => void) => Promise<R>): Promise<R> {
  const remote = onProgress as Remote<(p: Progress) => void> | undefined;
  try {
    return await fn(remote && ((p) => void Promise.resolve(remote(p)).catch(() => {})));
  } finally {
    remote?.[releaseProxy]?.();
  }
}

const sent = (d: Download): Download => transfer(d, [d.bytes.buffer as ArrayBuffer]);


const api = {
  /** Answers as soon as the worker runs; starts nothing. */
  async ping(): Promise<true> {
    return true;
  },

  /** Open the lakehouse's storage (once), without the engine: then tables, table, commit and goldTable answer. */
  open: withContext('opening the lakehouse', async (): Promise<{ storage: string }> => ({ storage: (await openStore()).storage.description })),

  /** Start everything (once); the versions of what runs. */
  init: withContext('starting the engine', async (): Promise<Versions> => (await start()).versions),

  /** Generate a batch (seed, events, days, invalid rate) and run it bronze → silver → gold, like `cli run`. */
  run: withContext('running the pipeline', (options: RunOptions, onProgress?: (p: Progress) => void) =>
    withProgress(onProgress, async (report) => (await lakeForRun(report)).run(options, report)),
  ),

  /** A .jsonl file as a batch through bronze, silver and gold, like `cli ingest`. */
  ingest: withContext('ingesting a file', (fileName: string, bytes: Uint8Array, onProgress?: (p: Progress) => void) =>
    withProgress(onProgress, async (report) => (await lakeForRun(report)).ingest(fileName, bytes, report)),
  ),

  /** Stop the run in flight (false if none); it stops at its next step, every table at its last commit. */
  cancel: withContext('cancelling the run', async () => (await lake()).cancel()),

  /** VACUUM every table: `{ retentionHours, force, dryRun, temporaryMinAgeHours }` as for `cli vacuum`; one result per table. */
  vacuum: withContext('vacuuming the lakehouse', async (options?: { retentionHours?: number; force?: boolean; dryRun?: boolean; temporaryMinAgeHours?: number }) =>
    (await lake()).vacuum(options),
  ),

  /** The temporary files (`.<uuid>.tmp`) below a folder of the lakehouse, which listFiles leaves out: writes in flight or cut short. */
  listTemporaryFiles: withContext('listing temporary files', async (dir: string = ''): Promise<FileInfo[]> => {
    return (await openStore()).storage.listTemporary(dir);
  }),

  /** Delete every table of the lakehouse. */
  reset: withContext('resetting the lakehouse', async () => (await lake()).reset()),

  running: withContext('asking whether a run is in progress', async () => (await lake()).running()),

  /** Every table with its version, rows, files and bytes: from the logs, no data read. */
  tables: withContext('listing the tables', async () => (await openStore()).reader.catalog.list()),

  /** Schema, files, history and versions of one table (e.g. "silver/events"). */
  table: withContext('reading a table’s log', async (path: string) => (await openStore()).reader.catalog.details(path)),

  /** The actions of one commit of a table, pretty-printed. */
  commit: withContext('reading a commit', async (path: string, version: number) => (await openStore()).reader.catalog.commit(path, version)),

  /** Per column: nulls, distinct values, min, max and a small histogram, at a version (default latest). */
  profile: withContext('profiling a table', async (path: string, version?: number) => (await lake()).profile(path, version)),

  /** A page of rows as they were at a version (default latest). */
  /** `filter` (optional): conditions like `year = '2021' AND id >= 10`; only the files that can match are read. */
  rows: withContext('reading rows', async (path: string, version?: number, limit?: number, offset?: number, filter?: string) =>
    (await lake()).rows(path, version, limit, offset, filter),
  ),

  /** One read-only statement of the SQL console; `name@vN` reads version N. */
  query: withContext('SQL', async (sql: string) => (await lake()).query(sql)),

  /** A gold table's rows at a version (default latest), typed, for the dashboard. */
  goldTable: withContext('reading a gold table', async (name: string, version?: number) =>
    (await (await openStore()).reader.goldTable(name, version)) ?? (await lake()).goldTable(name, version),
  ),

  /** Rejects by stage and rule, sample rejects, expectation results per batch. */
  quality: withContext('reading data quality', async () => (await lake()).quality()),

  /** A gold table as one Parquet file: `<name>.parquet`. */
  downloadParquet: withContext('making the Parquet file', async (name: string) => sent(await (await lake()).downloadParquet(name))),

  /** A table's Delta folder (data and `_delta_log`) as a .zip (a Blob: cloned to the page by reference). */
  downloadZip: withContext('making the .zip', async (path: string) => (await lake()).downloadZip(path)),

  /** The whole lakehouse (every table's Delta folder, its whole log) as one .zip: `creatorops-lakehouse.zip`. */
  exportLakehouse: withContext('exporting the lakehouse', async () => (await lake()).exportLakehouse()),

  /**
   * Restore a lakehouse exported as .zip; a lakehouse that has tables is replaced only when `replace`
   * is true. `archive`: the File the user picked (read in slices, never whole) or its bytes.
   */
  importLakehouse: withContext('importing the lakehouse', async (name: string, archive: ZipInput, replace?: boolean) =>
    (await lake()).importLakehouse(name, archive, replace),
  ),

  /** OPTIMIZE one table (small files compacted, `dataChange: false`). */
  optimize: withContext('optimizing the table', async (path: string) => (await lake()).optimize(path)),

  /** VACUUM one table: `{ retentionHours, force, dryRun }`; a retention under the table's (7 days) needs `force`. */
  vacuumTable: withContext('vacuuming the table', async (path: string, options?: { retentionHours?: number; force?: boolean; dryRun?: boolean }) =>
    (await lake()).vacuumTable(path, options),
  ),

  /**
   * Open a .zip of a Delta table (from Spark, delta-rs, Databricks…) read-only at `opened/<name>`:
   * its details, or why it cannot be read. From then on it is a table like the others (table, rows,
   * profile, commit, the SQL console as `opened_<name>`).
   */
  openZip: withContext('opening the .zip', async (name: string, archive: ZipInput) => (await lake()).open(await zipSource(name, archive))),

  /**
   * Open a folder holding a Delta table, read-only: a directory handle (File System Access API) or
   * the files of `<input webkitdirectory>` (paths relative to the picked folder). Nothing but the
   * `_delta_log` is read until rows are asked for.
   */
  openFolder: withContext('opening the folder', async (name: string, from: FileSystemDirectoryHandle | FolderFile[]) =>
    (await lake()).open(folderSource(name, Array.isArray(from) ? from : await filesOfDirectory(from))),
  ),

  /** The data files of an opened folder read so far (null for a .zip). */
  openedReads: withContext('reading the opened table', async (path: string) => (await lake()).openedReads(path)),

  /** How many checker workers silver's line checks use from the next run on (tests, benchmarks; undefined: from the cores). */
  checkerThreads: withContext('setting checker threads', async (threads: number | undefined) => useCheckerThreads(threads)),

  /** Memory the worker holds (wasm linear memories, JS heap), for benchmarks. */
  metrics: withContext('reading memory figures', async (): Promise<WorkerMetrics> =>
    workerMetrics(runtime ? (await import('../engine/browser.ts')).duckdbWasmBytes() : null),
  ),

  /** How much storage this origin uses, and whether it is persistent. */
  storageInfo: withContext('asking about storage', async (): Promise<StorageInfo> => {
    const estimate = await navigator.storage.estimate().catch(() => undefined);
    const persisted = await navigator.storage.persisted().catch(() => null);
    return { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted };
  }),

  /** Run the storage contract on real OPFS, in a folder apart from the lakehouse; [] = passed. */
  storageSelfTest: withContext('OPFS storage self-test', async (): Promise<string[]> => {
    return checkStorage(await OpfsStorage.open(SELFTEST_ROOT));
  }),

  /** The files below a folder of the lakehouse ('' = all), sorted by path. */
  listFiles: withContext('listing files', async (dir: string = ''): Promise<FileInfo[]> => {
    return (await openStore()).storage.list(dir);
  }),

  readFile: withContext('reading a file', async (path: string): Promise<Uint8Array> => {
    const bytes = await (await openStore()).storage.read(path);
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  }),

  /** Create a file of the lakehouse unless it exists (atomic, across tabs); false if it did. */
  createFile: withContext('creating a file', async (path: string, bytes: Uint8Array): Promise<boolean> => {
    return (await openStore()).storage.putIfAbsent(path, bytes);
  }),

  /** Create or replace one file of the lakehouse (e.g. to import a table's files). */
  writeFile: withContext('writing a file', async (path: string, bytes: Uint8Array): Promise<void> => {
    await (await openStore()).storage.write(path, bytes);
  }),
};

export type Api = typeof api;

expose(api);

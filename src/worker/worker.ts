import { expose, releaseProxy, transfer, type Remote } from 'comlink';
import expectationsText from '../../contracts/expectations.yml?raw';
import type { Engine } from '../engine/types.ts';
import { memoryLimit, memoryUsed, setMemoryLimit, WASM_MEMORY_LIMIT } from '../engine/memory.ts';
import { compileDuckdb } from '../engine/wasm.ts';
import { initParquet } from '../parquet/browser.ts';
import { sqlByFileName } from '../pipeline/gold.ts';
import { checkStorage } from '../storage/contract.ts';
import { ifAvailable, withLock } from '../storage/locks.ts';
import { OpfsStorage } from '../storage/opfs.ts';
import type { Storage } from '../storage/types.ts';
import { withContext } from './errors.ts';
import type { Lakehouse } from './lakehouse.ts';
import type { Sandbox } from './learn.ts';
import { openLakeReader, type LakeReader } from './reader.ts';
import { chooseStorage, type ChosenStorage } from './storage-choice.ts';
import { filesOfDirectory, folderSource, openedFrom, tablesIn, zipSource } from './opened.ts';
import { explainUnreachable, RemoteStore } from './remote.ts';
import type { Connection } from '../storage/connection.ts';
import type { CopyProgress } from '../delta/copy.ts';
import {
  carryErrors,
  type Api,
  type ConsoleSort,
  type Download,
  type FileInfo,
  type FolderFile,
  type LakeVacuumOptions,
  type Progress,
  type RunOptions,
  type StorageInfo,
  type TableVacuumOptions,
  type Versions,
  type OpenedLakehouse,
  type WorkerMetrics,
  type ZipInput,
} from './protocol.ts';
import { workerMetrics } from './metrics.ts';
import { browserCheckers, useCheckerThreads } from './checkers.ts';
import { browserEncoder, useEncoder } from './encoder.ts';
import { browserProducer, useProducer } from './producer.ts';
import { checkStopAfterCommit } from '../pipeline/stop-after-commit.ts';

/** Where the lakehouse lives in OPFS, and a separate folder the storage self-test may scribble in. */
const ROOT = 'lakehouse';
const SELFTEST_ROOT = 'lakehouse-selftest';
/** The Learn tab's sandbox lakehouse: its own folder and its own lock, so a lesson never touches the user's tables. */
const LEARN_ROOT = 'learn';
const LEARN_LOCK = 'creatorops-learn';
/** The Web Lock a run (and a reset, a VACUUM) holds: one at a time across the tabs of this origin. */
const RUN_LOCK = 'creatorops-lakehouse-run';

/** The gold models, bundled as text: the same files `cli run` reads. */
const GOLD_SQL = sqlByFileName(import.meta.glob<string>('../../sql/gold/*.sql', { query: '?raw', import: 'default', eager: true }));
/** Silver's checks in the engine (sql/silver/), bundled the same way. */
const SILVER_SQL = sqlByFileName(import.meta.glob<string>('../../sql/silver/*.sql', { query: '?raw', import: 'default', eager: true }));

interface Store extends ChosenStorage {
  storage: Storage;
  reader: LakeReader;
}

interface Runtime {
  storage: Storage;
  reader: LakeReader;
  engine: Engine;
  versions: Versions;
  lakehouse: Lakehouse;
}

let store: Promise<Store> | undefined;
let runtime: Promise<Runtime> | undefined;
let engineUp = false;
/** the stop-after-commit test hook (see stop-after-commit.ts) */
let stopAfter: string | undefined;

/**
 * OPFS and the Parquet codec, then the table list and the latest gold tables read from their logs
 * and Parquet files: what a reload shows first, ready before the engine (a 34 MB wasm module to
 * compile) starts taking the CPU. Started as soon as the worker runs.
 */
function openStore(): Promise<Store> {
  store ??= (async () => {
    const [chosen] = await Promise.all([chooseStorage(ROOT), initParquet()]);
    const reader = openLakeReader(chosen.storage);
    // A table whose log cannot be read must not keep the lakehouse shut: its own view says why.
    const gold = (await reader.catalog.list().catch(() => [])).filter((t) => t.layer === 'gold');
    await Promise.all(gold.map((t) => reader.goldTable(t.path).catch(() => undefined)));
    return { ...chosen, reader };
  })();
  store.catch(() => (store = undefined));
  return store;
}
void openStore().catch(() => {});
// DuckDB's module compiles off this thread meanwhile (from the browser's code cache after a first
// visit), and its glue and the pipeline load once the store is open: when the page asks for the
// engine, what is left is instantiating it.
void compileDuckdb().catch(() => {});
void openStore()
  .then(() => Promise.all([import('../engine/browser.ts'), import('./lakehouse.ts')]))
  .catch(() => {});

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
      silverSql: SILVER_SQL,
      expectationsText,
      // One run at a time across every tab of this origin; a run that has to wait says so.
      exclusive: webLock(RUN_LOCK),
      checkers: () => browserCheckers(),
      producer: browserProducer,
      encoder: browserEncoder,
      stopAfterCommit: () => stopAfter,
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

/** One thing at a time across every tab of this origin, under the Web Lock `name`; `onWait` told when it has to wait. */
const webLock =
  (name: string) =>
  async <T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> => {
    const now = await ifAvailable(name, fn);
    if (now) return now.value;
    onWait?.();
    return withLock(name, fn);
  };

let sandbox: Promise<Sandbox> | undefined;
/** The Learn tab's lakehouse, opened on first use, once the engine runs. */
function learn(): Promise<Sandbox> {
  sandbox ??= (async () => {
    const [{ openSandbox }, { openBrowserEngine }, storage] = await Promise.all([
      import('./learn.ts'),
      import('../engine/browser.ts'),
      chooseStorage(LEARN_ROOT),
      start(),
    ]);
    return openSandbox({
      storage: storage.storage,
      silverSql: SILVER_SQL,
      openEngine: openBrowserEngine,
      goldSql: GOLD_SQL,
      expectationsText,
      exclusive: webLock(LEARN_LOCK),
    });
  })();
  sandbox.catch(() => (sandbox = undefined));
  return sandbox;
}

/** The lakehouse for a run, saying so first when the run has to wait for the engine to start. */
async function lakeForRun(report: ((p: Progress) => void) | undefined): Promise<Lakehouse> {
  if (!engineUp) report?.({ stage: 'bronze', done: 0, waiting: 'Waiting for the engine to start…' });
  return lake();
}

/** The connected bucket or container, if any (remote.ts): its credentials live only here. */
const remoteStore = new RemoteStore();

/** A progress callback from the page (a comlink proxy): never awaited, released when the run ends. */
async function withProgress<R, P extends object = Progress>(onProgress: ((p: P) => void) | undefined, fn: (report?: (p: P) => void) => Promise<R>): Promise<R> {
  const remote = onProgress as ((p: P) => unknown) | undefined;
  try {
    return await fn(remote && ((p) => void Promise.resolve(remote(p)).catch(() => {})));
  } finally {
    (remote as Remote<(p: P) => void> | undefined)?.[releaseProxy]?.();
  }
}

const isDirectory = (x: unknown): x is FileSystemDirectoryHandle => typeof FileSystemDirectoryHandle !== 'undefined' && x instanceof FileSystemDirectoryHandle;

const sent = (d: Download): Download => transfer(d, [d.bytes.buffer as ArrayBuffer]);

/** What each call does is said once, on the Api interface (protocol.ts). */
const api: Api = {
  async ping(): Promise<true> {
    return true;
  },

  open: withContext('opening the lakehouse', async (): Promise<OpenedLakehouse> => {
    const { storage, persistent, limitations } = await openStore();
    return { storage: storage.description, persistent, limitations };
  }),

  init: withContext('starting the engine', async (): Promise<Versions> => (await start()).versions),

  run: withContext('running the pipeline', (options: RunOptions, onProgress?: (p: Progress) => void) =>
    withProgress(onProgress, async (report) => (await lakeForRun(report)).run(options, report)),
  ),

  ingest: withContext('ingesting a file', (fileName: string, bytes: Uint8Array, onProgress?: (p: Progress) => void) =>
    withProgress(onProgress, async (report) => (await lakeForRun(report)).ingest(fileName, bytes, report)),
  ),

  lineage: withContext('reading the lineage', async () => (await openStore()).reader.lineage()),

  repair: withContext('finishing the run that stopped early', (onProgress?: (p: Progress) => void) =>
    withProgress(onProgress, async (report) => (await lakeForRun(report)).repair(report)),
  ),

  stopAfterCommit: withContext('setting the stop-after-commit hook', async (which: string | undefined) => {
    stopAfter = which === undefined ? undefined : checkStopAfterCommit(which);
  }),

  engineMemoryLimit: withContext('setting the engine’s memory limit', async (limit?: string | null) => {
    const { engine } = await start();
    if (limit !== undefined) setMemoryLimit(engine, limit ?? WASM_MEMORY_LIMIT);
    return { limit: memoryLimit(engine) ?? 'unknown', used: memoryUsed(engine) };
  }),

  cancel: withContext('cancelling the run', async () => (await lake()).cancel()),

  vacuum: withContext('vacuuming the lakehouse', async (options?: LakeVacuumOptions) => (await lake()).vacuum(options)),

  listTemporaryFiles: withContext('listing temporary files', async (dir: string = ''): Promise<FileInfo[]> => {
    return (await (await openStore()).storage.listTemporary?.(dir)) ?? [];
  }),

  reset: withContext('resetting the lakehouse', async () => (await lake()).reset()),

  running: withContext('asking whether a run is in progress', async () => (await lake()).running()),

  tables: withContext('listing the tables', async () => (await openStore()).reader.tables()),

  table: withContext('reading a table’s log', async (path: string) => {
    const { reader } = await openStore();
    return { ...(await explainUnreachable(reader.table(path))), openedFrom: openedFrom(reader.mounted, path) };
  }),

  commit: withContext('reading a commit', async (path: string, version: number) => (await openStore()).reader.catalog.commit(path, version)),

  profile: withContext('profiling a table', async (path: string, version?: number) => (await lake()).profile(path, version)),

  readAhead: withContext('reading ahead', async (path: string, limit: number) => (await lake()).readAhead(path, limit)),

  rows: withContext('reading rows', async (path: string, version?: number, limit?: number, offset?: number, filter?: string) =>
    explainUnreachable((await lake()).rows(path, version, limit, offset, filter)),
  ),

  query: withContext('SQL', async (sql: string) => (await lake()).query(sql)),

  queries: withContext('SQL', async (sql: string) => (await lake()).queries(sql)),

  consolePage: withContext('paging the result', async (id: number, offset: number, limit: number, sort?: ConsoleSort) =>
    (await lake()).consolePage(id, offset, limit, sort),
  ),

  consoleFile: withContext('reading the file', async (fileName: string, bytes: Uint8Array) => (await lake()).consoleFile(fileName, bytes)),

  consoleDownload: withContext('making the download', async (id: number, format: 'csv' | 'parquet', sort?: ConsoleSort) =>
    sent(await (await lake()).consoleDownload(id, format, sort)),
  ),

  goldTable: withContext(
    'reading a gold table',
    async (name: string, version?: number) => (await (await openStore()).reader.goldTable(name, version)) ?? (await lake()).goldTable(name, version),
  ),

  quality: withContext('reading data quality', async () => (await lake()).quality()),

  downloadParquet: withContext('making the Parquet file', async (name: string) => sent(await (await lake()).downloadParquet(name))),

  downloadZip: withContext('making the .zip', async (path: string) => (await lake()).downloadZip(path)),

  exportLakehouse: withContext('exporting the lakehouse', async () => (await lake()).exportLakehouse()),

  importLakehouse: withContext('importing the lakehouse', async (name: string, archive: ZipInput, replace?: boolean | 'check') =>
    (await lake()).importLakehouse(name, archive, replace),
  ),

  optimize: withContext('optimizing the table', async (path: string) => (await lake()).optimize(path)),

  vacuumTable: withContext('vacuuming the table', async (path: string, options?: TableVacuumOptions) => (await lake()).vacuumTable(path, options)),

  tablesIn: withContext('looking for Delta tables', async (name: string, from: ZipInput | FileSystemDirectoryHandle | FolderFile[]) =>
    tablesIn(name, Array.isArray(from) || !isDirectory(from) ? from : await filesOfDirectory(from)),
  ),

  openZip: withContext('opening the .zip', async (name: string, archive: ZipInput, root?: string) => (await lake()).open(await zipSource(name, archive, root))),

  openFolder: withContext('opening the folder', async (name: string, from: FileSystemDirectoryHandle | FolderFile[], root?: string) =>
    (await lake()).open(folderSource(name, Array.isArray(from) ? from : await filesOfDirectory(from), root)),
  ),

  openedReads: withContext('reading the opened table', async (path: string) => {
    const reads = await (await lake()).openedReads(path);
    return reads.kind === 'store' ? { ...reads, requests: remoteStore.requests() } : reads;
  }),

  connectStore: withContext('connecting to the store', async (connection: Connection) => {
    await openStore();
    return remoteStore.connect(connection);
  }),

  storeTables: withContext('listing the store’s tables', async () => remoteStore.tables()),

  openStoreTable: withContext('opening the store’s table', async (root: string) => {
    const source = remoteStore.source(root);
    return explainUnreachable((await lake()).open(source));
  }),

  pushToStore: withContext('pushing the lakehouse', (onProgress?: (p: CopyProgress) => void) =>
    withProgress(onProgress, async (report) => explainUnreachable((await lake()).push(remoteStore.storage(), report))),
  ),

  pullFromStore: withContext('pulling the lakehouse', (onProgress?: (p: CopyProgress) => void) =>
    withProgress(onProgress, async (report) => explainUnreachable((await lake()).pull(remoteStore.storage(), report))),
  ),

  disconnectStore: withContext('disconnecting the store', async () => {
    remoteStore.disconnect();
    if (runtime) (await lake()).close((source) => source.kind === 'store');
  }),

  checkerThreads: withContext('setting checker threads', async (threads: number | undefined) => useCheckerThreads(threads)),

  producerThread: withContext('setting the producer worker', async (on: boolean | undefined) => useProducer(on)),

  encoderThread: withContext('setting the encoder worker', async (on: boolean | undefined) => useEncoder(on)),

  metrics: withContext(
    'reading memory figures',
    async (): Promise<WorkerMetrics> => workerMetrics(runtime ? (await import('../engine/browser.ts')).duckdbWasmBytes() : null),
  ),

  storageInfo: withContext('asking about storage', async (): Promise<StorageInfo> => {
    // Engines without navigator.storage (WebKitGTK) answer "unknown"; a lakehouse in memory is never persistent.
    const estimate = await navigator.storage?.estimate().catch(() => undefined);
    const persisted = (await openStore()).persistent ? await (navigator.storage?.persisted().catch(() => null) ?? null) : false;
    return { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted };
  }),

  storageSelfTest: withContext('OPFS storage self-test', async (): Promise<string[]> => {
    return checkStorage(await OpfsStorage.open(SELFTEST_ROOT));
  }),

  listFiles: withContext('listing files', async (dir: string = ''): Promise<FileInfo[]> => {
    return (await openStore()).storage.list(dir);
  }),

  readFile: withContext('reading a file', async (path: string): Promise<Uint8Array> => {
    const bytes = await (await openStore()).storage.read(path);
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  }),

  createFile: withContext('creating a file', async (path: string, bytes: Uint8Array): Promise<boolean> => {
    return (await openStore()).storage.putIfAbsent(path, bytes);
  }),

  writeFile: withContext('writing a file', async (path: string, bytes: Uint8Array): Promise<void> => {
    await (await openStore()).storage.write(path, bytes);
  }),

  learnReset: withContext('resetting the lessons’ lakehouse', async () => (await learn()).reset()),
  learnTables: withContext('listing the lessons’ tables', async () => (await learn()).tables()),
  learnTable: withContext('reading a lesson table’s log', async (path: string) => (await learn()).table(path)),
  learnCommit: withContext('reading a lesson commit', async (path: string, version: number) => (await learn()).commit(path, version)),
  learnRowsAt: withContext('reading a lesson table at a version', async (path: string, version: number) => (await learn()).rowsAt(path, version)),
  learnFileMap: withContext('mapping a lesson table’s files', async (path: string) => (await learn()).fileMap(path)),
  learnLog: withContext('listing a lesson table’s log', async (path: string) => (await learn()).logView(path)),
  learnRunBatch: withContext('running a lesson batch', async () => (await learn()).runBatch()),
  learnSampleEvent: withContext('making a sample event', async () => (await learn()).sampleEvent()),
  learnIngest: withContext('sending the lesson’s lines', async (text: string) => (await learn()).ingest(text)),
  learnOptimize: withContext('optimizing a lesson table', async (path: string) => (await learn()).optimize(path)),
  learnVacuum: withContext('vacuuming a lesson table', async (path: string) => (await learn()).vacuum(path)),
  learnFillToCheckpoint: withContext('writing commits up to a checkpoint', async () => (await learn()).fillToCheckpoint()),
  learnRace: withContext('racing two writers', async () => (await learn()).race()),
  learnRerun: withContext('re-running silver', async () => (await learn()).rerun()),
};

carryErrors();
expose(api);

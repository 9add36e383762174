/**
 * What the page and the lakehouse worker say to each other: the api the worker exposes
 * (worker.ts implements it; on the page every call returns a promise), what it answers, and how
 * an error crosses. Both sides import this file; the page imports nothing else from src/worker/
 * (boot.ts starts the worker through spawn.ts, main.ts connects to it through client.ts).
 */
import { transferHandlers, type Remote, type TransferHandler } from 'comlink';
import type { OptimizeResult } from '../delta/optimize.ts';
import type { VacuumOptions, VacuumResult } from '../delta/vacuum.ts';
import { errorCode } from '../errors.ts';
import type { Progress } from '../pipeline/context.ts';
import type { RunSummary } from '../pipeline/lakehouse.ts';
import type { Lineage, TableLineage } from '../pipeline/lineage.ts';
import type { RepairResult } from '../pipeline/repair.ts';
import type { RunOptions } from '../pipeline/run-options.ts';
import type { CopiedTable, CopyProgress } from '../delta/copy.ts';
import type { Connection } from '../storage/connection.ts';
import type { FileInfo } from '../storage/types.ts';
import type { ZipInput } from '../unzip.ts';

export { errorCode } from '../errors.ts';
export { CancelledError } from '../pipeline/context.ts';
export { RUN_DEFAULTS, runOptionProblem, type RunOptions } from '../pipeline/run-options.ts';
export { StoreUnreachableError } from '../storage/object.ts';
export { DivergedError } from '../delta/copy.ts';
export type { Connection, S3Connection, AzureConnection } from '../storage/connection.ts';
export type { CopiedTable, CopyProgress, FileInfo, Lineage, OptimizeResult, Progress, RepairResult, RunSummary, TableLineage, VacuumResult, ZipInput };

export interface Api {
  /** Answers as soon as the worker runs; starts nothing. */
  ping(): Promise<true>;
  /** Open the lakehouse's storage (once), without the engine: then tables, table, commit and goldTable answer. */
  open(): Promise<OpenedLakehouse>;
  /** Start everything (once); the versions of what runs. */
  init(): Promise<Versions>;
  /** Generate a batch (seed, events, days, invalid rate) and run it bronze → silver → gold, like `cli run`. */
  run(options: RunOptions, onProgress?: (p: Progress) => void): Promise<RunSummary>;
  /** A .jsonl file as a batch through bronze, silver and gold, like `cli ingest`. */
  ingest(fileName: string, bytes: Uint8Array, onProgress?: (p: Progress) => void): Promise<RunSummary>;
  /**
   * What each silver and gold table was computed from (the versions of its inputs its log records),
   * which tables are behind their inputs, and the versions that agree with one another. From the logs alone.
   */
  lineage(): Promise<Lineage>;
  /** Finish what a run stopped earlier left undone (bronze silver has not taken in, gold older than silver), like `cli status --repair`. */
  repair(onProgress?: (p: Progress) => void): Promise<RepairResult>;
  /** A test hook: runs stop right after this commit (a table such as `silver/events`, or the run's n-th commit), as a crash there would; undefined: they do not. */
  stopAfterCommit(which: string | undefined): Promise<void>;
  /**
   * A test hook: DuckDB-WASM's memory_limit set to `limit` (`'24MB'`; null: the project's own,
   * WASM_MEMORY_LIMIT; undefined: left as it is); the limit as DuckDB says it, and the bytes its
   * buffer manager holds.
   */
  engineMemoryLimit(limit?: string | null): Promise<{ limit: string; used: number }>;
  /** Stop the run in flight (false if none); it stops at its next step (CancelledError), every table at its last commit. */
  cancel(): Promise<boolean>;
  /** VACUUM every table, as `cli vacuum` does; one result per table. */
  vacuum(options?: LakeVacuumOptions): Promise<VacuumResult[]>;
  /** The temporary files (`.<uuid>.tmp`) below a folder of the lakehouse, which listFiles leaves out: writes in flight or cut short. */
  listTemporaryFiles(dir?: string): Promise<FileInfo[]>;
  /** Delete every table of the lakehouse. */
  reset(): Promise<void>;
  running(): Promise<boolean>;
  /** Every table with its version, rows, files and bytes: from the logs, no data read. */
  tables(): Promise<TableSummary[]>;
  /** Schema, files, history and versions of one table (e.g. "silver/events"). */
  table(path: string): Promise<TableDetails>;
  /** The actions of one commit of a table, pretty-printed. */
  commit(path: string, version: number): Promise<CommitView>;
  /** Per column: nulls, distinct values, min, max and a small histogram, at a version (default latest). */
  profile(path: string, version?: number): Promise<VersionProfile>;
  /**
   * A page of rows as they were at a version (default latest). `filter` (optional): conditions
   * like `year = '2021' AND id >= 10`; only the files that can match are read.
   */
  rows(path: string, version?: number, limit?: number, offset?: number, filter?: string): Promise<RowsPage>;
  /**
   * Read `path`'s log and first `limit` rows (as `rows` with no version shows them) while the user
   * is elsewhere, and keep the page for the first `rows` call that asks for it: the page does
   * this for the table its Explorer opens on, once the engine is up.
   */
  readAhead(path: string, limit: number): Promise<void>;
  /** One read-only statement of the SQL console; `name@vN` reads version N. */
  query(sql: string): Promise<ConsoleResult>;
  /** The console's statements separated by `;`: every one checked first, then run in order until one fails. */
  queries(sql: string): Promise<ConsoleBatch>;
  /** Rows of a console result from `offset`, sorted by one of its columns when asked. */
  consolePage(id: number, offset: number, limit: number, sort?: ConsoleSort): Promise<ConsolePage>;
  /** A CSV, Parquet or JSON file as a table of the console, `file_<name>`. */
  consoleFile(fileName: string, bytes: Uint8Array): Promise<ConsoleFile>;
  /** A console result whole, as `result-<id>.csv` or `.parquet`. */
  consoleDownload(id: number, format: 'csv' | 'parquet', sort?: ConsoleSort): Promise<Download>;
  /** A gold table's rows at a version (default latest), typed, for the dashboard. */
  goldTable(name: string, version?: number): Promise<GoldData>;
  /** Rejects by stage and rule, sample rejects, expectation results per batch. */
  quality(): Promise<QualityReport>;
  /** A gold table as one Parquet file: `<name>.parquet`. */
  downloadParquet(name: string): Promise<Download>;
  /** A table's Delta folder (data and `_delta_log`) as a .zip (a Blob: cloned to the page by reference). */
  downloadZip(path: string): Promise<ArchiveDownload>;
  /** The whole lakehouse (every table's Delta folder, its whole log) as one .zip: `creatorops-lakehouse.zip`. */
  exportLakehouse(): Promise<ExportResult>;
  /**
   * Restore a lakehouse exported as .zip; a lakehouse that has tables is replaced only when `replace`
   * is true; `'check'` checks the whole archive and says what an import would bring and replace,
   * writing nothing (the page asks before replacing only archives that pass).
   * `archive`: the File the user picked (read in slices, never whole) or its bytes.
   */
  importLakehouse(name: string, archive: ZipInput, replace?: boolean | 'check'): Promise<ImportResult>;
  /** OPTIMIZE one table (small files compacted, `dataChange: false`). */
  optimize(path: string): Promise<OptimizeResult>;
  /** VACUUM one table; a retention under the table's (7 days) needs `force`. */
  vacuumTable(path: string, options?: TableVacuumOptions): Promise<VacuumResult>;
  /**
   * Open a .zip of a Delta table (from Spark, delta-rs, Databricks…) read-only at `opened/<name>`:
   * its details, or why it cannot be read. From then on it is a table like the others (table, rows,
   * profile, commit, the SQL console as `opened_<name>`). An archive of several tables needs `root`,
   * the folder of the one to open (see tablesIn); without it, SeveralTablesError.
   */
  openZip(name: string, archive: ZipInput, root?: string): Promise<TableDetails>;
  /**
   * Open a folder holding a Delta table, read-only: a directory handle (File System Access API) or
   * the files of `<input webkitdirectory>` (paths relative to the picked folder). Nothing but the
   * `_delta_log` is read until rows are asked for. `root` as for openZip.
   */
  openFolder(name: string, from: FileSystemDirectoryHandle | FolderFile[], root?: string): Promise<TableDetails>;
  /** The folders of a .zip or a folder that hold a Delta table ('' for its root), in name order: more than one, and the page asks which. */
  tablesIn(name: string, from: ZipInput | FileSystemDirectoryHandle | FolderFile[]): Promise<string[]>;
  /** The data files of an opened table read so far (null for a .zip). */
  openedReads(path: string): Promise<OpenedReads>;

  // Object storage (S3-compatible, Azure Blob): one connection at a time, its credentials in the worker's memory only.
  /** Connect to a bucket or container (replacing any connection) and list the Delta tables below its prefix. */
  connectStore(connection: Connection): Promise<StoreListing>;
  /** The Delta tables below the connected prefix, listed again. */
  storeTables(): Promise<StoreListing>;
  /** Open a table of the connected store read-only (`root`: its folder below the prefix), like a .zip or a folder. */
  openStoreTable(root: string): Promise<TableDetails>;
  /** Copy the browser's lakehouse to the connected prefix with its history, as `cli push` does (a diverged history: DivergedError). */
  pushToStore(onProgress?: (p: CopyProgress) => void): Promise<CopiedTable[]>;
  /** Copy the lakehouse at the connected prefix into the browser's, as `cli pull` does. */
  pullFromStore(onProgress?: (p: CopyProgress) => void): Promise<CopiedTable[]>;
  /** Drop the connection and its credentials; tables opened from it are closed. */
  disconnectStore(): Promise<void>;
  /** How many checker workers silver's line checks use from the next run on (tests, benchmarks; undefined: from the cores). */
  checkerThreads(threads: number | undefined): Promise<void>;
  /** Whether a generated run's lines are made and checked on a worker of their own from the next run on (tests, benchmarks; undefined: with two cores or more). */
  producerThread(on: boolean | undefined): Promise<void>;
  /** Whether a run encodes silver/events' Parquet on a worker of its own from the next run on (tests, benchmarks; undefined: with two cores or more). */
  encoderThread(on: boolean | undefined): Promise<void>;
  /** Memory the worker holds (wasm linear memories, JS heap), for benchmarks. */
  metrics(): Promise<WorkerMetrics>;
  /** How much storage this origin uses, and whether it is persistent. */
  storageInfo(): Promise<StorageInfo>;
  /** Run the storage contract on real OPFS, in a folder apart from the lakehouse; [] = passed. */
  storageSelfTest(): Promise<string[]>;
  /** The files below a folder of the lakehouse ('' = all), sorted by path. */
  listFiles(dir?: string): Promise<FileInfo[]>;
  readFile(path: string): Promise<Uint8Array>;
  /** Create a file of the lakehouse unless it exists (atomic, across tabs); false if it did. */
  createFile(path: string, bytes: Uint8Array): Promise<boolean>;
  /** Create or replace one file of the lakehouse (e.g. to import a table's files). */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;

  // The Learn tab's lessons: each call works on the sandbox lakehouse (OPFS learn/), never on the user's.
  /** Delete every table of the sandbox. */
  learnReset(): Promise<void>;
  learnTables(): Promise<TableSummary[]>;
  learnTable(path: string): Promise<TableDetails>;
  learnCommit(path: string, version: number): Promise<CommitView>;
  /** A sandbox table's rows at a version, counted per batch. */
  learnRowsAt(path: string, version: number): Promise<VersionRows>;
  /** Every version of a sandbox table and the data files it reads. */
  learnFileMap(path: string): Promise<FileMap>;
  /** The files of a sandbox table's `_delta_log`, and which of them a reader of the latest version reads. */
  learnLog(path: string): Promise<LogView>;
  /** A small generated batch (some lines invalid) through bronze, silver and gold. */
  learnRunBatch(): Promise<LearnBatch>;
  /** A valid event line, for the learner to edit. */
  learnSampleEvent(): Promise<string>;
  /** The learner's lines as a batch of their own. */
  learnIngest(text: string): Promise<LearnBatch>;
  learnOptimize(path: string): Promise<OptimizeStep>;
  /** VACUUM with no retention (sandbox only), then an attempt to read the oldest version. */
  learnVacuum(path: string): Promise<VacuumStep>;
  /** Small commits to bronze until the next checkpoint. */
  learnFillToCheckpoint(): Promise<LogView>;
  /** Two writers run a batch at the same moment. */
  learnRace(): Promise<RaceResult>;
  /** Silver run again over bronze, then its last transaction committed again on purpose. */
  learnRerun(): Promise<RerunResult>;
}

/** What one lesson batch did in every layer. */
export interface LearnBatch {
  batchId: string;
  bronzeRows: number;
  silverRows: number;
  rejectedRows: number;
  /** rejected rows by reason (a schema error, an expectation's name, `duplicate_event_id`…) */
  rejectsByReason: Record<string, number>;
  /** rows kept that broke a `warn` expectation, by its name */
  warnings: Record<string, number>;
  /** this batch's rows of silver/rejects: stage, reasons, errors, raw line */
  rejects: Grid;
  /** the commits the batch made: table and new version */
  commits: { path: string; version: number }[];
  /** every table of the sandbox after the batch */
  tables: TableSummary[];
}

export interface VersionRows {
  path: string;
  version: number;
  total: number;
  byBatch: { batchId: string; rows: number }[];
}

export interface FileMap {
  path: string;
  /** oldest first */
  versions: { version: number; operation: string; files: number[]; checkpoint: boolean }[];
  /** every data file some version reads; `present`: still on disk */
  files: { path: string; rows: number | null; size: number; firstVersion: number; present: boolean }[];
}

export interface LogView {
  path: string;
  latest: number;
  /** names inside `_delta_log/` */
  files: { name: string; size: number }[];
  /** the text of `_last_checkpoint`, if any */
  lastCheckpoint: string | null;
  /** the checkpoint a reader of the latest version starts from (null: none, it starts at version 0) */
  readerStart: number | null;
  /** the JSON commits it replays after it */
  readerCommits: number[];
}

export interface OptimizeStep {
  result: OptimizeResult;
  /** the OPTIMIZE commit (null when there was nothing to compact) */
  commit: CommitView | null;
  /** rows before and after */
  rows: VersionRows[];
  map: FileMap;
}

export interface VacuumStep {
  result: VacuumResult;
  map: FileMap;
  /** reading the oldest version after VACUUM: its rows, or why it failed */
  oldRead: { version: number; rows?: VersionRows; error?: string };
  latest: VersionRows;
}

export interface RaceResult {
  /** every commit file a writer tried to create, in order, and whether it got it */
  attempts: { writer: 'A' | 'B'; file: string; version: number; won: boolean }[];
  /** the retries a writer reported (a conflict at silver or gold: re-read, do the step again) */
  retries: { writer: 'A' | 'B'; stage: string; message: string }[];
  /** a writer that lost at silver or gold more often than the pipeline retries (its batch then taken in by the next silver run) */
  gaveUp: { writer: 'A' | 'B'; message: string }[];
  /** each writer's bronze commit: the version it read and the version it got */
  bronze: { writer: 'A' | 'B'; batchId: string; version: number; readVersion: number; rows: number }[];
  /** each writer's batch in silver, at its latest version */
  silver: { writer: 'A' | 'B'; batchId: string; rows: number }[];
  silverVersion: number;
}

export interface RerunResult {
  /** silver's transaction record: the bronze version it took in last */
  txn: { appId: string; version: number };
  bronzeVersion: number;
  before: { version: number; rows: VersionRows };
  /** bronze batches silver took in on the re-run */
  processed: number;
  /** silver's version after the re-run */
  afterVersion: number;
  /** the last transaction committed again under the same txn */
  replay: { refused: boolean; message: string };
  after: { version: number; rows: VersionRows };
  /** the txn actions of silver's last commit */
  txnActions: { appId: string; version: number }[];
}

/** What the page sets of a table's VACUUM: `{ retentionHours, force, dryRun }`, as for `cli vacuum`. */
export type TableVacuumOptions = Pick<VacuumOptions, 'retentionHours' | 'force' | 'dryRun'>;
/** The same for every table, and how old a temporary file must be to go. */
export type LakeVacuumOptions = Pick<VacuumOptions, 'retentionHours' | 'force' | 'dryRun' | 'temporaryMinAgeHours'>;

/** A table's profile at the version it was read at. */
export type VersionProfile = TableProfile & { path: string; version: number };

export interface OpenedReads {
  kind: 'zip' | 'folder' | 'store';
  /** the data files read so far; null when the source does not count them */
  read: string[] | null;
  /** a store's table: the requests sent to the store since it was connected (listings, logs, data); else null */
  requests: number | null;
}

/** The Delta tables of a connected bucket or container. */
export interface StoreListing {
  /** e.g. s3://bucket/prefix, az://container/prefix */
  where: string;
  /** where every request goes, e.g. https://s3.eu-west-1.amazonaws.com */
  origin: string;
  /** folders holding `_delta_log/` ('' for the prefix itself), with the latest commit their log names */
  tables: { path: string; version: number; objects: number; bytes: number }[];
  /** requests sent to the store since it was connected */
  requests: number;
}

/** An error as the page gets it from the worker: the name and code it had there, and its message. */
export class WorkerError extends Error {
  readonly code: string | undefined;
  constructor(message: string, name: string, code: string | undefined) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

interface WireError {
  name: string;
  message: string;
  code: string | undefined;
  stack: string | undefined;
}

let carrying = false;

/**
 * Comlink hands a thrown error across as a plain Error with its name and message; the code, by
 * which the page tells errors apart, would be lost. Registered on both sides (client.ts,
 * worker.ts), this handler sends the code too and makes the error a WorkerError on arrival.
 */
export function carryErrors(): void {
  if (carrying) return;
  carrying = true;
  const base = transferHandlers.get('throw')!;
  const handler: TransferHandler<unknown, unknown> = {
    canHandle: (value): value is unknown => base.canHandle(value),
    serialize(thrown) {
      const { value } = thrown as { value: unknown };
      if (!(value instanceof Error)) return base.serialize(thrown);
      const wire: WireError = { name: value.name, message: value.message, code: errorCode(value), stack: value.stack };
      return [{ isError: true, value: wire }, []];
    },
    deserialize(serialized) {
      const { isError, value } = serialized as { isError: boolean; value: WireError };
      if (!isError) return base.deserialize(serialized);
      const err = new WorkerError(value.message, value.name, value.code);
      if (value.stack !== undefined) err.stack = value.stack;
      throw err;
    },
  };
  transferHandlers.set('throw', handler);
}

/** What runs: the engine's versions and where the tables are. */
export interface Versions {
  /** e.g. "v1.4.3" */
  duckdb: string;
  /** the @duckdb/duckdb-wasm package, e.g. "1.32.0" */
  duckdbWasm: string;
  /** where the tables are, e.g. "OPFS lakehouse/" */
  storage: string;
}

/** What `open()` tells the page: where the tables are, and what this browser goes without. */
export interface OpenedLakehouse {
  /** e.g. "OPFS lakehouse/" or "memory (this tab only)" */
  storage: string;
  /** whether the tables outlive the tab (false: kept in memory) */
  persistent: boolean;
  limitations: Limitation[];
}

/** A browser API this page goes without here, why, and what that costs the user (shown in a banner). */
export interface Limitation {
  feature: 'opfs' | 'sync-access' | 'web-locks' | 'service-worker';
  /** what the browser said, e.g. "SecurityError: Security error when calling GetDirectory" */
  reason: string;
  /** what is different for the user, in plain words */
  effect: string;
}

/** How much storage this origin uses, and whether it is persistent. */
export interface StorageInfo {
  /** bytes this origin uses (all of OPFS and caches), when the browser says */
  usage: number | null;
  quota: number | null;
  /** whether the browser promised not to evict this origin's data */
  persisted: boolean | null;
}

/** `opened`: a table opened from a .zip or a folder, mounted read-only at `opened/<name>`. */
export type Layer = 'bronze' | 'silver' | 'gold' | 'opened';

export interface TableSummary {
  path: string;
  view: string;
  layer: Layer;
  version: number;
  /** from the files' stats; null when a file has none */
  rows: number | null;
  files: number;
  bytes: number;
  /** when the latest commit was written, ms since the epoch */
  updated: number;
  /** set while a newer batch is partly in the table's layer: the version every view shows by default */
  partlyIn?: PartlyIn;
}

/**
 * How a table is shown by default while a newer batch is partly in its layer (a run stopped between
 * the layer's commits): at the version consistent with the rest of the layer (Lineage.consistent).
 * Time travel still reaches every version.
 */
export interface PartlyIn {
  /** the version every default read shows; may be the latest, when the newer batch is in other tables of the layer */
  version: number;
  /** rows at that version, from the files' stats; null when a file has none */
  rows: number | null;
  /** what every view says, in the same words (Lineage.partlyIn of the layer) */
  note: string;
}

export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
}

export interface FileEntry {
  path: string;
  size: number;
  /** the rows of the logical file: those its deletion vector deletes are not counted */
  rows: number | null;
  /** rows of the data file its deletion vector deletes (0 without one) */
  deletedRows: number;
  modified: number;
  partitionValues: Record<string, string | null>;
}

export interface HistoryRow {
  version: number;
  timestamp: number;
  operation: string;
  /** operationParameters, each value as text */
  parameters: Record<string, string>;
  filesAdded: number;
  filesRemoved: number;
  bytesAdded: number;
  rowsAdded: number | null;
  rowsRemoved: number | null;
  /** the inputs the commit says it was computed from (gold: `silver/events v7`); null when it names none */
  computedFrom: string | null;
}

export interface TableDetails extends TableSummary {
  /** an opened table's source: a .zip, a folder, or a bucket's table (`store`), by where it is; undefined for the lakehouse's own */
  openedFrom?: { kind: 'zip' | 'folder' | 'store'; where: string };
  name: string | null;
  description: string | null;
  id: string;
  createdTime: number | null;
  partitionColumns: string[];
  protocol: { minReaderVersion: number; minWriterVersion: number };
  configuration: Record<string, string>;
  schema: ColumnInfo[];
  /** the live data files of the latest version */
  dataFiles: FileEntry[];
  /** newest first */
  history: HistoryRow[];
  /** versions with a checkpoint file */
  checkpoints: number[];
  /** the versions that time travel can reach (every commit still in the log, or covered by a checkpoint) */
  versions: number[];
  /** those of `versions` whose data files are gone (deleted by VACUUM): their rows cannot be read */
  unreadable: number[];
}

export interface CommitView {
  path: string;
  version: number;
  /** the log file, relative to the lakehouse root */
  file: string;
  /** one entry per action (line) of the commit, pretty-printed */
  actions: { kind: string; json: string }[];
}

/** Rows ready for a table on the page: every value as DuckDB prints it, so nothing is rounded. */
export interface Grid {
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

export interface RowsPage extends Grid {
  path: string;
  version: number;
  /** rows in the table at that version (matching the filter, when there is one) */
  total: number;
  offset: number;
  /** with a filter: its SQL, and the data files read of the version's (the others skipped) */
  filter?: { sql: string; read: number; total: number; skippedByPartition: number; skippedByStats: number; text: string };
}

export interface ConsoleResult extends Grid {
  /** names the result for paging, sorting and downloads (the console keeps the last few) */
  id: number;
  /** the statement as the user wrote it */
  statement: string;
  /** the statement as it ran, after the time-travel rewrite */
  sql: string;
  rowCount: number;
  /** more rows than the page was given */
  truncated: boolean;
  ms: number;
  /** the tables this statement read, e.g. silver_events@v3 */
  tables: string[];
  /**
   * per table the statement names: how many of its data files were read, and how many its WHERE
   * let skip (partition values, min/max statistics), e.g. "read 2 of 6 files (4 skipped: 4 by partition values)"
   */
  files: { table: string; read: number; total: number; skippedByPartition: number; skippedByStats: number; text: string }[];
  /** for each layer a view the statement read by its plain name was shown at its consistent version: what is partly in (PartlyIn.note) */
  partlyIn: string[];
}

/** What a run of several statements gave: a result per statement that ran, and the one that failed, if one did (those after it did not run). */
export interface ConsoleBatch {
  statements: number;
  results: ConsoleResult[];
  error?: { index: number; statement: string; message: string; code: string | undefined };
}

/** The files the console reads as tables (`consoleFile`), by extension. */
export const CONSOLE_FILE_EXTENSIONS = ['csv', 'parquet', 'json', 'jsonl', 'ndjson'] as const;

/** A file the console reads as a table. */
export interface ConsoleFile {
  /** its name in SQL, e.g. file_sales_2024 */
  view: string;
  file: string;
  columns: { name: string; type: string }[];
  rows: number;
}

/** Sort a console result by its column at index `column`. */
export interface ConsoleSort {
  column: number;
  descending: boolean;
}

export interface ConsolePage extends Grid {
  id: number;
  offset: number;
  rowCount: number;
}

/** A column at a glance: how full, how varied, its range, and the shape of its values. */
export interface ColumnProfile {
  name: string;
  type: string;
  kind: 'numeric' | 'temporal' | 'categorical';
  nulls: number;
  distinct: number;
  min: string | null;
  max: string | null;
  /**
   * numeric and temporal: up to BINS equal-width bins from min to max; categorical: the most
   * frequent values (and "other"); empty when every value is distinct or there are none
   */
  histogram: { label: string; count: number }[];
}

export interface TableProfile {
  rows: number;
  columns: ColumnProfile[];
}

/** What happened to the records that did not make it, and how each batch fared against the rules. */
export interface QualityReport {
  rejects: number;
  /** all four stages, in pipeline order */
  byStage: { stage: string; rows: number }[];
  byRule: { stage: string; rule: string; rows: number }[];
  /** the most recent rejects first */
  samples: RejectSample[];
  /** the most recent batch first */
  batches: BatchQuality[];
  /** set while a newer batch is partly in silver: the report is of silver/rejects and silver/quality at their consistent versions (PartlyIn.note) */
  partlyIn?: string;
}

export interface RejectSample {
  raw: string;
  eventId: string | null;
  stage: string;
  reasons: string[];
  errors: string[];
  batchId: string;
  /** e.g. 2025-03-01 12:00:00+00 */
  rejectedAt: string;
}

export interface BatchQuality {
  batchId: string;
  /** `generator` or `upload:<file name>`, from the bronze commit */
  source: string | null;
  bronzeVersion: number | null;
  /** when bronze took the batch in, ms since the epoch */
  ingestedAt: number | null;
  records: number | null;
  expectations: { name: string; action: string; passed: number; failed: number }[];
  /** the `fail` expectation that stopped the batch, if one did */
  stoppedBy: string | null;
}

export interface GoldData {
  name: string;
  path: string;
  version: number;
  columns: { name: string; type: string }[];
  /** typed as `cli read` prints them: numbers, text, ISO timestamps, dates as YYYY-MM-DD */
  rows: Record<string, unknown>[];
}

/** One file of a picked folder: its path inside the folder, and the browser's lazy handle on it. */
export interface FolderFile {
  path: string;
  file: Blob;
  /** ms since the epoch (File.lastModified) */
  modified?: number;
}

/** What the worker holds in memory, for benchmarks and the devtools console. */
export interface WorkerMetrics {
  /** DuckDB-WASM's linear memory (it only grows, so this is its peak); null before the engine started */
  duckdbWasmBytes: number | null;
  /** parquet-wasm's linear memory (also only grows); null before it was loaded */
  parquetWasmBytes: number | null;
  /** the largest linear memory a run's Parquet encoder worker had (it ends with its run); null when none ran */
  encoderWasmBytes: number | null;
  /** this worker's JS heap, where the browser tells (Chromium's performance.memory); else null */
  jsHeapUsedBytes: number | null;
  jsHeapTotalBytes: number | null;
}

export interface Download {
  fileName: string;
  bytes: Uint8Array;
}

/** A .zip made in the worker: a Blob, which the page saves without copying it through its memory. */
export interface ArchiveDownload {
  fileName: string;
  archive: Blob;
}

/** One table of an export: its folder's files and bytes. */
export interface ExportedTable {
  path: string;
  files: number;
  bytes: number;
}

/** An export as the page gets it: the archive a Blob, made from the chunks (see zipBlob). */
export interface ExportResult {
  fileName: string;
  tables: ExportedTable[];
  archive: Blob;
}

export interface ImportedTable {
  path: string;
  /** the folder of the archive it came from */
  from: string;
  version: number;
  /** commits in its log */
  commits: number;
  files: number;
  bytes: number;
}

export interface ImportResult {
  tables: ImportedTable[];
  files: number;
  bytes: number;
  /** the tables that were in the lakehouse before, now replaced */
  replaced: string[];
}

export interface LakehouseWorker {
  /** The worker's api; every call returns a promise. Errors arrive as WorkerError: name, code and a full message. */
  api: Remote<Api>;
  /**
   * Rejects when the worker itself fails (its script does not load, an uncaught error): calls
   * still waiting on the api would otherwise wait forever. Race it against them.
   */
  failed: Promise<never>;
  terminate(): void;
}

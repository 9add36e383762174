import { DeltaError } from './errors.ts';
import type { Schema, Table } from 'apache-arrow';
import { encodeParquet } from '../parquet/codec.ts';
import { IpcScratch } from '../parquet/ipc.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import type { Engine } from '../engine/types.ts';
import {
  LOG_DIR,
  checkpointFileName,
  commitFileName,
  decodeDataPath,
  encodeDataPath,
  isAdd,
  isMetaData,
  isProtocol,
  isRemove,
  isTxn,
  serializeCommit,
  type Action,
  type Add,
  type CommitInfo,
  type Metadata,
  type Remove,
} from './actions.ts';
import { CHECKPOINT_INTERVAL, writeCheckpoint, writeCheckpointIfDue } from './checkpoint-writer.ts';
import { CommitStamps } from './commit-stamps.ts';
import { partitionTable, partitionPath } from './partition.ts';
import { ConstraintViolationError, checkRows, rowChecksOf } from './row-checks.ts';
import { deltaSchemaOfArrow, parseSchema, type DeltaSchema, type DeltaType } from './schema.ts';
import { loadSnapshot, readCommit, tryListLog, where, type Snapshot } from './snapshot.ts';
import { computeStats, pickStats, type FileStats } from './stats.ts';
import { WriteRefusedError, checkWritable, missingTypeFeature, newTableProtocol, operationVerb, type WriteRules } from './write-protocol.ts';

export const ENGINE_INFO = 'creatorops-lakehouse/0.1 (delta-ts)';

export interface WriteOptions {
  mode: 'append' | 'overwrite';
  /** partition columns, used when the table is created */
  partitionBy?: string[];
  /** idempotency record of an incremental job: committed together with the data */
  txn?: { appId: string; version: number };
  /** the commitInfo operation; default WRITE */
  operation?: string;
  operationParameters?: Record<string, unknown>;
  /** table name and description, stored in metaData when the table is created */
  name?: string;
  description?: string;
  /** rows per Parquet file (the writer splits larger inputs) */
  maxRowsPerFile?: number;
  /** table properties stored in metaData.configuration when the table is created */
  configuration?: Record<string, string>;
  /**
   * The SQL engine that checks the rows against the table's CHECK constraints, invariants and
   * NOT NULL columns; a table that has any is not written without one.
   */
  engine?: Engine;
}

export interface CommitResult {
  version: number;
  added: Add[];
  removed: Remove[];
  rows: number;
}

export class CommitConflictError extends DeltaError {
  static override readonly code = 'COMMIT_CONFLICT';
  override name = 'CommitConflictError';
  constructor(table: string, version: number, reason: string) {
    super(`concurrent commit to ${table} at version ${version} conflicts with this write: ${reason}`);
  }
}

/** Write `data` to the Delta table at `table` (created when absent) as one commit. */
export async function writeTable(storage: Storage, table: string, data: Table, options: WriteOptions): Promise<CommitResult> {
  const writer = await openWriter(storage, table, options);
  await writer.write(data);
  return writer.commit();
}

/**
 * One commit built from any number of `write` calls (each one or more data files), so that a
 * large batch streams through bounded memory and still lands atomically.
 */
export class TableWriter {
  private readonly added: Add[] = [];
  private rows = 0;
  private metadata: Metadata | undefined;
  private schema: DeltaSchema | undefined;
  /** what the table's protocol asks of this write (undefined: the write creates the table) */
  private readonly rules: WriteRules | undefined;

  /** Refuses (WriteRefusedError), before anything is written, a table whose protocol this writer does not fully implement. */
  constructor(
    private readonly storage: Storage,
    private readonly table: string,
    /** the table as this write read it (undefined: the write creates it) */
    readonly current: Snapshot | undefined,
    private readonly options: WriteOptions,
  ) {
    this.rules = current && checkWritable(current, options.mode, where(storage, table));
  }

  get readVersion(): number {
    return this.current?.version ?? -1;
  }

  /** Declare the schema without writing rows (an empty commit still creates the table). */
  setSchema(arrowSchema: Schema): void {
    const schema = deltaSchemaOfArrow(arrowSchema);
    if (this.schema) {
      if (schemaChanged(this.schema, schema)) throw new DeltaError(`rows written to ${this.table} in one commit have different schemas`);
      return;
    }
    this.schema = schema;
    const { current, options } = this;
    if (!current || (options.mode === 'overwrite' && schemaChanged(current.schema, schema))) {
      this.metadata = newMetadata(schema, current?.metadata.partitionColumns ?? options.partitionBy ?? [], options, current?.metadata);
      if (current && this.rules) this.replaceSchema(current, schema);
    } else {
      checkAppendSchema(this.table, current.schema, schema);
    }
    for (const c of this.partitionColumns) {
      if (!arrowSchema.fields.some((f) => f.name === c)) throw new DeltaError(`partition column ${c} is missing from the data written to ${this.table}`);
    }
  }

  /** An overwrite that replaces the schema: the table's rules apply to the new one. */
  private replaceSchema(current: Snapshot, schema: DeltaSchema): void {
    const rules = this.rules!;
    const refuse = (feature: string, reason: string): never => {
      throw new WriteRefusedError(rules.table, rules.version, 'overwrite', feature, reason);
    };
    const missing = missingTypeFeature(current.protocol, schema);
    if (missing) refuse(missing, `the new schema has timestamps without time zone, and the table's protocol does not list the feature "${missing}"`);
    if (current.domainMetadata.has('delta.clustering'))
      refuse('clustering', 'the table is clustered (writer feature "clustering"), and this writer does not replace the schema of a clustered table');
    const { checks, uncheckable } = rowChecksOf(schema, this.metadata!.configuration);
    if (uncheckable[0]) refuse(uncheckable[0].feature, `${uncheckable[0].label} cannot be checked against the new schema: ${uncheckable[0].reason}`);
    rules.rowChecks = checks;
  }

  private get partitionColumns(): string[] {
    return this.metadata?.partitionColumns ?? this.current?.metadata.partitionColumns ?? this.options.partitionBy ?? [];
  }

  /**
   * Add `data` as one or more data files. `ipc`, when given, is `data` already as an Arrow IPC
   * stream: a table that goes into one file whole is then not serialised a second time.
   * `encoded`, when given, is `data` already being encoded elsewhere (pipeline/encoder.ts): it is
   * written as one file, its statistics computed here meanwhile unless they come with it.
   */
  async write(data: Table, ipc?: Uint8Array, encoded?: FileEncoding): Promise<void> {
    this.setSchema(data.schema);
    if (data.numRows === 0) return;
    if (this.rules?.rowChecks.length) await this.checkRows(data);
    const config = this.metadata?.configuration ?? this.current?.metadata.configuration ?? {};
    const statsColumns = config['delta.dataSkippingStatsColumns'];
    const only = statsColumns ? new Set(statsColumns.split(',').map((c) => c.trim())) : undefined;
    this.added.push(
      ...(await writeDataFiles(this.storage, this.table, data, this.partitionColumns, this.added.length, this.options.maxRowsPerFile, only, ipc, encoded)),
    );
    this.rows += data.numRows;
  }

  /** The rows meet the table's CHECK constraints, invariants and NOT NULL columns, or nothing of this write stays. */
  private async checkRows(data: Table): Promise<void> {
    const rules = this.rules!;
    const verb = operationVerb(rules.operation);
    try {
      const { engine } = this.options;
      if (!engine) {
        const first = rules.rowChecks[0]!;
        throw new WriteRefusedError(rules.table, rules.version, rules.operation, first.feature, `${first.label} cannot be checked without a SQL engine`);
      }
      const schema = this.metadata ? parseSchema(this.metadata.schemaString) : this.current!.schema;
      try {
        checkRows(engine, data, schema, rules.rowChecks, { table: rules.table, version: rules.version, verb });
      } catch (err) {
        if (err instanceof ConstraintViolationError) throw err;
        const first = rules.rowChecks[0]!;
        throw new WriteRefusedError(
          rules.table,
          rules.version,
          rules.operation,
          first.feature,
          `the table's row checks could not be evaluated on the rows (${(err as Error).message})`,
        );
      }
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Delete the data files this writer wrote: never committed, nobody reads them. */
  async discard(): Promise<void> {
    for (const a of this.added.splice(0)) await this.storage.delete(joinPath(this.table, decodeDataPath(a.path))).catch(() => undefined);
    this.rows = 0;
  }

  async commit(): Promise<CommitResult> {
    const { current, options, added } = this;
    if (!this.schema && !current) throw new DeltaError(`nothing was written to create ${this.table} (no schema)`);
    const done = options.txn && current?.txns.get(options.txn.appId);
    if (options.txn && done && done.version >= options.txn.version) {
      throw new CommitConflictError(this.table, current!.version, `application ${options.txn.appId} already committed its transaction ${done.version}`);
    }
    const now = Date.now();
    const removed: Remove[] = options.mode === 'overwrite' && current ? current.files.map((f) => removeOf(f, now, true)) : [];
    const commitInfo: CommitInfo = {
      timestamp: now,
      operation: options.operation ?? 'WRITE',
      operationParameters: {
        mode: options.mode === 'append' ? 'Append' : 'Overwrite',
        partitionBy: JSON.stringify(this.partitionColumns),
        ...options.operationParameters,
      },
      ...(current ? { readVersion: current.version } : {}),
      isolationLevel: 'Serializable',
      isBlindAppend: options.mode === 'append',
      operationMetrics: {
        numFiles: String(added.length),
        numOutputRows: String(this.rows),
        numOutputBytes: String(added.reduce((s, a) => s + a.size, 0)),
        ...(removed.length ? { numRemovedFiles: String(removed.length), numRemovedBytes: String(removed.reduce((s, r) => s + (r.size ?? 0), 0)) } : {}),
      },
      engineInfo: ENGINE_INFO,
    };
    const actions: Action[] = [{ commitInfo }];
    if (!current) actions.push({ protocol: newTableProtocol(this.schema!) });
    if (this.metadata) actions.push({ metaData: this.metadata });
    for (const r of removed) actions.push({ remove: r });
    for (const a of added) actions.push({ add: a });
    if (options.txn) actions.push({ txn: { appId: options.txn.appId, version: options.txn.version, lastUpdated: now } });

    const stamps = current && this.rules ? await CommitStamps.load(this.storage, current, this.rules) : undefined;
    const version = await commit(this.storage, this.table, this.readVersion, actions, stamps);
    await checkpointAfterCommit(this.storage, this.table, version);
    return { version, added, removed, rows: this.rows };
  }
}

/**
 * A checkpoint only speeds up reading; once the commit exists the write has succeeded, and a
 * failed checkpoint (a full disk, a crash) must not make the caller believe otherwise and write
 * the batch again: readers replay the JSON commits instead, and the next commit writes the
 * checkpoint that is missing.
 */
export async function checkpointAfterCommit(storage: Storage, table: string, version: number): Promise<void> {
  try {
    const due = version - (version % CHECKPOINT_INTERVAL);
    if (due === version) await writeCheckpointIfDue(storage, table, version);
    else if (due > 0 && !(await storage.stat(joinPath(table, LOG_DIR, checkpointFileName(due))))) {
      await writeCheckpoint(storage, table, await loadSnapshot(storage, table, due));
    }
  } catch {
    // the JSON commits still hold the state
  }
}

export async function openWriter(storage: Storage, table: string, options: WriteOptions): Promise<TableWriter> {
  return new TableWriter(storage, table, await tryLoadSnapshot(storage, table), options);
}

export async function tryLoadSnapshot(storage: Storage, table: string): Promise<Snapshot | undefined> {
  const log = await tryListLog(storage, table);
  return log && loadSnapshot(storage, table, undefined, log);
}

/** A data file's Parquet encoded elsewhere (pipeline/encoder.ts), with its statistics when they were computed there too. */
export interface EncodedFile {
  parquet: Uint8Array;
  stats?: FileStats;
}

/** A file being encoded elsewhere, and whether its statistics are computed there too (else here, meanwhile). */
export interface FileEncoding {
  file: Promise<EncodedFile>;
  withStats: boolean;
}

/** Data files are encoded one at a time, synchronously after their IPC is written: one buffer serves all. */
const ipcScratch = new IpcScratch();

/** Let the buffer data files were encoded through go (a run over; the next one grows it again). */
export function releaseWriteBuffers(): void {
  ipcScratch.release();
}

async function writeDataFiles(
  storage: Storage,
  table: string,
  data: Table,
  partitionColumns: string[],
  firstIndex: number,
  maxRows = 1_000_000,
  statsColumns?: ReadonlySet<string>,
  ipc?: Uint8Array,
  encoded?: FileEncoding,
): Promise<Add[]> {
  if (encoded && (partitionColumns.length > 0 || data.numRows > maxRows)) {
    throw new DeltaError(`${table}: rows encoded elsewhere go into one file, but these need several (partitioned, or more than ${maxRows} rows)`);
  }
  const whole = ipc && partitionColumns.length === 0 && data.numRows <= maxRows ? ipc : undefined;
  const added: Add[] = [];
  const skip = new Set(partitionColumns);
  for (const part of partitionTable(data, partitionColumns)) {
    for (let offset = 0; offset < part.table.numRows; offset += maxRows) {
      const slice = part.table.slice(offset, offset + maxRows);
      const dir = partitionPath(part.values, partitionColumns);
      const name = `part-${String(firstIndex + added.length).padStart(5, '0')}-${crypto.randomUUID()}-c000.zstd.parquet`;
      const relPath = dir ? `${dir}/${name}` : name;
      // Statistics first, unless they come with the file: while they are computed, it is being encoded on another thread.
      const local = encoded?.withStats ? undefined : computeStats(slice, skip, statsColumns);
      const file = encoded ? await encoded.file : { parquet: encodeParquet(whole ?? ipcScratch.write(slice)) };
      if (!local && !file.stats) throw new DeltaError(`${table}: a data file encoded elsewhere came without the statistics asked for`);
      const stats = JSON.stringify(local ?? pickStats(file.stats!, skip, statsColumns));
      const bytes = file.parquet;
      await storage.write(joinPath(table, relPath), bytes);
      added.push({
        path: encodeDataPath(relPath),
        partitionValues: part.values,
        size: bytes.byteLength,
        modificationTime: Date.now(),
        dataChange: true,
        stats,
      });
    }
  }
  return added;
}

/**
 * Put the commit at readVersion + 1; when another writer got there first, check its commit for a
 * logical conflict and try the next version. A commit file is never overwritten.
 */
export async function commit(storage: Storage, table: string, readVersion: number, actions: Action[], stamps?: CommitStamps): Promise<number> {
  let pending = actions;
  for (let version = readVersion + 1; ; version++) {
    const path = joinPath(table, LOG_DIR, commitFileName(version));
    const stamped = stamps ? stamps.apply(pending, version) : pending;
    if (await storage.putIfAbsent(path, new TextEncoder().encode(serializeCommit(stamped)))) return version;
    const winner = await readCommit(storage, table, version);
    pending = rebase(table, version, pending, winner);
    stamps?.absorb(winner);
  }
}

/** The `remove` of a live file: the same logical file (path and deletion vector), with the row IDs its add had. */
export function removeOf(f: Add, now: number, dataChange: boolean): Remove {
  return {
    path: f.path,
    deletionTimestamp: now,
    dataChange,
    extendedFileMetadata: true,
    partitionValues: f.partitionValues,
    size: f.size,
    ...(f.deletionVector ? { deletionVector: f.deletionVector } : {}),
    ...(f.baseRowId != null ? { baseRowId: f.baseRowId } : {}),
    ...(f.defaultRowCommitVersion != null ? { defaultRowCommitVersion: f.defaultRowCommitVersion } : {}),
  };
}

function rebase(table: string, version: number, mine: Action[], winner: Action[]): Action[] {
  const myMeta = mine.find(isMetaData)?.metaData;
  const theirMeta = winner.find(isMetaData)?.metaData;
  const myProtocol = mine.find(isProtocol)?.protocol;
  const theirProtocol = winner.find(isProtocol)?.protocol;
  let next = mine;
  // A new protocol may add features this write was not checked against.
  if (theirProtocol && JSON.stringify(theirProtocol) !== JSON.stringify(myProtocol)) {
    throw new CommitConflictError(table, version, 'the other commit changed the table protocol');
  }
  if (theirMeta) {
    const creating = mine.some((a) => 'protocol' in a);
    if (
      !creating ||
      !myMeta ||
      schemaChanged(parseSchema(theirMeta.schemaString), parseSchema(myMeta.schemaString)) ||
      theirMeta.partitionColumns.join() !== myMeta.partitionColumns.join() ||
      JSON.stringify(theirMeta.configuration) !== JSON.stringify(myMeta.configuration)
    ) {
      throw new CommitConflictError(table, version, 'the other commit changed the table metadata');
    }
    // Both writers created the table with the same schema: ours becomes a plain append.
    next = mine.filter((a) => !('protocol' in a) && !isMetaData(a));
  }
  const myTxns = new Set(mine.filter(isTxn).map((a) => a.txn.appId));
  for (const a of winner) {
    if (isTxn(a) && myTxns.has(a.txn.appId)) {
      throw new CommitConflictError(table, version, `application ${a.txn.appId} committed its transaction ${a.txn.version} concurrently`);
    }
  }
  const myRemoves = new Set(mine.filter(isRemove).map((a) => a.remove.path));
  if (winner.some((a) => isRemove(a) && myRemoves.has(a.remove.path))) {
    throw new CommitConflictError(table, version, 'both commits remove the same file');
  }
  // An overwrite replaces every row it read; rows added since would survive next to it (two
  // writers creating one table would both land, the loser as an append). A compaction (removes
  // with dataChange false) rewrites only files that still exist, so an append does not touch it.
  const overwrite =
    mine.some((a) => isRemove(a) && a.remove.dataChange) ||
    mine.some((a) => 'commitInfo' in a && (a.commitInfo as CommitInfo).operationParameters?.mode === 'Overwrite');
  if (overwrite && winner.some((a) => isAdd(a) && a.add.dataChange)) {
    throw new CommitConflictError(table, version, 'data was added concurrently to a table this commit overwrites');
  }
  return next.map((a) => ('commitInfo' in a ? { commitInfo: { ...(a.commitInfo as CommitInfo), readVersion: version } } : a));
}

function newMetadata(schema: DeltaSchema, partitionColumns: string[], options: WriteOptions, previous?: Metadata): Metadata {
  return {
    id: previous?.id ?? crypto.randomUUID(),
    ...((options.name ?? previous?.name) ? { name: options.name ?? previous?.name } : {}),
    ...((options.description ?? previous?.description) ? { description: options.description ?? previous?.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: JSON.stringify(schema),
    partitionColumns,
    configuration: previous?.configuration ?? options.configuration ?? {},
    createdTime: previous?.createdTime ?? Date.now(),
  };
}

function schemaChanged(a: DeltaSchema, b: DeltaSchema): boolean {
  const shape = (s: DeltaSchema) => JSON.stringify(s.fields.map((f) => [f.name, typeShape(f.type)]));
  return shape(a) !== shape(b);
}

/**
 * A type without its nullability flags (`containsNull`, a nested field's `nullable`, metadata):
 * data from Arrow says nothing reliable about them, and NOT NULL is checked on the rows instead.
 */
function typeShape(type: DeltaType): unknown {
  if (typeof type === 'string') return type;
  if (type.type === 'struct') return { struct: type.fields.map((f) => [f.name, typeShape(f.type)]) };
  if (type.type === 'array') return { array: typeShape(type.elementType) };
  return { map: [typeShape(type.keyType), typeShape(type.valueType)] };
}

function checkAppendSchema(table: string, existing: DeltaSchema, incoming: DeltaSchema): void {
  for (const f of incoming.fields) {
    const e = existing.fields.find((x) => x.name === f.name);
    if (!e) throw new DeltaError(`cannot append to ${table}: column ${f.name} is not in the table's schema`);
    if (JSON.stringify(typeShape(e.type)) !== JSON.stringify(typeShape(f.type))) {
      throw new DeltaError(`cannot append to ${table}: column ${f.name} is ${JSON.stringify(f.type)} but the table has ${JSON.stringify(e.type)}`);
    }
  }
  for (const e of existing.fields) {
    if (!e.nullable && !incoming.fields.some((f) => f.name === e.name)) {
      throw new DeltaError(`cannot append to ${table}: non-nullable column ${e.name} is missing`);
    }
  }
}

import { DeltaError } from './errors.ts';
import {
  DataType,
  Field,
  RecordBatch,
  Schema,
  Table,
  TimeUnit,
  TimestampMicrosecond,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  type Data,
  type Vector,
} from 'apache-arrow';
import { decodeParquet, encodeParquet } from '../parquet/codec.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import { decodeDataPath, encodeDataPath, type Action, type Add, type CommitInfo, type Remove } from './actions.ts';
import { DeletionVectors } from './deletion-vectors.ts';
import { keepRows } from './keep-rows.ts';
import { DeletionVectorError } from './protocol.ts';
import { physicalNames } from './mapping.ts';
import { CommitStamps } from './commit-stamps.ts';
import { loadSnapshot, numRecords, where, type Snapshot } from './snapshot.ts';
import type { DeltaSchema } from './schema.ts';
import { dataFileLocation } from './scan.ts';
import { computeStats } from './stats.ts';
import { checkWritable, keptByOptimize } from './write-protocol.ts';
import { CommitConflictError, ENGINE_INFO, checkpointAfterCommit, commit, removeOf } from './writer.ts';

/** Files below this size are compacted, into files of about this size: a bin is read whole into memory. */
export const DEFAULT_TARGET_FILE_SIZE = 32 * 1024 * 1024;
const MAX_ATTEMPTS = 4;

export interface OptimizeOptions {
  /** bytes; files smaller than this are small, and bins are filled up to it */
  targetFileSize?: number;
  /** the clock, for removes and the commit */
  now?: () => number;
}

export interface OptimizeResult {
  table: string;
  /** the OPTIMIZE commit, or null when there was nothing worth compacting */
  version: number | null;
  /** the version that was compacted */
  readVersion: number;
  filesRemoved: number;
  filesAdded: number;
  bytesRemoved: number;
  bytesAdded: number;
  /** rows rewritten (the same rows, in fewer files; rows deletion vectors deleted are left out) */
  rows: number;
  /** partitions that had two or more small files, or a small file with a deletion vector */
  partitions: number;
}

/**
 * Rewrite the small files of each partition into fewer large ones: one commit of `remove`s and
 * `add`s, all `dataChange: false`, so the rows of the table are the same before and after and
 * earlier versions stay readable until VACUUM. Only files with the same Parquet schema are merged
 * (no type of a file is changed); a partition with fewer than two small files is left alone.
 * A small file with a deletion vector is rewritten even alone: the new files hold only the rows
 * left, without deletion vectors. A concurrent append does not conflict; a concurrent commit that
 * removes one of the same files does, and the compaction is planned again. The table's protocol is
 * checked first (write-protocol.ts); files clustered by an engine are left alone.
 */
export async function optimizeTable(storage: Storage, table: string, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const target = options.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE;
  if (!(target > 0)) throw new DeltaError(`the OPTIMIZE target file size must be > 0 bytes, got ${target}`);
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    const snapshot = await loadSnapshot(storage, table);
    const rules = checkWritable(snapshot, 'optimize', where(storage, table));
    const bins = planBins(snapshot, target);
    const written: string[] = [];
    try {
      const removed: Add[] = [];
      const added: Add[] = [];
      for (const bin of bins) {
        const out = await compactBin(storage, snapshot, bin, now());
        removed.push(...out.removed);
        added.push(...out.added);
        written.push(...out.added.map((a) => joinPath(table, decodeDataPath(a.path))));
      }
      const result: OptimizeResult = {
        table,
        version: null,
        readVersion: snapshot.version,
        filesRemoved: removed.length,
        filesAdded: added.length,
        bytesRemoved: removed.reduce((s, a) => s + a.size, 0),
        bytesAdded: added.reduce((s, a) => s + a.size, 0),
        rows: added.reduce((s, a) => s + (numRecords(a) ?? 0), 0),
        partitions: new Set(added.map((a) => JSON.stringify(a.partitionValues))).size,
      };
      if (added.length === 0) return result;
      const stamps = await CommitStamps.load(storage, snapshot, rules, now);
      const version = await commit(storage, table, snapshot.version, optimizeActions(snapshot, removed, added, target, now()), stamps);
      await checkpointAfterCommit(storage, table, version);
      return { ...result, version };
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt >= MAX_ATTEMPTS) throw err;
      // Never committed: nobody can be reading these.
      for (const path of written) await storage.delete(path);
    }
  }
}

/** Per partition, runs of consecutive small files (log order) up to `target` bytes; only runs of two or more, or with a deletion vector. */
function planBins(snapshot: Snapshot, target: number): Add[][] {
  const byPartition = new Map<string, Add[]>();
  const partitionKeys = physicalNames(snapshot, snapshot.metadata.partitionColumns);
  for (const add of snapshot.files) {
    if (add.size >= target || keptByOptimize(add)) continue;
    const key = JSON.stringify(partitionKeys.map((c) => add.partitionValues[c] ?? null));
    byPartition.set(key, [...(byPartition.get(key) ?? []), add]);
  }
  const bins: Add[][] = [];
  for (const files of byPartition.values()) {
    let bin: Add[] = [];
    let bytes = 0;
    for (const f of files) {
      if (bin.length > 0 && bytes + f.size > target) {
        bins.push(bin);
        bin = [];
        bytes = 0;
      }
      bin.push(f);
      bytes += f.size;
    }
    bins.push(bin);
  }
  return bins.filter(worthRewriting);
}

const worthRewriting = (files: Add[]): boolean => files.length >= 2 || files.some((f) => f.deletionVector);

/** One new file per run of files with one Parquet schema; a run of one without a deletion vector stays as it is. */
async function compactBin(storage: Storage, snapshot: Snapshot, bin: Add[], now: number): Promise<{ removed: Add[]; added: Add[] }> {
  const runs: { files: Add[]; tables: Table[]; key: string }[] = [];
  const deletionVectors = new DeletionVectors(storage, snapshot);
  for (const add of bin) {
    const path = dataFileLocation(storage, snapshot, add);
    const deleted = await deletionVectors.deletedRows(add);
    let decoded: Table;
    try {
      decoded = tableFromIPC(decodeParquet(await storage.read(path)));
      // The new file holds only the rows left: it has no deletion vector.
      if (deleted) decoded = keepRows(decoded, deletionVectors.keptRows(add, deleted, decoded.numRows));
    } catch (err) {
      if (err instanceof DeletionVectorError) throw err;
      throw new DeltaError(`OPTIMIZE cannot read data file ${path} of version ${snapshot.version}: ${(err as Error).message}`, { cause: err });
    }
    const table = withSchemaTimestamps(decoded, snapshot.schema);
    // A file whose timestamps cannot be written back as the schema's type stays as it is.
    const key = table ? table.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join('|') : `as it is: ${add.path}`;
    const last = runs.at(-1);
    if (last && last.key === key) {
      last.files.push(add);
      last.tables.push(table!);
    } else runs.push({ files: [add], tables: [table ?? decoded], key });
  }
  // Files and stats name columns by their physical names (column mapping).
  const config = snapshot.metadata.configuration['delta.dataSkippingStatsColumns'];
  const only = config
    ? new Set(
        physicalNames(
          snapshot,
          config.split(',').map((c) => c.trim()),
        ),
      )
    : undefined;
  const partitionColumns = new Set(physicalNames(snapshot, snapshot.metadata.partitionColumns));
  const removed: Add[] = [];
  const added: Add[] = [];
  for (const run of runs.filter((r) => worthRewriting(r.files))) {
    const merged = concatenate(run.tables);
    const dir = dataFileLocation(storage, snapshot, run.files[0]!)
      .slice(snapshot.table ? snapshot.table.length + 1 : 0)
      .split('/')
      .slice(0, -1)
      .join('/');
    const name = `part-00000-${crypto.randomUUID()}-c000.zstd.parquet`;
    const rel = dir ? `${dir}/${name}` : name;
    const bytes = encodeParquet(tableToIPC(merged, 'stream'));
    await storage.write(joinPath(snapshot.table, rel), bytes);
    added.push({
      path: encodeDataPath(rel),
      partitionValues: run.files[0]!.partitionValues,
      size: bytes.byteLength,
      modificationTime: now,
      dataChange: false,
      stats: JSON.stringify(computeStats(merged, partitionColumns, only)),
    });
    removed.push(...run.files);
  }
  return { removed, added };
}

/** The rows of `tables` (one schema) in order, as one table whose columns all allow nulls. */
function concatenate(tables: Table[]): Table {
  const schema = new Schema(
    tables[0]!.schema.fields.map((f) => (f.nullable ? f : new Field(f.name, f.type, true, f.metadata))),
    tables[0]!.schema.metadata,
  );
  return new Table(tables.flatMap((t) => t.batches.map((b) => new RecordBatch(schema, b.data))));
}

/**
 * `table` with its top-level timestamp columns in the Parquet type of the schema's type:
 * microseconds, UTC-adjusted for `timestamp` and not for `timestamp_ntz`. Spark's INT96 files
 * decode as nanoseconds without a zone, which written back as they are would be a type Spark
 * cannot read as a timestamp. Undefined when a timestamp nested in a struct, list or map is not
 * in that form already (the file is then not rewritten).
 */
function withSchemaTimestamps(table: Table, schema: DeltaSchema): Table | undefined {
  const byName = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f.type]));
  const columns: Record<string, Vector> = {};
  let changed = false;
  const fields = table.schema.fields.map((field, i) => {
    const column = table.getChildAt(i)!;
    const type = byName.get(field.name.toLowerCase());
    columns[field.name] = column;
    if (type === 'timestamp' || type === 'timestamp_ntz') {
      const zone = type === 'timestamp' ? 'UTC' : null;
      if (!DataType.isTimestamp(field.type)) return field;
      if (field.type.unit === TimeUnit.MICROSECOND && (field.type.timezone != null) === (zone !== null)) return field;
      const target = new TimestampMicrosecond(zone);
      columns[field.name] = makeVector(column.data.map((d) => microseconds(d, target)));
      changed = true;
      return new Field(field.name, target, field.nullable, field.metadata);
    }
    return type !== undefined && !nestedTimestampsFit(field.type) ? undefined : field;
  });
  if (fields.some((f) => f === undefined)) return undefined;
  if (!changed) return table;
  const out = new Schema(fields as Field[], table.schema.metadata);
  return new Table(out, ...new Table(columns).batches.map((b) => new RecordBatch(out, b.data)));
}

function microseconds(data: Data, target: TimestampMicrosecond): Data {
  const unit = (data.type as unknown as { unit: TimeUnit }).unit;
  const values = data.values as BigInt64Array;
  const out = new BigInt64Array(data.length);
  const nulls = new Uint8Array(Math.ceil(data.length / 8));
  const scale = [1_000_000n, 1_000n, 1n, 1_000n][unit]!;
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) continue;
    nulls[i >> 3]! |= 1 << (i & 7);
    const v = values[i]!;
    if (unit === TimeUnit.NANOSECOND) out[i] = v >= 0n ? v / scale : -((-v + scale - 1n) / scale);
    else out[i] = v * scale;
  }
  return makeData({ type: target, length: data.length, nullCount: data.nullCount, nullBitmap: nulls, data: out });
}

function nestedTimestampsFit(type: DataType): boolean {
  if (DataType.isTimestamp(type)) return type.unit === TimeUnit.MICROSECOND;
  return type.children?.every((c: Field) => nestedTimestampsFit(c.type)) ?? true;
}

function optimizeActions(snapshot: Snapshot, removed: Add[], added: Add[], target: number, now: number): Action[] {
  const removes: Remove[] = removed.map((f) => removeOf(f, now, false));
  const commitInfo: CommitInfo = {
    timestamp: now,
    operation: 'OPTIMIZE',
    operationParameters: { predicate: '[]', zOrderBy: '[]', auto: false, targetFileSize: String(target) },
    readVersion: snapshot.version,
    isolationLevel: 'SnapshotIsolation',
    isBlindAppend: false,
    operationMetrics: {
      numRemovedFiles: String(removed.length),
      numAddedFiles: String(added.length),
      numRemovedBytes: String(removed.reduce((s, a) => s + a.size, 0)),
      numAddedBytes: String(added.reduce((s, a) => s + a.size, 0)),
      numOutputRows: String(added.reduce((s, a) => s + (numRecords(a) ?? 0), 0)),
    },
    engineInfo: ENGINE_INFO,
  };
  return [{ commitInfo }, ...removes.map((remove) => ({ remove })), ...added.map((add) => ({ add }))];
}

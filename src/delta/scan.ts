import { DeltaError, reasonOf } from './errors.ts';
import { Bool, Field, makeData, RecordBatch, RecordBatchReader, Schema, Struct, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { decodeParquet, type RowSlice } from '../parquet/codec.ts';
import { readRowGroups } from '../parquet/ranged.ts';
import { isNotFound, joinPath, type Storage } from '../storage/types.ts';
import type { Engine } from '../engine/types.ts';
import { quoteIdent, quoteString } from '../engine/duckdb.ts';
import { decodeDataPath, type Add } from './actions.ts';
import { DeletionVectors } from './deletion-vectors.ts';
import { checkFieldIds, findFileField, mappingMode, partitionValue, type MappingMode } from './mapping.ts';
import { tableLocation } from './paths.ts';
import { columnExpression } from './projection.ts';
import { duckdbType, type DeltaField } from './schema.ts';
import { numRecords, where, type Snapshot } from './snapshot.ts';

export interface ScanOptions {
  /** keep only the files for which this returns true (partition pruning, data skipping) */
  fileFilter?: (add: Add) => boolean;
  /** called after each file */
  onFile?: (done: number, total: number) => void;
  /** add the rows to `target`, which exists with the snapshot's columns, instead of replacing it */
  append?: boolean;
  /**
   * only `limit` rows from the `offset`-th, in the order a whole scan gives them: files wholly
   * before them are skipped by their row count (`numRecords`), the rest read only as far as needed
   */
  window?: RowSlice;
}

const STAGING = '__delta_scan_file';
/** a column added to the rows of a file with a deletion vector: false for the deleted rows */
const KEEP = '__delta_scan_keep';

/**
 * Load the rows of `snapshot` into the engine as table `target`, typed by the Delta schema:
 * partition columns come from `partitionValues`, columns are found by physical name or field id
 * under column mapping, columns a file lacks read as NULL, and file types (type widening, INT96
 * or nanosecond timestamps) are cast to the schema's (projection.ts), and rows a deletion vector
 * deletes are left out.
 */
export async function scanIntoEngine(engine: Engine, storage: Storage, snapshot: Snapshot, target: string, options: ScanOptions = {}): Promise<number> {
  const fields = snapshot.schema.fields;
  if (!options.append) engine.run(`CREATE OR REPLACE TABLE ${quoteIdent(target)} (${tableColumns(snapshot)})`);
  const files = options.fileFilter ? snapshot.files.filter(options.fileFilter) : snapshot.files;
  const partitionColumns = new Set(snapshot.metadata.partitionColumns);
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  const deletionVectors = new DeletionVectors(storage, snapshot);
  let done = 0;
  /** rows of the window still to skip, and still to take */
  let skip = options.window?.offset ?? 0;
  let take = options.window?.limit ?? Infinity;
  for (const add of files) {
    if (take <= 0) break;
    const live = options.window ? numRecords(add) : null;
    if (live !== null && live <= skip) {
      skip -= live;
      continue;
    }
    const deleted = await deletionVectors.deletedRows(add);
    // Without a deletion vector and with a known row count, Parquet itself reads just the window's rows.
    const slice = options.window && !deleted && live !== null ? { offset: skip, limit: Math.min(take, live - skip) } : undefined;
    let ipc = slice ? await decodeDataFileRows(storage, snapshot, add, slice) : decodeDataFile(snapshot, add, await readDataFile(storage, snapshot, add));
    const projection = fileProjection(snapshot, add, ipcSchema(ipc), fields, partitionColumns, mode);
    if (deleted) {
      const table = tableFromIPC(ipc);
      ipc = withKeepColumn(table, deletionVectors.keptRows(add, deleted, table.numRows));
    }
    engine.insertIPC(STAGING, ipc);
    let range = '';
    if (slice) {
      take -= slice.limit;
      skip = 0;
    } else if (options.window) {
      const rows = Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${STAGING}${deleted ? ` WHERE ${KEEP}` : ''}`)[0]!.n);
      const taken = Math.max(0, Math.min(take, rows - skip));
      range = ` LIMIT ${taken} OFFSET ${Math.min(skip, rows)}`;
      skip = Math.max(0, skip - rows);
      take -= taken;
    }
    try {
      engine.run(`INSERT INTO ${quoteIdent(target)} SELECT ${projection.join(', ')} FROM ${STAGING}${deleted ? ` WHERE ${KEEP}` : ''}${range}`);
    } catch (err) {
      throw new DeltaError(
        `version ${snapshot.version} of ${snapshot.name} cannot be read: the rows of its data file ${decodeDataPath(add.path)} do not fit its schema (${reasonOf(err)})`,
        { cause: err },
      );
    }
    options.onFile?.(++done, files.length);
  }
  engine.run(`DROP TABLE IF EXISTS ${STAGING}`);
  return Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${quoteIdent(target)}`)[0]!.n);
}

/** The column list of a DuckDB table that `snapshot`'s rows are scanned into (what scanIntoEngine creates). */
export function tableColumns(snapshot: Snapshot): string {
  return snapshot.schema.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ');
}

/** `table` with a last column KEEP, from a bitmap of its rows (bit i set: row i is kept). */
function withKeepColumn(table: Table, kept: Uint8Array): Uint8Array {
  const schema = new Schema([...table.schema.fields, new Field(KEEP, new Bool(), false)], table.schema.metadata);
  let start = 0;
  const batches = table.batches.map((batch) => {
    const length = batch.numRows;
    const bits = new Uint8Array(Math.ceil(length / 8));
    for (let i = 0; i < length; i++) {
      const row = start + i;
      if (kept[row >> 3]! & (1 << (row & 7))) bits[i >> 3]! |= 1 << (i & 7);
    }
    start += length;
    const keep = makeData({ type: new Bool(), length, nullCount: 0, data: bits });
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: [...batch.data.children, keep] }));
  });
  return tableToIPC(new Table(schema, batches), 'stream');
}

/** Where a data file of a snapshot lies in its storage (its log path resolved inside the table, paths.ts). */
export function dataFileLocation(storage: Storage, snapshot: Snapshot, add: Add): string {
  return joinPath(snapshot.table, decodeDataPath(add.path, tableLocation(storage, snapshot.table)));
}

/**
 * Some rows of one data file as Arrow IPC, reading only its footer and the row groups they lie in
 * (parquet/ranged.ts) when the file has several; otherwise the whole file.
 */
export async function decodeDataFileRows(storage: Storage, snapshot: Snapshot, add: Add, slice: RowSlice): Promise<Uint8Array> {
  const part = await readingDataFile(storage, snapshot, add, (path) =>
    readRowGroups((offset, length) => storage.readRange(path, offset, length), add.size, slice),
  );
  if (part) return decodeDataFile(snapshot, add, part.bytes, part.slice);
  return decodeDataFile(snapshot, add, await readDataFile(storage, snapshot, add), slice);
}

/** The bytes of one data file of a snapshot; a file VACUUM deleted is named in the error, with what to do. */
export function readDataFile(storage: Storage, snapshot: Snapshot, add: Add): Promise<Uint8Array> {
  return readingDataFile(storage, snapshot, add, (path) => storage.read(path));
}

async function readingDataFile<T>(storage: Storage, snapshot: Snapshot, add: Add, read: (path: string) => Promise<T>): Promise<T> {
  const path = dataFileLocation(storage, snapshot, add);
  try {
    return await read(path);
  } catch (err) {
    if (!isNotFound(err)) throw unreadable(snapshot, path.slice(snapshot.table ? snapshot.table.length + 1 : 0), err);
    throw new DeltaError(
      `version ${snapshot.version} of ${where(storage, snapshot.table)} cannot be read: its data file ${path.slice(snapshot.table ? snapshot.table.length + 1 : 0)} is gone ` +
        '(VACUUM deletes the files that only versions older than its retention period need), so read a newer version',
      { cause: err },
    );
  }
}

/** A data file's Parquet bytes as Arrow IPC; a file that does not decode is named in the error. */
export function decodeDataFile(snapshot: Snapshot, add: Add, bytes: Uint8Array, slice?: RowSlice): Uint8Array {
  try {
    return decodeParquet(bytes, undefined, slice);
  } catch (err) {
    throw unreadable(snapshot, decodeDataPath(add.path), err);
  }
}

/** The SELECT list that reads one data file as the snapshot's columns. */
function fileProjection(snapshot: Snapshot, add: Add, file: Schema, fields: DeltaField[], partitionColumns: Set<string>, mode: MappingMode): string[] {
  try {
    checkFieldIds(file.fields, mode);
    return fields.map((f) => {
      if (partitionColumns.has(f.name)) return `${partitionLiteral(f, partitionValue(add, f, mode) ?? null)} AS ${quoteIdent(f.name)}`;
      const at = findFileField(file.fields, f, mode);
      if (at === undefined) return `NULL::${duckdbType(f.type)} AS ${quoteIdent(f.name)}`;
      const source = file.fields[at]!;
      return `${columnExpression(quoteIdent(source.name), source, f, mode)} AS ${quoteIdent(f.name)}`;
    });
  } catch (err) {
    throw new DeltaError(
      `version ${snapshot.version} of ${snapshot.name} cannot be read: its data file ${decodeDataPath(add.path)} does not fit its schema: ${reasonOf(err)}`,
      { cause: err },
    );
  }
}

/** The schema of an Arrow IPC stream, without decoding its batches. */
export function ipcSchema(ipc: Uint8Array): Schema {
  const reader = RecordBatchReader.from(ipc);
  reader.open();
  return reader.schema;
}

const unreadable = (snapshot: Snapshot, path: string, err: unknown): Error =>
  new DeltaError(`version ${snapshot.version} of ${snapshot.name} cannot be read: its data file ${path} is damaged (${(err as Error).message})`, {
    cause: err,
  });

/** A `partitionValues` string as a typed SQL literal; empty string and null are NULL. */
export function partitionLiteral(field: DeltaField, value: string | null): string {
  const type = duckdbType(field.type);
  if (value === null || (value === '' && field.type !== 'string') || value === '__HIVE_DEFAULT_PARTITION__') return `NULL::${type}`;
  if (field.type === 'timestamp' || field.type === 'timestamp_ntz') {
    const wall = value.replace('T', ' ').replace(/(Z|[+-]00:?00)$/, '');
    const ts = `CAST(${quoteString(wall)} AS TIMESTAMP)`;
    return field.type === 'timestamp' ? `CAST(${ts} AS TIMESTAMPTZ)` : ts;
  }
  return `CAST(${quoteString(value)} AS ${type})`;
}

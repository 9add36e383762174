import { DataType, DateUnit, makeVector, Precision, tableFromIPC, TimeUnit, type Data, type Vector } from 'apache-arrow';
import type { Storage } from '../storage/types.ts';
import { DeletionVectors } from './deletion-vectors.ts';
import { decodeDataFile, readDataFile } from './scan.ts';
import { checkFieldIds, findFileField, mappingMode } from './mapping.ts';
import type { DeltaField } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * The rows of a snapshot read straight from its Parquet files, without the SQL engine: typed as
 * `jsonLines` (export.ts) types them — numbers, text, booleans, ISO timestamps with microseconds,
 * dates as YYYY-MM-DD — so the dashboard can be drawn before DuckDB has started (compiling its
 * module is most of a reload). Only flat tables of the types below, with no partition columns;
 * anything else returns undefined and the caller goes through the engine.
 */

type Row = Record<string, unknown>;
/** one value of a chunk of an Arrow column (`values` its buffer, `vector` for what needs decoding) */
type Convert = (data: Data, vector: Vector, i: number) => unknown;

const READABLE = new Set(['string', 'long', 'integer', 'short', 'byte', 'double', 'float', 'boolean', 'date', 'timestamp', 'timestamp_ntz']);

export function readableWithoutEngine(snapshot: Snapshot): boolean {
  return snapshot.metadata.partitionColumns.length === 0 && snapshot.schema.fields.every((f) => typeof f.type === 'string' && READABLE.has(f.type));
}

export async function readRows(storage: Storage, snapshot: Snapshot): Promise<Row[] | undefined> {
  if (!readableWithoutEngine(snapshot)) return undefined;
  const rows: Row[] = [];
  const deletionVectors = new DeletionVectors(storage, snapshot);
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  for (const add of snapshot.files) {
    const deleted = await deletionVectors.deletedRows(add);
    const table = tableFromIPC(decodeDataFile(snapshot, add, await readDataFile(storage, snapshot, add)));
    // A file the engine would refuse is left to the engine, which names it in its error.
    try {
      checkFieldIds(table.schema.fields, mode);
    } catch {
      return undefined;
    }
    const columns: { name: string; vector: Vector | null; convert: Convert }[] = [];
    for (const field of snapshot.schema.fields) {
      const index = findFileField(table.schema.fields, field, mode);
      // A column the file lacks (added to the schema later) reads as NULL.
      const vector = index === undefined ? null : table.getChildAt(index);
      const convert = vector ? converter(field, vector.type as DataType) : () => null;
      if (!convert) return undefined;
      columns.push({ name: field.name, vector, convert });
    }
    const start = rows.length;
    for (let i = 0; i < table.numRows; i++) rows.push({});
    for (const { name, vector, convert } of columns) {
      let at = start;
      for (const data of vector?.data ?? []) {
        const chunk = makeVector(data);
        for (let i = 0; i < data.length; i++) rows[at++]![name] = data.getValid(i) ? convert(data, chunk, i) : null;
      }
      for (; at < rows.length; at++) rows[at]![name] = null;
    }
    if (deleted) {
      const kept = deletionVectors.keptRows(add, deleted, table.numRows);
      let to = start;
      for (let i = 0; i < table.numRows; i++) if (kept[i >> 3]! & (1 << (i & 7))) rows[to++] = rows[start + i]!;
      rows.length = to;
    }
  }
  return rows;
}

const get: Convert = (_d, v, i) => v.get(i);
const raw = (d: Data, i: number): number | bigint => d.values[d.offset + i] as number | bigint;

/** How to turn a value of an Arrow column into what `jsonLines` gives for the Delta type; undefined if the file's type does not fit. */
function converter(field: DeltaField, type: DataType): Convert | undefined {
  switch (field.type) {
    case 'string':
      return DataType.isUtf8(type) || DataType.isLargeUtf8(type) ? get : undefined;
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return DataType.isInt(type) ? (d, _v, i) => Number(raw(d, i)) : undefined;
    case 'double':
      return DataType.isFloat(type) && type.precision !== Precision.HALF ? (d, _v, i) => jsonNumber(raw(d, i) as number) : undefined;
    case 'float':
      return DataType.isFloat(type) && type.precision === Precision.SINGLE ? (d, _v, i) => jsonFloat(raw(d, i) as number) : undefined;
    case 'boolean':
      return DataType.isBool(type) ? get : undefined;
    case 'date':
      if (!DataType.isDate(type)) return undefined;
      if (type.unit === DateUnit.DAY) return (d, _v, i) => isoDate(raw(d, i) as number);
      return (d, _v, i) => isoDate(Math.floor(Number(raw(d, i)) / 86_400_000));
    case 'timestamp':
    case 'timestamp_ntz': {
      if (!DataType.isTimestamp(type)) return undefined;
      const { unit } = type;
      const zone = field.type === 'timestamp' ? 'Z' : '';
      return (d, _v, i) => isoTimestamp(toMicros(BigInt(raw(d, i)), unit)) + zone;
    }
    default:
      return undefined;
  }
}

/** A 32-bit float as the shortest number that reads back as the same float (0.1, not 0.10000000149011612), as Spark prints it. */
export function jsonFloat(v: number): number | string {
  if (!Number.isFinite(v) || v === 0) return jsonNumber(v);
  for (let digits = 1; digits < 9; digits++) {
    const n = Number(v.toPrecision(digits));
    if (Math.fround(n) === v) return n;
  }
  return v;
}

/** NaN and ±Infinity as text (JSON has no such numbers); -0 stays -0, as jsonLines prints it (-0.0). */
export function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

const floorDiv = (a: bigint, b: bigint): bigint => a / b - (a % b < 0n ? 1n : 0n);

export function toMicros(value: bigint, unit: TimeUnit): bigint {
  switch (unit) {
    case TimeUnit.SECOND:
      return value * 1_000_000n;
    case TimeUnit.MILLISECOND:
      return value * 1_000n;
    case TimeUnit.MICROSECOND:
      return value;
    default:
      return floorDiv(value, 1_000n);
  }
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export function isoDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC), as DuckDB's strftime `%f` writes it. */
export function isoTimestamp(us: bigint): string {
  const seconds = floorDiv(us, 1_000_000n);
  const d = new Date(Number(seconds) * 1000);
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(Number(us - seconds * 1_000_000n), 6)}`;
  return `${isoDate(Math.floor(Number(seconds) / 86_400))}T${time}`;
}

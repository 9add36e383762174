import { DataType, DateUnit, makeVector, Precision, tableFromIPC, type Data, type Vector } from 'apache-arrow';
import type { RowSlice } from '../parquet/codec.ts';
import type { Storage } from '../storage/types.ts';
import { DeletionVectors } from './deletion-vectors.ts';
import { checkFieldIds, findFileField, mappingMode } from './mapping.ts';
import { isoDate, readableWithoutEngine, toMicros } from './rows.ts';
import { decodeDataFileRows } from './scan.ts';
import type { DeltaField } from './schema.ts';
import { numRecords, type Snapshot } from './snapshot.ts';

/** A page of rows as the Explorer's grid shows them: DESCRIBE's columns, each value as text (null for NULL). */
export interface TextPage {
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

/** DESCRIBE's name for a column of each Delta type readRows reads. */
const DESCRIBED: Record<string, string> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  integer: 'INTEGER',
  short: 'SMALLINT',
  byte: 'TINYINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  timestamp_ntz: 'TIMESTAMP',
};

/** Thrown by a value the engine must print (a year DuckDB writes with " (BC)" or five digits). */
class NeedsEngine extends Error {}

/** Whether pageText can read a page of `snapshot` (if its files have row counts and no deletion vectors). */
export function readableAsText(snapshot: Snapshot): boolean {
  return readableWithoutEngine(snapshot) && snapshot.schema.fields.every((f) => typeof f.type === 'string' && f.type in DESCRIBED);
}

/**
 * A page of a snapshot's rows as text, read from its Parquet files without the SQL engine: each
 * value as DuckDB's `::VARCHAR` prints it, and each column typed as its DESCRIBE names it, so the
 * page equals the one the engine gives (worker/grid.ts gridOf). The Explorer's first page then
 * skips loading the rows into DuckDB and the engine's first, cold, casts. Undefined when the
 * engine must read it: a table readRows cannot read (rows.ts) or with a FLOAT column (DuckDB
 * prints some floats with more digits than the shortest that read back, 2185028.25 not 2185028.3),
 * a file without a row count or with a deletion vector in the page, a date or timestamp outside
 * the years 1 to 9999.
 */
export async function pageText(storage: Storage, snapshot: Snapshot, window: RowSlice): Promise<TextPage | undefined> {
  if (!readableAsText(snapshot)) return undefined;
  const fields = snapshot.schema.fields;
  const columns = fields.map((f) => ({ name: f.name, type: DESCRIBED[f.type as string]! }));
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  const deletionVectors = new DeletionVectors(storage, snapshot);
  const rows: (string | null)[][] = [];
  let skip = window.offset;
  let take = window.limit;
  try {
    for (const add of snapshot.files) {
      if (take <= 0) break;
      const live = numRecords(add);
      if (live === null) return undefined;
      if (live <= skip) {
        skip -= live;
        continue;
      }
      if (await deletionVectors.deletedRows(add)) return undefined;
      const slice = { offset: skip, limit: Math.min(take, live - skip) };
      const table = tableFromIPC(await decodeDataFileRows(storage, snapshot, add, slice));
      try {
        checkFieldIds(table.schema.fields, mode);
      } catch {
        return undefined;
      }
      const start = rows.length;
      for (let i = 0; i < table.numRows; i++) rows.push(new Array<string | null>(fields.length).fill(null));
      for (let c = 0; c < fields.length; c++) {
        const index = findFileField(table.schema.fields, fields[c]!, mode);
        const vector = index === undefined ? null : table.getChildAt(index);
        if (!vector) continue; // a column the file lacks reads as NULL
        const text = textOf(fields[c]!, vector.type as DataType);
        if (!text) return undefined;
        let at = start;
        for (const data of vector.data) {
          const chunk = makeVector(data);
          for (let i = 0; i < data.length; i++, at++) if (data.getValid(i)) rows[at]![c] = text(data, chunk, i);
        }
      }
      take -= slice.limit;
      skip = 0;
    }
  } catch (err) {
    if (err instanceof NeedsEngine) return undefined;
    throw err;
  }
  return { columns, rows };
}

type Text = (data: Data, vector: Vector, i: number) => string;
const raw = (d: Data, i: number): number | bigint => d.values[d.offset + i] as number | bigint;

/** How DuckDB prints a value of an Arrow column read as the Delta type of `field`; undefined if the file's type does not fit. */
function textOf(field: DeltaField, type: DataType): Text | undefined {
  switch (field.type) {
    case 'string':
      return DataType.isUtf8(type) || DataType.isLargeUtf8(type) ? (_d, v, i) => v.get(i) as string : undefined;
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return DataType.isInt(type) ? (d, _v, i) => String(raw(d, i)) : undefined;
    case 'double':
      return DataType.isFloat(type) && type.precision !== Precision.HALF ? (d, _v, i) => doubleText(raw(d, i) as number) : undefined;
    case 'boolean':
      return DataType.isBool(type) ? (_d, v, i) => String(v.get(i)) : undefined;
    case 'date':
      if (!DataType.isDate(type)) return undefined;
      return (d, _v, i) => dateText(type.unit === DateUnit.DAY ? (raw(d, i) as number) : Math.floor(Number(raw(d, i)) / 86_400_000));
    case 'timestamp':
    case 'timestamp_ntz': {
      if (!DataType.isTimestamp(type)) return undefined;
      const zone = field.type === 'timestamp' ? '+00' : '';
      return (d, _v, i) => timestampText(toMicros(BigInt(raw(d, i)), type.unit)) + zone;
    }
    default:
      return undefined;
  }
}

/**
 * A double as DuckDB prints it: the shortest digits that read back as the same double, in fixed
 * notation (with ".0" when whole) from 1e-4 up to 1e16, else as 1.5e+20 or 1e-05.
 */
export function doubleText(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [digits, exponent] = v.toExponential().split('e') as [string, string];
  const e = Number(exponent);
  if (e < -4 || e >= 16) return `${digits}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const fixed = String(v);
  return Number.isInteger(v) ? `${fixed}.0` : fixed;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Days since the epoch as DuckDB prints a DATE (YYYY-MM-DD); NeedsEngine outside the years 1 to 9999. */
export function dateText(days: number): string {
  const year = new Date(days * 86_400_000).getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) throw new NeedsEngine();
  return isoDate(days);
}

/** Microseconds since the epoch as DuckDB prints a TIMESTAMP: no fraction when whole seconds, else its digits without trailing zeros. */
export function timestampText(us: bigint): string {
  const seconds = us / 1_000_000n - (us % 1_000_000n < 0n ? 1n : 0n);
  const micros = Number(us - seconds * 1_000_000n);
  const days = Math.floor(Number(seconds) / 86_400);
  const inDay = Number(seconds) - days * 86_400;
  const time = `${pad(Math.floor(inDay / 3600), 2)}:${pad(Math.floor(inDay / 60) % 60, 2)}:${pad(inDay % 60, 2)}`;
  return `${dateText(days)} ${time}${micros ? `.${pad(micros, 6).replace(/0+$/, '')}` : ''}`;
}

import { CodedError } from '../errors.ts';
import {
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeBuilder,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  type Data,
} from 'apache-arrow';
import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { decodeParquet } from '../parquet/codec.ts';
import { reasonOf } from '../delta/errors.ts';
import { deltaTypeOfArrow, duckdbType, type DeltaField, type DeltaSchema, type DeltaType } from '../delta/schema.ts';

/**
 * Rows to append to a Delta table, from a file, typed by the table's schema: Parquet (any
 * writer's; its columns must have the table's types, or narrower ones that widen without loss),
 * or JSON lines whose values are read strictly by the column types. Columns are matched by name
 * without regard to case, as Spark does; a column the table lacks is an error, one the file lacks
 * is NULL. The rows come out of DuckDB with exactly the Arrow types the writer maps to the
 * table's Delta types.
 */
export class AppendInputError extends CodedError {
  static readonly code = 'APPEND_INPUT';
  override name = 'AppendInputError';
}

const STAGING = '__append_input';

export function readAppendInput(engine: Engine, name: string, bytes: Uint8Array, schema: DeltaSchema, partitionColumns: string[]): Table {
  const lower = name.toLowerCase();
  let ipc: Uint8Array;
  if (lower.endsWith('.parquet')) {
    try {
      ipc = decodeParquet(bytes);
    } catch (err) {
      throw new AppendInputError(`${name} cannot be read as Parquet: ${(err as Error).message}`);
    }
  } else if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) {
    ipc = tableToIPC(jsonRows(name, bytes, schema), 'stream');
  } else {
    throw new AppendInputError(`${name} is neither Parquet (.parquet) nor JSON lines (.jsonl, .ndjson): say which by its extension`);
  }
  const input = tableFromIPC(ipc);
  if (input.numRows === 0) throw new AppendInputError(`${name} holds no rows: there is nothing to append`);
  const byName = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f]));
  const sources = new Map<string, { name: string; type: DataType }>();
  for (const f of input.schema.fields) {
    const target = byName.get(f.name.toLowerCase());
    if (!target) throw new AppendInputError(`column ${f.name} of ${name} is not in the table's schema (${schema.fields.map((x) => x.name).join(', ')})`);
    if (sources.has(target.name)) throw new AppendInputError(`${name} has column ${target.name} twice (names are compared without regard to case)`);
    sources.set(target.name, f);
  }
  const projection = schema.fields.map((target) => {
    const source = sources.get(target.name);
    if (!source) return `NULL::${duckdbType(target.type)} AS ${quoteIdent(target.name)}`;
    let from: DeltaType;
    try {
      from = deltaTypeOfArrow(source.type, source.name);
    } catch (err) {
      throw new AppendInputError(`column ${source.name} of ${name} has a type with no Delta equivalent: ${reasonOf(err)}`);
    }
    if (!widensTo(from, target.type)) {
      throw new AppendInputError(`column ${source.name} of ${name} is ${describe(from)}, and the table's column ${target.name} is ${describe(target.type)}`);
    }
    return `${castTo(quoteIdent(source.name), from, target.type)} AS ${quoteIdent(target.name)}`;
  });
  engine.insertIPC(STAGING, ipc);
  try {
    const order = partitionColumns.length ? ` ORDER BY ${partitionColumns.map((c) => `${quoteIdent(c)} NULLS FIRST`).join(', ')}` : '';
    return engine.query(`SELECT ${projection.join(', ')} FROM ${STAGING}${order}`);
  } finally {
    engine.run(`DROP TABLE IF EXISTS ${STAGING}`);
  }
}

function describe(type: DeltaType): string {
  return typeof type === 'string' ? type : JSON.stringify(type);
}

const INTEGER_WIDTH: Record<string, number> = { byte: 1, short: 2, integer: 3, long: 4 };

/**
 * The same type (nullability aside), or a widening Delta's type widening allows without loss:
 * a smaller integer to a larger one or to double (from int or narrower), float to double, and
 * a decimal to one with as many more integer digits and at least as many fraction digits.
 */
export function widensTo(from: DeltaType, to: DeltaType): boolean {
  if (typeof from !== 'string' || typeof to !== 'string') return shape(from) === shape(to);
  if (from === to) return true;
  if (from in INTEGER_WIDTH && to in INTEGER_WIDTH) return INTEGER_WIDTH[from]! < INTEGER_WIDTH[to]!;
  if (to === 'double') return from === 'float' || (from in INTEGER_WIDTH && from !== 'long');
  const a = /^decimal\((\d+),\s*(\d+)\)$/.exec(from);
  const b = /^decimal\((\d+),\s*(\d+)\)$/.exec(to);
  if (a && b) {
    const [p1, s1, p2, s2] = [a[1], a[2], b[1], b[2]].map(Number) as [number, number, number, number];
    return s2 >= s1 && p2 - s2 >= p1 - s1;
  }
  return false;
}

function shape(type: DeltaType): string {
  const strip = (t: DeltaType): unknown => {
    if (typeof t === 'string') return t;
    if (t.type === 'struct') return t.fields.map((f) => [f.name, strip(f.type)]);
    if (t.type === 'array') return ['array', strip(t.elementType)];
    return ['map', strip(t.keyType), strip(t.valueType)];
  };
  return JSON.stringify(strip(type));
}

function castTo(expr: string, from: DeltaType, to: DeltaType): string {
  // Nested values keep DuckDB's own reading of them; a cast would match struct fields by position.
  if (typeof to !== 'string') return expr;
  // Through TIMESTAMP: DuckDB without ICU casts any timestamp unit to TIMESTAMPTZ only that way.
  if (to === 'timestamp') return `CAST(CAST(${expr} AS TIMESTAMP) AS TIMESTAMPTZ)`;
  return from === to && to === 'string' ? expr : `CAST(${expr} AS ${duckdbType(to)})`;
}

/** JSON lines as an Arrow table with a column for each of the schema's columns a line names. */
function jsonRows(name: string, bytes: Uint8Array, schema: DeltaSchema): Table {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/^\uFEFF/, '');
  const byName = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f]));
  const rows: Record<string, unknown>[] = [];
  const seen = new Set<DeltaField>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new AppendInputError(`${name} line ${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AppendInputError(`${name} line ${i + 1} is not a JSON object`);
    const row: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const field = byName.get(key.toLowerCase());
      if (!field)
        throw new AppendInputError(
          `${name} line ${i + 1} has the key ${JSON.stringify(key)}, which is not a column of the table (${schema.fields.map((f) => f.name).join(', ')})`,
        );
      if (field.name in row) throw new AppendInputError(`${name} line ${i + 1} has column ${field.name} twice (names are compared without regard to case)`);
      row[field.name] = v;
      seen.add(field);
    }
    rows.push({ ...row, [LINE]: i + 1 });
  });
  const fields = schema.fields.filter((f) => seen.has(f));
  if (rows.length === 0) throw new AppendInputError(`${name} holds no rows: there is nothing to append`);
  const columns = fields.map((f) => jsonColumn(name, f, rows));
  return tableOf(fields, columns);
}

const LINE = Symbol('line');

function tableOf(fields: DeltaField[], columns: Data[]): Table {
  return new Table(Object.fromEntries(fields.map((f, i) => [f.name, makeVector(columns[i]!)])));
}

/** The Arrow type a JSON value of a Delta primitive type is read into. */
function arrowType(type: DeltaType): DataType | undefined {
  if (typeof type !== 'string') return undefined;
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (dec) return new Decimal(Number(dec[2]), Number(dec[1]), 128);
  return (
    {
      string: new Utf8(),
      long: new Int64(),
      integer: new Int32(),
      short: new Int16(),
      byte: new Int8(),
      double: new Float64(),
      float: new Float32(),
      boolean: new Bool(),
      date: new DateDay(),
      timestamp: new TimestampMicrosecond('UTC'),
      timestamp_ntz: new TimestampMicrosecond(),
    } as Record<string, DataType>
  )[type];
}

const RANGES: Record<string, [number, number]> = { byte: [-128, 127], short: [-32768, 32767], integer: [-2147483648, 2147483647] };

function jsonColumn(name: string, field: DeltaField, rows: Record<string | symbol, unknown>[]): Data {
  const type = arrowType(field.type);
  if (!type) throw new AppendInputError(`column ${field.name} is ${describe(field.type)}, which JSON lines cannot append here; append it from Parquet`);
  const t = field.type as string;
  const bad = (row: Record<string | symbol, unknown>, what: string): never => {
    throw new AppendInputError(`${name} line ${String(row[LINE])}: column ${field.name} is ${t}, and ${JSON.stringify(row[field.name])} is not ${what}`);
  };
  const length = rows.length;
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  const present = (row: Record<string | symbol, unknown>, i: number): boolean => {
    const v = row[field.name];
    if (v === null || v === undefined) {
      nullCount++;
      return false;
    }
    nullBitmap[i >> 3]! |= 1 << (i & 7);
    return true;
  };
  if (t === 'string') {
    const builder = makeBuilder({ type: new Utf8(), nullValues: [null, undefined] });
    rows.forEach((row) => {
      const v = row[field.name];
      if (v !== null && v !== undefined && typeof v !== 'string') bad(row, 'a string');
      builder.append(v as string | null);
    });
    return builder.finish().flush();
  }
  if (t === 'boolean') {
    const values = new Uint8Array(Math.ceil(length / 8));
    rows.forEach((row, i) => {
      if (!present(row, i)) return;
      if (typeof row[field.name] !== 'boolean') bad(row, 'true or false');
      if (row[field.name]) values[i >> 3]! |= 1 << (i & 7);
    });
    return makeData({ type: new Bool(), length, nullCount, nullBitmap, data: values });
  }
  if (t in RANGES || t === 'long' || t === 'date' || t === 'timestamp' || t === 'timestamp_ntz') {
    const big = t === 'long' || t.startsWith('timestamp');
    const values = big ? new BigInt64Array(length) : t === 'byte' ? new Int8Array(length) : t === 'short' ? new Int16Array(length) : new Int32Array(length);
    rows.forEach((row, i) => {
      if (!present(row, i)) return;
      const v = row[field.name];
      if (t === 'date') values[i] = typeof v === 'string' ? (parseDate(v) ?? bad(row, 'a date (yyyy-mm-dd)')) : bad(row, 'a date (yyyy-mm-dd)');
      else if (t === 'timestamp' || t === 'timestamp_ntz') {
        const zoned = t === 'timestamp';
        const micros = typeof v === 'string' ? parseTimestamp(v, zoned) : undefined;
        values[i] =
          micros ??
          bad(row, zoned ? 'a timestamp with a time zone offset (e.g. 2024-01-31T12:00:00Z)' : 'a timestamp without a time zone (e.g. 2024-01-31T12:00:00)');
      } else {
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(row, 'a whole number this reader takes exactly');
        const n = v as number;
        if (t in RANGES && (n < RANGES[t]![0] || n > RANGES[t]![1])) bad(row, `within the range of ${t}`);
        values[i] = big ? BigInt(n) : n;
      }
    });
    return makeData({ type: type as Int64, length, nullCount, nullBitmap, data: values as never });
  }
  if (t === 'double' || t === 'float') {
    const values = t === 'double' ? new Float64Array(length) : new Float32Array(length);
    rows.forEach((row, i) => {
      if (!present(row, i)) return;
      if (typeof row[field.name] !== 'number') bad(row, 'a number');
      values[i] = row[field.name] as number;
    });
    return makeData({ type: type as Float64, length, nullCount, nullBitmap, data: values as never });
  }
  const dec = type as Decimal;
  const words = new Uint32Array(length * 4);
  rows.forEach((row, i) => {
    if (!present(row, i)) return;
    const v = row[field.name];
    const unscaled = typeof v === 'number' || typeof v === 'string' ? parseDecimal(String(v), dec.precision, dec.scale) : undefined;
    if (unscaled === undefined) bad(row, `a number with at most ${dec.precision - dec.scale} integer and ${dec.scale} fraction digits`);
    let x = BigInt.asUintN(128, unscaled!);
    for (let w = 0; w < 4; w++) {
      words[i * 4 + w] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  return makeData({ type: dec, length, nullCount, nullBitmap, data: words });
}

function parseDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== text) return undefined;
  return ms / 86_400_000;
}

/** ISO-8601 with up to microseconds; `zoned`: an offset (Z, ±hh:mm) is required, otherwise forbidden. */
function parseTimestamp(text: string, zoned: boolean): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m || Boolean(m[6]) !== zoned) return undefined;
  const days = parseDate(m[1]!);
  const [h, min, s] = [m[2], m[3], m[4]].map(Number) as [number, number, number];
  if (days === undefined || h > 23 || min > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (m[6] && m[6] !== 'Z') {
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(m[6])!;
    offsetMinutes = (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3]));
  }
  const seconds = BigInt(days) * 86_400n + BigInt(h * 3600 + min * 60 + s) - BigInt(offsetMinutes * 60);
  return seconds * 1_000_000n + BigInt((m[5] ?? '').padEnd(6, '0') || '0');
}

/** A decimal number's text as the unscaled integer at `scale`, when it fits `precision` exactly. */
function parseDecimal(text: string, precision: number, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > scale) return undefined;
  const digits = (m[2]! + fraction.padEnd(scale, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > precision) return undefined;
  const value = BigInt(digits);
  return m[1] === '-' ? -value : value;
}

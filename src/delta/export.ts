import type { Engine } from '../engine/types.ts';
import { quoteIdent, quoteString } from '../engine/duckdb.ts';
import { jsonFloat, jsonNumber } from './rows.ts';
import type { DeltaSchema, DeltaType } from './schema.ts';

/**
 * JSON lines typed by the Delta schema, the same at every depth:
 * - long and decimal: JSON numbers written with every digit (text from DuckDB, never a JS number);
 * - byte, short, integer, float, double: JSON numbers (a float in the fewest digits that read back
 *   as the same float, as Spark prints it); NaN, Infinity and -Infinity as strings;
 * - string: JSON strings; boolean: true/false; binary: base64 strings;
 * - date: "YYYY-MM-DD"; timestamp: "YYYY-MM-DDTHH:MM:SS.ffffffZ"; timestamp_ntz: the same without Z;
 * - struct: an object with the schema's field names, in schema order;
 * - array: an array; map: an object whose keys are the keys' text as above (as Spark's to_json);
 * - null at any level: null.
 */

const isDecimal = (t: DeltaType): boolean => typeof t === 'string' && t.startsWith('decimal');
const RAW_NUMBER = (t: DeltaType): boolean => t === 'long' || isDecimal(t);

/** The value as the text jsonValue wants, in SQL; undefined when the engine's value is already right. */
function leafText(q: string, t: string): string | undefined {
  if (t === 'timestamp') return `strftime(${q}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (t === 'timestamp_ntz') return `strftime(${q}, '%Y-%m-%dT%H:%M:%S.%f')`;
  if (t === 'date' || t === 'long' || isDecimal(t)) return `${q}::VARCHAR`;
  if (t === 'binary') return `to_base64(${q})`;
  return undefined;
}

/** `expr` with every leaf inside it as jsonValue wants it; undefined when nothing in it needs changing. */
function jsonExpr(expr: string, type: DeltaType, depth: number): string | undefined {
  if (typeof type === 'string') return leafText(expr, type);
  if (type.type === 'struct') {
    const parts = type.fields.map((f) => {
      const inner = `struct_extract(${expr}, ${quoteString(f.name)})`;
      return { name: f.name, inner, converted: jsonExpr(inner, f.type, depth) };
    });
    if (parts.every((p) => p.converted === undefined)) return undefined;
    return `CASE WHEN ${expr} IS NULL THEN NULL ELSE {${parts.map((p) => `${quoteString(p.name)}: ${p.converted ?? p.inner}`).join(', ')}} END`;
  }
  if (type.type === 'array') {
    const x = `x${depth}`;
    const element = jsonExpr(x, type.elementType, depth + 1);
    return element === undefined ? undefined : `list_transform(${expr}, lambda ${x}: ${element})`;
  }
  const e = `e${depth}`;
  const key = `struct_extract(${e}, 'key')`;
  const value = `struct_extract(${e}, 'value')`;
  const k = jsonExpr(key, type.keyType, depth + 1);
  const v = jsonExpr(value, type.valueType, depth + 1);
  if (k === undefined && v === undefined) return undefined;
  return `map_from_entries(list_transform(map_entries(${expr}), lambda ${e}: {'key': ${k ?? key}, 'value': ${v ?? value}}))`;
}

function jsonProjection(schema: DeltaSchema): string {
  return schema.fields
    .map((f) => {
      const q = quoteIdent(f.name);
      const converted = jsonExpr(q, f.type, 0);
      return converted === undefined ? q : `${converted} AS ${q}`;
    })
    .join(', ');
}

/** The rows of `table` as JSON lines, typed by the Delta schema, in chunks of `chunk` rows. */
export function* jsonLines(engine: Engine, table: string, schema: DeltaSchema, chunk = 10_000): Generator<string> {
  const total = Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`)[0]!.n);
  const projection = jsonProjection(schema);
  for (let offset = 0; offset < total; offset += chunk) {
    const result = engine.query(`SELECT ${projection} FROM ${quoteIdent(table)} LIMIT ${chunk} OFFSET ${offset}`);
    for (const row of result) {
      const parts = schema.fields.map((f) => {
        const v = (row as unknown as Record<string, unknown>)[f.name];
        return `${JSON.stringify(f.name)}:${jsonValue(v, f.type)}`;
      });
      yield `{${parts.join(',')}}`;
    }
  }
}

/** One value (as the projection gives it) as JSON text. */
function jsonValue(v: unknown, type: DeltaType): string {
  if (v === null || v === undefined) return 'null';
  if (typeof type === 'string') {
    if (RAW_NUMBER(type)) return String(v);
    // -0.0 is a value of its own (Spark keeps it); JSON.stringify would print it as 0.
    if (typeof v === 'number') return Object.is(v, -0) ? '-0.0' : JSON.stringify(type === 'float' ? jsonFloat(v) : jsonNumber(v));
    if (typeof v === 'bigint') return v.toString();
    return JSON.stringify(v);
  }
  if (type.type === 'struct') {
    const row = v as Record<string, unknown>;
    return `{${type.fields.map((f) => `${JSON.stringify(f.name)}:${jsonValue(row[f.name], f.type)}`).join(',')}}`;
  }
  if (type.type === 'array') {
    return `[${Array.from(v as Iterable<unknown>, (x) => jsonValue(x, type.elementType)).join(',')}]`;
  }
  const entries = Array.from(v as Iterable<[unknown, unknown]>, ([k, x]) => `${JSON.stringify(keyText(k, type.keyType))}:${jsonValue(x, type.valueType)}`);
  return `{${entries.join(',')}}`;
}

/** A map key as an object key: its text, or its JSON for a nested key. */
function keyText(k: unknown, type: DeltaType): string {
  if (typeof type === 'string') return typeof k === 'string' ? k : String(k);
  return jsonValue(k, type);
}

import type { Engine } from '../engine/types.ts';
import { quoteIdent } from '../engine/duckdb.ts';
import type { DeltaSchema, DeltaType } from './schema.ts';

/**
 * A SELECT over `table` whose columns are JSON-ready text: exact decimals and microsecond
 * timestamps survive, which Arrow-to-JS number conversion would lose.
 */
function jsonProjection(schema: DeltaSchema): string {
  return schema.fields
    .map((f) => {
      const q = quoteIdent(f.name);
      const t: DeltaType = f.type;
      if (t === 'timestamp') return `strftime(${q}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ') AS ${q}`;
      if (t === 'timestamp_ntz') return `strftime(${q}, '%Y-%m-%dT%H:%M:%S.%f') AS ${q}`;
      if (t === 'date' || (typeof t === 'string' && t.startsWith('decimal')) || t === 'long') return `${q}::VARCHAR AS ${q}`;
      if (t === 'binary') return `to_base64(${q}) AS ${q}`;
      return q;
    })
    .join(', ');
}

const RAW_NUMBER = (t: DeltaType) => t === 'long' || (typeof t === 'string' && t.startsWith('decimal'));

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

function jsonValue(v: unknown, type: DeltaType): string {
  if (v === null || v === undefined) return 'null';
  if (RAW_NUMBER(type)) return String(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return Number.isSafeInteger(Number(x)) ? Number(x) : x.toString();
    if (x && typeof x === 'object' && 'toJSON' in x) return (x as { toJSON(): unknown }).toJSON();
    return x;
  });
}

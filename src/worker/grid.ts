import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import type { Grid } from './protocol.ts';

/** The columns of a table or view, in order, with their DuckDB types. */
export function describe(engine: Engine, relation: string): { name: string; type: string }[] {
  return engine
    .rows<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${quoteIdent(relation)})`)
    .map((c) => ({ name: c.column_name, type: c.column_type }));
}

/** `SELECT … FROM relation` with every column cast to text, `limit` rows from `offset`. */
export function gridOf(engine: Engine, relation: string, limit: number, offset = 0, orderBy = ''): Grid {
  const columns = describe(engine, relation);
  if (columns.length === 0) return { columns, rows: [] };
  const projection = columns.map((c, i) => `${quoteIdent(c.name)}::VARCHAR AS c${i}`).join(', ');
  const table = engine.query(`SELECT ${projection} FROM ${quoteIdent(relation)}${orderBy ? ` ORDER BY ${orderBy}` : ''} LIMIT ${limit} OFFSET ${offset}`);
  return { columns, rows: textRows(table, columns.length) };
}

/** An Arrow table's rows as text, column by column (values that are not text are printed). */
export function textRows(table: { numRows: number; getChildAt(i: number): { get(row: number): unknown } | null }, width: number): (string | null)[][] {
  const vectors = Array.from({ length: width }, (_, i) => table.getChildAt(i));
  const rows: (string | null)[][] = [];
  for (let r = 0; r < table.numRows; r++) rows.push(vectors.map((v) => text(v?.get(r))));
  return rows;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `0x${[...v].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (typeof v === 'object' && Symbol.iterator in v) return `[${[...(v as Iterable<unknown>)].map((x) => text(x) ?? 'NULL').join(', ')}]`;
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

export function count(engine: Engine, relation: string): number {
  return Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${quoteIdent(relation)}`)[0]!.n);
}

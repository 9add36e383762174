import { tableFromIPC } from 'apache-arrow';
import { QueryError, type Engine } from '../engine/types.ts';
import { GOLD_TABLES, type GoldTable } from './tables.ts';

export interface GoldTableResult {
  name: GoldTable;
  /** the rows, as an Arrow IPC stream */
  ipc: Uint8Array;
  rows: number;
}

/**
 * Run one gold model against the engine's `silver_events`. A failure names the table and keeps
 * the SQL text and the engine's error (as `cause`).
 */
export function computeGoldTable(engine: Engine, name: GoldTable, sql: string): GoldTableResult {
  let ipc: Uint8Array;
  try {
    ipc = engine.queryIPC(sql);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new QueryError(`gold table ${name} failed: ${message}`, sql, err);
  }
  // IPC bytes, unlike Arrow objects, are safe to read with this module's copy of apache-arrow.
  return { name, ipc, rows: tableFromIPC(ipc).numRows };
}

/**
 * The SQL texts keyed by table name (the file name without `.sql`) must be exactly the gold
 * tables: a missing or unknown one is an error before anything runs.
 */
export function checkGoldSql(sqlByName: Readonly<Record<string, string>>): void {
  const known: readonly string[] = GOLD_TABLES;
  const missing = GOLD_TABLES.filter((name) => typeof sqlByName[name] !== 'string');
  if (missing.length > 0) {
    throw new Error(`gold SQL missing for ${missing.join(', ')}: expected ${missing.map((n) => `sql/gold/${n}.sql`).join(', ')}`);
  }
  const unknown = Object.keys(sqlByName).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(`gold SQL for unknown table${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: the gold tables are ${GOLD_TABLES.join(', ')}`);
  }
}

/**
 * SQL texts keyed by file name without `.sql`, from a map keyed by path, such as Vite's
 * `import.meta.glob('../../sql/gold/*.sql', { query: '?raw', import: 'default', eager: true })`.
 */
export function sqlByFileName(files: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) {
    const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.sql$/, '');
    out[name] = text;
  }
  return out;
}

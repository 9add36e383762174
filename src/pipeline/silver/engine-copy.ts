import { isAdd, isMetaData, isRemove } from '../../delta/actions.ts';
import { scanIntoEngine, tableColumns } from '../../delta/scan.ts';
import { numRecords, readCommit, type Snapshot } from '../../delta/snapshot.ts';
import { tryLoadSnapshot } from '../../delta/writer.ts';
import { quoteIdent, quoteString } from '../../engine/duckdb.ts';
import type { Engine } from '../../engine/types.ts';
import type { PipelineContext } from '../context.ts';
import { SILVER_EVENTS_DDL, TABLES } from '../tables.ts';

/**
 * The engine's copy of silver/events, table `silver_events`: what dedup and gold read. It is
 * loaded once and then kept up to date by appending each batch's rows as they are committed.
 */

/** What the engine's `silver_events` holds: silver/events of table `id` at `version`, `rows` rows. */
interface LoadedSilver {
  id: string;
  version: number;
  rows: number;
}

/** Per engine connection: which silver snapshot its `silver_events` mirrors, so it is not read again. */
const loadedSilver = new WeakMap<Engine, LoadedSilver>();

/**
 * The silver events of the lakehouse as DuckDB table `silver_events`, for dedup and gold. When the
 * engine already holds the latest version (the worker's engine lives across runs) nothing is read;
 * when only appends happened since, only their files are read.
 */
export async function loadSilverEvents(ctx: PipelineContext): Promise<Snapshot | undefined> {
  const { engine } = ctx;
  const snap = await tryLoadSnapshot(ctx.storage, TABLES.silver);
  if (!snap) {
    leaveCompressed(engine);
    engine.run(`CREATE OR REPLACE TABLE silver_events ${SILVER_EVENTS_DDL}`);
    // '' stands for the table this engine will create with its first commit.
    loadedSilver.set(engine, { id: '', version: -1, rows: 0 });
    return snap;
  }
  let rows: number | null = 0;
  for (const f of snap.files) {
    const n = numRecords(f);
    rows = rows === null || n === null ? null : rows + n;
  }
  const held = loadedSilver.get(engine);
  loadedSilver.delete(engine);
  if (
    rows !== null &&
    held &&
    (held.id === snap.metadata.id || held.id === '') &&
    held.version <= snap.version &&
    tableRows(engine, 'silver_events') === held.rows
  ) {
    const newer = await appendedSince(ctx, held.version, snap.version);
    if (newer) {
      if (newer.size > 0) await scanIntoEngine(engine, ctx.storage, snap, 'silver_events', { append: true, fileFilter: (a) => newer.has(a.path) });
      if (tableRows(engine, 'silver_events') === rows) {
        loadedSilver.set(engine, { id: snap.metadata.id, version: snap.version, rows });
        return snap;
      }
    }
  }
  // Read whole. A large silver is read straight into the compressed database (uncompressed it
  // might not fit); a smaller one lets a compressed copy go.
  const limit = ctx.compressSilverAbove ?? COMPRESS_SILVER_ABOVE;
  const compress = rows !== null && rows > limit;
  if (compress) {
    engine.run(`CREATE OR REPLACE TABLE silver_events (${tableColumns(snap)})`);
    ensureSilverCapacity(engine, rows!, limit);
  } else leaveCompressed(engine);
  await scanIntoEngine(engine, ctx.storage, snap, 'silver_events', compress ? { append: true } : {});
  if (rows !== null) loadedSilver.set(engine, { id: snap.metadata.id, version: snap.version, rows });
  return snap;
}

/** Past this many rows silver_events moves to a compressed in-memory database (see ensureSilverCapacity). */
export const COMPRESS_SILVER_ABOVE = 2_000_000;
const COMPRESSED = 'lakehouse_silver';

/**
 * Make room for `coming` more rows in `silver_events`. DuckDB keeps a table of its in-memory
 * database uncompressed, about 250 bytes per silver row: 10 million rows would not fit in wasm32's
 * 4 GB. Past `limit` rows the table moves to an in-memory database attached with COMPRESS (about
 * 25 bytes per row; inserts cost more, scans less), found by the same name through the
 * connection's search path. Smaller lakehouses keep the cheaper uncompressed table. Every other
 * table (a batch's scratch tables, staging) is still created in the uncompressed database: in the
 * compressed one each insert would be compressed for nothing.
 */
export function ensureSilverCapacity(engine: Engine, coming: number, limit = COMPRESS_SILVER_ABOVE): boolean {
  const rows = tableRows(engine, 'silver_events') ?? 0;
  if (rows + coming <= limit) return false;
  if (silverDatabase(engine) === COMPRESSED) return false;
  const current = engine.rows<{ d: string }>('SELECT current_database() AS d')[0]!.d;
  engine.run(`ATTACH IF NOT EXISTS ':memory:' AS ${COMPRESSED} (COMPRESS);
    CREATE OR REPLACE TABLE ${COMPRESSED}.main.silver_events AS SELECT * FROM silver_events;
    DROP TABLE silver_events;
    SET search_path = ${quoteString(`${quoteIdent(current)}.main,${COMPRESSED}.main`)}`);
  return true;
}

/** The database holding the `silver_events` the name resolves to (undefined: none). */
export function silverDatabase(engine: Engine): string | undefined {
  // The connection's own database comes first in its search path.
  return engine.rows<{ d: string }>(
    `SELECT database_name AS d FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'silver_events' AND database_name IN (current_database(), '${COMPRESSED}') ORDER BY database_name <> current_database() LIMIT 1`,
  )[0]?.d;
}

/** This connection's silver_events back in its own database: a compressed copy it found by the search path is dropped. */
function leaveCompressed(engine: Engine): void {
  if (findsCompressed(engine)) engine.run(`DROP TABLE IF EXISTS ${COMPRESSED}.main.silver_events; RESET search_path`);
}

/** Whether this connection's search path leads to the compressed database (another connection's may, on the same instance). */
function findsCompressed(engine: Engine): boolean {
  return engine.rows<{ p: string }>("SELECT current_setting('search_path') AS p")[0]!.p.includes(COMPRESSED);
}

/**
 * Let the engine's copy of silver go (after the engine ran out of memory: the rest of the page
 * needs the room). The next run reads silver/events again, into the compressed database when it
 * is that large.
 */
export function dropSilverEvents(engine: Engine): void {
  loadedSilver.delete(engine);
  engine.run(
    findsCompressed(engine)
      ? `DROP TABLE IF EXISTS silver_events; RESET search_path; DETACH DATABASE IF EXISTS ${COMPRESSED}`
      : 'DROP TABLE IF EXISTS silver_events',
  );
}

/**
 * The engine's copy now also holds `rows` rows that our commit made `version` of silver/events,
 * read at `readVersion`. True when the copy is then exactly that version (it held `readVersion`).
 */
export function noteSilverAppended(engine: Engine, committed: { version: number; readVersion: number }, rows: number): boolean {
  const held = loadedSilver.get(engine);
  if (held && held.version === committed.readVersion) {
    loadedSilver.set(engine, { ...held, version: committed.version, rows: held.rows + rows });
    return true;
  }
  loadedSilver.delete(engine);
  return false;
}

/** The files the commits after `from` up to `to` added, or undefined when one did more than append. */
async function appendedSince(ctx: PipelineContext, from: number, to: number): Promise<Set<string> | undefined> {
  const added = new Set<string>();
  for (let v = from + 1; v <= to; v++) {
    const actions = await readCommit(ctx.storage, TABLES.silver, v).catch(() => undefined);
    if (!actions || actions.some((a) => isRemove(a) || isMetaData(a))) return undefined;
    for (const a of actions) if (isAdd(a)) added.add(a.add.path);
  }
  return added;
}

function tableRows(engine: Engine, table: string): number | undefined {
  try {
    return Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM ${table}`)[0]!.n);
  } catch {
    return undefined;
  }
}

import { tableFromIPC } from 'apache-arrow';
import { listLog, numRecords } from '../delta/snapshot.ts';
import { CommitConflictError, openWriter } from '../delta/writer.ts';
import { CodedError } from '../errors.ts';
import { QueryError, type Engine } from '../engine/types.ts';
import { checkCancelled, type PipelineContext } from './context.ts';
import { GOLD_INPUT, GOLD_INPUT_APP_ID, lastDataVersion } from './lineage.ts';
import { loadSilverEvents } from './silver/index.ts';
import { GOLD_TABLES, goldTable, TABLES, type GoldTable } from './tables.ts';

export interface GoldResult {
  table: string;
  version: number;
  rows: number;
  /** the silver/events version it was computed from */
  input: number;
  /** it was computed from that version already: nothing was written */
  current?: true;
}

/**
 * Gold computed from an older silver/events version than the gold table already records: written,
 * it would replace newer figures with older ones. A conflict: the step is retried on the newer silver.
 */
export class OlderInputError extends CodedError {
  static readonly code = 'OLDER_INPUT';
  override name = 'OlderInputError';
  constructor(table: string, version: number, recorded: number, computedFrom: number) {
    super(`${table} v${version} was computed from ${GOLD_INPUT} v${recorded}; gold computed from the older v${computedFrom} is not committed over it`);
  }
}

/**
 * Recompute the gold tables from `silver_events` and overwrite them (a new version each). Each
 * commit records the silver/events version it was computed from (a `txn` with appId
 * GOLD_INPUT_APP_ID, and `inputs` in commitInfo.operationParameters). A table that already records
 * the latest silver version that changed data is left as it is; one that records a newer version
 * than this gold was computed from refuses the commit (OlderInputError). Another run may add to
 * silver meanwhile: gold computed without its rows is refused too, and the step retried.
 */
export async function refreshGold(ctx: PipelineContext, early?: EarlyGold): Promise<GoldResult[]> {
  checkGoldSql(ctx.goldSql);
  const silverVersion = (await loadSilverEvents(ctx))?.version ?? -1;
  const dataVersion = silverVersion < 0 ? -1 : await lastDataVersion(ctx.storage, TABLES.silver, silverVersion);
  const out: GoldResult[] = [];
  for (const [i, name] of GOLD_TABLES.entries()) {
    checkCancelled(ctx);
    ctx.onProgress?.({ stage: 'gold', done: i, total: GOLD_TABLES.length, message: name });
    const table = goldTable(name);
    const writer = await openWriter(ctx.storage, table, {
      mode: 'overwrite',
      name,
      operation: 'CREATE OR REPLACE TABLE AS SELECT',
      operationParameters: { source: `sql/gold/${name}.sql`, inputs: JSON.stringify([{ table: GOLD_INPUT, version: silverVersion }]) },
      ...(silverVersion >= 0 ? { txn: { appId: GOLD_INPUT_APP_ID, version: silverVersion } } : {}),
    });
    const recorded = writer.current?.txns.get(GOLD_INPUT_APP_ID)?.version;
    if (recorded !== undefined && recorded > silverVersion) throw new OlderInputError(table, writer.readVersion, recorded, silverVersion);
    if (recorded !== undefined && recorded >= dataVersion) {
      const rows = writer.current!.files.reduce((s, f) => s + (numRecords(f) ?? 0), 0);
      out.push({ table, version: writer.readVersion, rows, input: recorded, current: true });
      continue;
    }
    const { ipc } = early?.of(name, silverVersion) ?? computeGoldTable(ctx.engine, name, ctx.goldSql[name]!);
    const latest = await listLog(ctx.storage, TABLES.silver).then(
      (l) => l.latest,
      () => -1,
    );
    if (latest !== silverVersion) {
      throw new CommitConflictError(table, writer.readVersion, `silver/events moved from version ${silverVersion} to ${latest} while gold was computed`);
    }
    await writer.write(tableFromIPC(ipc));
    const r = await writer.commit();
    out.push({ table, version: r.version, rows: r.rows, input: silverVersion });
  }
  ctx.onProgress?.({ stage: 'gold', done: GOLD_TABLES.length, total: GOLD_TABLES.length });
  return out;
}

/**
 * Gold computed ahead, while the last batch's silver/events files are still being encoded on
 * another thread (SilverBatch's `meanwhile`): the engine's copy already holds the batch's rows
 * then, and this thread would otherwise wait. Used by refreshGold only for the silver/events version
 * the batch's commit made, with the copy exactly that version; a model that failed here is run
 * again there, where its error belongs.
 */
export class EarlyGold {
  private results = new Map<GoldTable, GoldTableResult>();
  private version: number | undefined;

  constructor(private readonly ctx: PipelineContext) {}

  start(): void {
    this.results.clear();
    this.version = undefined;
    for (const [i, name] of GOLD_TABLES.entries()) {
      const sql = this.ctx.goldSql[name];
      if (this.ctx.signal?.aborted || typeof sql !== 'string') return;
      // At 10 M events this is most of gold's time: its progress shows while silver's commit waits.
      this.ctx.onProgress?.({ stage: 'gold', done: i, total: GOLD_TABLES.length, message: name });
      try {
        this.results.set(name, computeGoldTable(this.ctx.engine, name, sql));
      } catch {
        // left to refreshGold, which runs it again and reports its error as gold's
      }
    }
  }

  committed(version: number): void {
    this.version = version;
  }

  /** The rows of `name` computed ahead from silver/events `silverVersion`, if they were. */
  of(name: GoldTable, silverVersion: number): GoldTableResult | undefined {
    return this.version === silverVersion ? this.results.get(name) : undefined;
  }
}

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

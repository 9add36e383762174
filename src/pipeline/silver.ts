import { CodedError } from '../errors.ts';
import { tableFromIPC, type Table, type Vector } from 'apache-arrow';
import { decodeParquet } from '../parquet/codec.ts';
import { IpcScratch } from '../parquet/ipc.ts';
import { joinPath } from '../storage/types.ts';
import { decodeDataPath, isAdd, isMetaData, isRemove } from '../delta/actions.ts';
import { numRecords, readCommit, type Snapshot } from '../delta/snapshot.ts';
import { openWriter, tryLoadSnapshot } from '../delta/writer.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { reasonOf } from '../delta/errors.ts';
import type { Engine } from '../engine/types.ts';
import { quoteString } from '../engine/duckdb.ts';
import { checkInto, type LineCheckers } from './check-lines.ts';
import { tableOf } from './columns.ts';
import { TypedRows } from './typed-rows.ts';
import { checkCancelled, progressReporter, type PipelineContext } from './context.ts';
import type { Expectation } from './expectations.ts';
import { QUALITY_COLUMNS, REJECT_COLUMNS, SILVER_APP_ID, SILVER_EVENTS_DDL, TABLES } from './tables.ts';

export type RejectStage = 'parse' | 'schema' | 'expectation' | 'duplicate';

export interface SilverBatchResult {
  batchId: string;
  bronzeVersion: number;
  bronzeRows: number;
  silverRows: number;
  rejectedRows: number;
  rejectsByStage: Record<RejectStage, number>;
  rejectsByReason: Record<string, number>;
  /** violations of `warn` expectations (rows kept) */
  warnings: Record<string, number>;
  /** a `fail` expectation stopped the batch: nothing of it reached silver or rejects */
  failed?: { expectation: string; rows: number; sampleLineNo: number; sampleRaw: string };
}

export class ExpectationFailedError extends CodedError {
  static readonly code = 'EXPECTATION_FAILED';
  override name = 'ExpectationFailedError';
  constructor(readonly result: SilverBatchResult) {
    const f = result.failed!;
    super(
      `batch ${result.batchId} stopped: expectation ${f.expectation} (action fail) was violated by ${f.rows} row${f.rows === 1 ? '' : 's'}, ` +
        `e.g. line ${f.sampleLineNo}: ${f.sampleRaw.length > 200 ? f.sampleRaw.slice(0, 200) + '…' : f.sampleRaw}; ` +
        'its raw rows stay in bronze, and nothing of it reached silver, rejects or gold',
    );
  }
}

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
  if (rows !== null && held && (held.id === snap.metadata.id || held.id === '') && held.version <= snap.version && tableRows(engine, 'silver_events') === held.rows) {
    const newer = await appendedSince(ctx, held.version, snap.version);
    if (newer) {
      if (newer.size > 0) await scanIntoEngine(engine, ctx.storage, snap, 'silver_events', { append: true, fileFilter: (a) => newer.has(a.path) });
      if (tableRows(engine, 'silver_events') === rows) {
        loadedSilver.set(engine, { id: snap.metadata.id, version: snap.version, rows });
        return snap;
      }
    }
  }
  await scanIntoEngine(engine, ctx.storage, snap, 'silver_events');
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
 * 25 bytes per row; inserts cost more, scans less), which this connection then uses by default,
 * so every statement of the pipeline finds it by the same name. Smaller lakehouses keep the
 * cheaper uncompressed table.
 */
export function ensureSilverCapacity(engine: Engine, coming: number, limit = COMPRESS_SILVER_ABOVE): boolean {
  const rows = tableRows(engine, 'silver_events') ?? 0;
  if (rows + coming <= limit) return false;
  if (engine.rows<{ d: string }>('SELECT current_database() AS d')[0]!.d === COMPRESSED) return false;
  engine.run(`ATTACH IF NOT EXISTS ':memory:' AS ${COMPRESSED} (COMPRESS);
    CREATE OR REPLACE TABLE ${COMPRESSED}.main.silver_events AS SELECT * FROM silver_events;
    DROP TABLE silver_events;
    USE ${COMPRESSED}`);
  return true;
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

/**
 * Process every bronze version that silver has not processed yet, in order. Each of the three
 * silver tables records the bronze version it has taken in with a `txn` action in the same
 * commit as its rows, so a re-run after a crash redoes exactly the missing commits.
 *
 * `prepared` is a batch whose lines were already checked while they were written to bronze (at
 * `prepared.version`): it is finished from memory instead of being read back from its files.
 */
export async function processPendingBronze(
  ctx: PipelineContext, results: SilverBatchResult[] = [], prepared?: { version: number; batch: SilverBatch },
): Promise<SilverBatchResult[]> {
  const bronze = await tryLoadSnapshot(ctx.storage, TABLES.bronze);
  if (!bronze) return results;
  const marks = await Promise.all([TABLES.silver, TABLES.rejects, TABLES.quality].map(async (t) => (await tryLoadSnapshot(ctx.storage, t))?.txns.get(SILVER_APP_ID)?.version ?? -1));
  const [eventsMark, rejectsMark, qualityMark] = marks as [number, number, number];
  for (let v = Math.min(...marks) + 1; v <= bronze.version; v++) {
    checkCancelled(ctx);
    // A commit that adds no data (OPTIMIZE: every add and remove `dataChange: false`) is no batch.
    if (prepared?.version !== v && !(await isBatch(ctx, v))) continue;
    const pending = { events: v > eventsMark, rejects: v > rejectsMark, quality: v > qualityMark };
    const batch = prepared?.version === v ? prepared.batch : await readBronzeVersion(ctx, v);
    const result = await batch.finish(v, pending);
    results.push(result);
    if (result.failed) throw new ExpectationFailedError(result);
  }
  return results;
}

/**
 * Whether a bronze commit is a batch: it adds data, or it is an empty batch (no file at all). A
 * rewrite whose adds and removes are all `dataChange: false` (OPTIMIZE) moves rows already taken
 * in and is skipped; silver's watermark stays at the last batch, so it is read again next time.
 */
export async function isBatch(ctx: Pick<PipelineContext, 'storage'>, version: number): Promise<boolean> {
  const actions = await readCommit(ctx.storage, TABLES.bronze, version);
  if (actions.some((a) => isAdd(a) && a.add.dataChange !== false)) return true;
  return !actions.some((a) => (isAdd(a) && a.add.dataChange === false) || (isRemove(a) && a.remove.dataChange === false));
}

/** A bronze version read back from its files and checked line by line. */
async function readBronzeVersion(ctx: PipelineContext, version: number): Promise<SilverBatch> {
  const adds = (await readCommit(ctx.storage, TABLES.bronze, version)).filter(isAdd).map((a) => a.add);
  const totalRows = adds.reduce((s, a) => s + (JSON.parse(a.stats ?? '{}') as { numRecords?: number }).numRecords!, 0);
  const batch = new SilverBatch(ctx, Number.isFinite(totalRows) ? totalRows : undefined);
  for (const add of adds) {
    checkCancelled(ctx);
    const file = tableFromIPC(decodeParquet(await ctx.storage.read(joinPath(TABLES.bronze, decodeDataPath(add.path)))));
    const lineNo = file.getChild('line_no')!;
    const ingested = file.getChild('ingested_at')!;
    const lines = Float64Array.from({ length: file.numRows }, (_, i) => Number(bigintAt(lineNo, i)));
    const raw = file.getChild('raw')!;
    batch.checkLines(raw as Iterable<string | null>, (i) => lines[i]!, (i) => bigintAt(ingested, i), String(file.getChild('batch_id')?.get(0) ?? ''));
    batch.keepRaw(raw, lines);
  }
  return batch;
}

/** Lines out to checker threads at once (chunk sizes differ: 2,000 from the generator, 10,000 from a file). */
const MAX_LINES_IN_FLIGHT = 80_000;

/** The raw lines of one bronze file, kept for the few rows DuckDB rejects. */
interface RawFile {
  raw: Vector;
  /** the line number of raw[0] when the others follow it one by one */
  first?: number;
  /** else each line's number */
  lineNo?: Float64Array;
}

/**
 * One bronze batch on its way to silver. Lines come in chunk by chunk (`checkLines`): JSON and
 * schema checks run in TypeScript and typed rows are kept in compact columns. `finish` evaluates
 * the expectations and finds duplicates in DuckDB on a narrow table, writes silver/events,
 * silver/rejects and silver/quality (one commit each, with the batch's `txn`) and appends the new
 * silver rows to the engine's `silver_events`.
 *
 * The raw text never enters DuckDB: the few rows rejected there get theirs from the files' raw
 * columns, kept here (`keepRaw`).
 */
export class SilverBatch {
  readonly typed: TypedRows;
  batchId = '';
  bronzeRows = 0;
  /** time spent on this batch, in seconds */
  seconds = 0;
  private readonly early = emptyRejects();
  private readonly files: RawFile[] = [];
  private readonly report: (done: number, force?: boolean) => void;
  private readonly rawColumn: boolean;
  /** chunks sent to checkers and not taken in yet, and the chain that takes them in, in order */
  private readonly inFlight: { done: Promise<void>; lines: number }[] = [];
  private linesInFlight = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: PipelineContext, expectedRows?: number) {
    this.rawColumn = ctx.expectations.some((e) => mentions(e.expr, 'raw'));
    this.typed = new TypedRows(expectedRows ?? 65_536, this.rawColumn);
    this.report = progressReporter(ctx, 'silver', expectedRows);
  }

  /**
   * Check received lines: `lineNo(i)` is the number of the i-th, `ingestedAt(i)` when it was
   * received. Valid events become typed rows; the others rejects of stage parse or schema.
   */
  checkLines(texts: Iterable<string | null>, lineNo: (i: number) => number, ingestedAt: (i: number) => bigint, batchId: string): void {
    const started = performance.now();
    this.batchId ||= batchId;
    // The chunk itself when it can be (its joined runs are then kept for bronze's LineBuffer).
    const lines = Array.isArray(texts) && texts.every((t) => typeof t === 'string') ? (texts as string[]) : Array.from(texts, (v) => v ?? '');
    checkInto(this.typed, lines, lineNo, ingestedAt, this.rawColumn, (text, i, r) =>
      pushReject(this.early, text, r.eventId, r.stage, r.reasons, r.errors, batchId, ingestedAt(i)),
    );
    this.bronzeRows += lines.length;
    this.report(this.bronzeRows);
    this.seconds += (performance.now() - started) / 1000;
  }

  /**
   * Like checkLines, on `checkers` (other threads): resolves once the chunk may be let go, with at
   * most MAX_LINES_IN_FLIGHT lines out, so a fast producer does not pile up lines in memory. Results
   * are taken in, in order, as they come back; `finish` waits for the last.
   */
  async submitLines(checkers: LineCheckers, lines: string[], firstLine: number, ingestedAt: bigint, batchId: string): Promise<void> {
    this.batchId ||= batchId;
    this.bronzeRows += lines.length;
    const answer = checkers.check({ lines, firstLine, ingestedAt, batchId, rawColumn: this.rawColumn });
    answer.catch(() => {}); // reported through `pending`
    this.pending = this.pending.then(async () => {
      const { typed, rejects } = await answer;
      const started = performance.now();
      this.typed.appendData(typed);
      for (const r of rejects) pushReject(this.early, r.raw, r.eventId, r.stage, r.reasons, r.errors, batchId, ingestedAt);
      this.report(this.typed.length + this.early.raw.length);
      this.seconds += (performance.now() - started) / 1000;
    });
    this.pending.catch(() => {});
    this.inFlight.push({ done: this.pending, lines: lines.length });
    this.linesInFlight += lines.length;
    while (this.linesInFlight >= MAX_LINES_IN_FLIGHT) {
      const oldest = this.inFlight.shift()!;
      this.linesInFlight -= oldest.lines;
      await oldest.done.catch(() => {});
    }
  }

  /** Keep a file's raw column: lines numbered from `first` on, or as `lineNo` says. */
  keepRaw(raw: Vector, lines: number | Float64Array): void {
    this.files.push(typeof lines === 'number' ? { raw, first: lines } : { raw, lineNo: lines });
  }

  /** The raw text of line `line` of this batch. */
  rawOf(line: number): string {
    for (const f of this.files) {
      let i = -1;
      if (f.first !== undefined) {
        if (line >= f.first && line < f.first + f.raw.length) i = line - f.first;
      } else {
        i = f.lineNo!.indexOf(line);
      }
      if (i >= 0) return (f.raw.get(i) as string | null) ?? '';
    }
    throw new Error(`silver: line ${line} is not part of batch ${this.batchId}`);
  }

  /** Evaluate, split and commit the batch as bronze version `version`. */
  async finish(version: number, pending: { events: boolean; rejects: boolean; quality: boolean }): Promise<SilverBatchResult> {
    await this.pending;
    const started = performance.now();
    try {
      return await this.commit(version, pending);
    } finally {
      this.ctx.engine.run('DROP TABLE IF EXISTS batch_typed; DROP TABLE IF EXISTS batch_checked');
      this.seconds += (performance.now() - started) / 1000;
    }
  }

  private async commit(version: number, pending: { events: boolean; rejects: boolean; quality: boolean }): Promise<SilverBatchResult> {
    const { ctx, batchId, typed } = this;
    const { engine } = ctx;
    const rejectedAt = BigInt(ctx.now?.() ?? Date.now()) * 1000n;
    checkCancelled(ctx);
    const quality = evaluateExpectations(ctx, typed, batchId);
    const result: SilverBatchResult = {
      batchId, bronzeVersion: version, bronzeRows: this.bronzeRows, silverRows: 0, rejectedRows: 0,
      rejectsByStage: { parse: 0, schema: 0, expectation: 0, duplicate: 0 }, rejectsByReason: {}, warnings: {},
    };
    for (const q of quality) if (q.action === 'warn' && q.failed > 0) result.warnings[q.expectation] = q.failed;
    const failing = quality.find((q) => q.action === 'fail' && q.failed > 0);
    const txn = { appId: SILVER_APP_ID, version };
    const qualityTable = tableOf(QUALITY_COLUMNS, {
      batch_id: quality.map(() => batchId), expectation: quality.map((q) => q.expectation), action: quality.map((q) => q.action),
      passed: quality.map((q) => BigInt(q.passed)), failed: quality.map((q) => BigInt(q.failed)),
    });

    if (failing) {
      const line = Number(engine.rows<{ line_no: bigint }>(`SELECT line_no FROM batch_checked WHERE NOT "${failing.column}" ORDER BY line_no LIMIT 1`)[0]!.line_no);
      result.failed = { expectation: failing.expectation, rows: failing.failed, sampleLineNo: line, sampleRaw: this.rawOf(line) };
      // The batch is recorded as seen (so later batches go on) but none of its rows enter silver or rejects.
      if (pending.quality) await commitRows(ctx, TABLES.quality, qualityTable, txn, batchId, 'quality');
      if (pending.rejects) await commitRows(ctx, TABLES.rejects, tableOf(REJECT_COLUMNS, emptyRejects()), txn, batchId, 'rejects');
      if (pending.events) await commitEvents(ctx, typed.silverTable(new Uint32Array(0), batchId), txn, batchId);
      return result;
    }

    const late = lateRejects(ctx, batchId);
    const lateTable = tableOf(REJECT_COLUMNS, {
      raw: late.map((r) => this.rawOf(r.line)), event_id: late.map((r) => r.eventId), stage: late.map((r) => r.stage), reasons: late.map((r) => r.reasons),
      errors: late.map((r) => r.errors), batch_id: late.map(() => batchId), ingested_at: late.map((r) => r.ingestedAt), rejected_at: late.map(() => rejectedAt),
    });
    const earlyTable = tableOf(REJECT_COLUMNS, { ...this.early, rejected_at: this.early.raw.map(() => rejectedAt) });
    for (const t of [earlyTable, lateTable]) {
      const stage = t.getChild('stage')!;
      const reasons = t.getChild('reasons')!;
      for (let i = 0; i < t.numRows; i++) {
        result.rejectsByStage[stage.get(i) as RejectStage]++;
        for (const r of reasons.get(i) as Iterable<string>) result.rejectsByReason[r] = (result.rejectsByReason[r] ?? 0) + 1;
      }
    }
    result.rejectedRows = earlyTable.numRows + lateTable.numRows;
    result.silverRows = typed.length - late.length;

    checkCancelled(ctx);
    if (pending.rejects) await commitRows(ctx, TABLES.rejects, [earlyTable, lateTable], txn, batchId, 'rejects');
    if (pending.quality) await commitRows(ctx, TABLES.quality, qualityTable, txn, batchId, 'quality');
    if (pending.events) {
      // Silver rows are ordered by occurred_at, event_id: the same row order in memory as in the
      // files keeps floating-point aggregates in gold bit-identical whether silver was just written
      // or read back after a reload.
      const rows = typed.silverTable(typed.silverOrder(new Set(late.map((r) => r.row))), batchId);
      const ipc = scratchOf(engine).write(rows);
      const committed = await commitEvents(ctx, rows, txn, batchId, ipc);
      engine.appendIPC('silver_events', ipc);
      const held = loadedSilver.get(engine);
      if (held && held.version === committed.readVersion) loadedSilver.set(engine, { ...held, version: committed.version, rows: held.rows + rows.numRows });
      else loadedSilver.delete(engine);
    }
    this.report(this.bronzeRows, true);
    return result;
  }
}

/**
 * Silver's Arrow IPC buffer, reused batch after batch, one per engine. Each stream written into it
 * is consumed (copied into DuckDB or parquet-wasm) before that engine's next one is written. Runs
 * on two engines of one thread (two writers racing in the Learn tab's sandbox) interleave at every
 * await: a buffer shared between them would hand one run's rows to the other.
 */
const scratches = new WeakMap<Engine, IpcScratch>();
function scratchOf(engine: Engine): IpcScratch {
  let s = scratches.get(engine);
  if (!s) scratches.set(engine, (s = new IpcScratch()));
  return s;
}

/** Let silver's reused buffers of `engine` go (a run over). */
export function releaseSilverBuffers(engine: Engine): void {
  scratches.get(engine)?.release();
}

interface QualityRow {
  expectation: string;
  action: Expectation['action'];
  passed: number;
  failed: number;
  column: string;
}

/** Whether SQL text `expr` names column `name` (case-insensitively, as DuckDB resolves names). */
function mentions(expr: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}($|[^A-Za-z0-9_])`, 'i').test(expr);
}

/** Every column an expectation may name, typed as in silver/events (plus line_no and raw). */
const EXPECTATION_COLUMNS: [string, string][] = [
  ...SILVER_EVENTS_DDL.replace(/[()]/g, '').split(',').map((c) => c.trim().split(/\s+/) as [string, string]),
  ['line_no', 'BIGINT'],
  ['raw', 'VARCHAR'],
];

/**
 * Load the typed rows into DuckDB as `batch_typed` (only the columns the expectations name, plus
 * those dedup needs) and build `batch_checked`: one boolean column per expectation (a NULL result
 * is a violation). Returns the pass and fail counts per expectation.
 */
function evaluateExpectations(ctx: PipelineContext, typed: TypedRows, batchId: string): QualityRow[] {
  const { engine, expectations } = ctx;
  const empty = `(SELECT ${EXPECTATION_COLUMNS.map(([name, type]) => `NULL::${type} AS ${name}`).join(', ')})`;
  for (const e of expectations) {
    try {
      engine.run(`SELECT (${e.expr}) FROM ${empty} LIMIT 0`); // a typo fails here, named, not mid-batch
    } catch (err) {
      throw new Error(`expectation ${e.name} is not a valid SQL expression over silver rows: ${reasonOf(err)}`, { cause: err });
    }
  }
  const named = EXPECTATION_COLUMNS.map(([name]) => name).filter((name) => expectations.some((e) => mentions(e.expr, name)));
  engine.insertIPC('batch_typed', scratchOf(engine).write(typed.checkTable(named)));
  const flags = expectations.map((e, i) => `coalesce((${e.expr}), false) AS "__exp_${i}"`);
  engine.run(`CREATE OR REPLACE TABLE batch_checked AS
    SELECT row_idx, line_no, event_id, occurred_at, ingested_at${flags.length ? ', ' + flags.join(', ') : ''}
    FROM (
      SELECT * REPLACE (words::BIGINT AS words, words_changed::BIGINT AS words_changed, revision_no::BIGINT AS revision_no),
             ${quoteString(batchId)} AS batch_id, occurred_at::TIMESTAMP::DATE AS event_date
      FROM batch_typed);
    DROP TABLE batch_typed`);
  if (expectations.length === 0) return [];
  const counts = engine.rows<Record<string, bigint>>(
    `SELECT ${expectations.map((_, i) => `count(*) FILTER (WHERE "__exp_${i}") AS p${i}, count(*) FILTER (WHERE NOT "__exp_${i}") AS f${i}`).join(', ')} FROM batch_checked`,
  )[0]!;
  return expectations.map((e, i) => ({ expectation: e.name, action: e.action, passed: Number(counts[`p${i}`]), failed: Number(counts[`f${i}`]), column: `__exp_${i}` }));
}

interface LateReject {
  row: number;
  line: number;
  eventId: string | null;
  stage: RejectStage;
  reasons: string[];
  errors: string[];
  ingestedAt: bigint;
}

/**
 * Rows of `batch_checked` that broke a `drop` rule or repeat an event_id (of silver's other batches,
 * or of an earlier line of this batch), in line order. Only the few repeated ids get a window.
 */
function lateRejects(ctx: PipelineContext, batchId: string): LateReject[] {
  const drops = ctx.expectations.map((e, i) => ({ e, col: `__exp_${i}` })).filter((x) => x.e.action === 'drop');
  const reasons = drops.length ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(d.e.name)} END`).join(', ')}], x -> x IS NOT NULL)` : '[]::VARCHAR[]';
  const errors = drops.length
    ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(`expectation ${d.e.name} failed: requires ${d.e.expr}`)} || ' (event ' || event_id || ', occurred_at ' || strftime(occurred_at::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') || ')' END`).join(', ')}], x -> x IS NOT NULL)`
    : '[]::VARCHAR[]';
  const dropped = drops.length ? drops.map((d) => `NOT "${d.col}"`).join(' OR ') : 'false';
  const table = ctx.engine.query(`
    WITH kept AS (
      SELECT row_idx, line_no, event_id, ingested_at FROM batch_checked WHERE NOT (${dropped})
    ), prior AS (
      SELECT k.row_idx, k.line_no, k.event_id, k.ingested_at, p.batch_id AS prior_batch
      FROM kept k JOIN (SELECT event_id, batch_id FROM silver_events WHERE batch_id <> ${quoteString(batchId)}) p USING (event_id)
    ), repeated AS (
      SELECT row_idx, line_no, event_id, ingested_at,
             row_number() OVER (PARTITION BY event_id ORDER BY line_no) AS occurrence,
             min(line_no) OVER (PARTITION BY event_id) AS first_line
      FROM kept WHERE event_id IN (SELECT event_id FROM kept GROUP BY event_id HAVING count(*) > 1)
    ), duplicates AS (
      SELECT row_idx, line_no, event_id, ingested_at, prior_batch, NULL::BIGINT AS first_line FROM prior
      UNION ALL
      SELECT row_idx, line_no, event_id, ingested_at, NULL, first_line
      FROM repeated WHERE occurrence > 1 AND row_idx NOT IN (SELECT row_idx FROM prior)
    )
    SELECT row_idx, line_no, event_id, 'expectation' AS stage, ${reasons} AS reasons, ${errors} AS errors, ingested_at
    FROM batch_checked WHERE ${dropped}
    UNION ALL
    SELECT row_idx, line_no, event_id, 'duplicate', ['duplicate_event_id'],
           [CASE WHEN prior_batch IS NOT NULL
                 THEN '/event_id: ' || event_id || ' was already accepted in batch ' || prior_batch
                 ELSE '/event_id: ' || event_id || ' already appeared at line ' || first_line || ' of this batch' END],
           ingested_at
    FROM duplicates
    ORDER BY line_no`);
  const col = (name: string): Vector => table.getChild(name)!;
  const [row, line, eventId, stage, reasonList, errorList, ingested] = ['row_idx', 'line_no', 'event_id', 'stage', 'reasons', 'errors', 'ingested_at'].map(col) as Vector[];
  const out: LateReject[] = [];
  for (let i = 0; i < table.numRows; i++) {
    out.push({
      row: row!.get(i) as number,
      line: Number(bigintAt(line!, i)),
      eventId: eventId!.get(i) as string | null,
      stage: stage!.get(i) as RejectStage,
      reasons: [...(reasonList!.get(i) as Iterable<string>)],
      errors: [...(errorList!.get(i) as Iterable<string>)],
      ingestedAt: bigintAt(ingested!, i),
    });
  }
  return out;
}

async function commitRows(ctx: PipelineContext, table: string, data: Table | Table[], txn: { appId: string; version: number }, batchId: string, kind: string): Promise<void> {
  const writer = await openWriter(ctx.storage, table, {
    mode: 'append', txn, name: kind, operationParameters: { batchId },
  });
  for (const t of Array.isArray(data) ? data : [data]) await writer.write(t);
  await writer.commit();
}

async function commitEvents(
  ctx: PipelineContext, rows: Table, txn: { appId: string; version: number }, batchId: string, ipc?: Uint8Array,
): Promise<{ version: number; readVersion: number }> {
  const writer = await openWriter(ctx.storage, TABLES.silver, { mode: 'append', txn, name: 'silver_events', operationParameters: { batchId } });
  await writer.write(rows, ipc);
  const { version } = await writer.commit();
  return { version, readVersion: writer.readVersion };
}

type RejectColumns = Record<keyof typeof REJECT_COLUMNS, unknown[]>;

function emptyRejects(): RejectColumns {
  return Object.fromEntries(Object.keys(REJECT_COLUMNS).map((k) => [k, []])) as unknown as RejectColumns;
}

function pushReject(
  r: RejectColumns, raw: string, eventId: string | null, stage: RejectStage, reasons: string[], errors: string[], batchId: string, ingestedAt: bigint,
): void {
  r.raw.push(raw);
  r.event_id.push(eventId);
  r.stage.push(stage);
  r.reasons.push(reasons);
  r.errors.push(errors);
  r.batch_id.push(batchId);
  r.ingested_at.push(ingestedAt);
}

/** The raw int64 of a timestamp or long column (Arrow's `get` rounds timestamps to milliseconds). */
function bigintAt(vector: Vector, i: number): bigint {
  let row = i;
  for (const d of vector.data) {
    if (row < d.length) return (d.values as BigInt64Array)[row]!;
    row -= d.length;
  }
  throw new RangeError(`row ${i} is beyond the column`);
}

import { Table, tableFromIPC, tableToIPC, type Vector } from 'apache-arrow';
import { decodeParquet } from '../parquet/codec.ts';
import { joinPath } from '../storage/types.ts';
import { decodeDataPath, isAdd } from '../delta/actions.ts';
import { readCommit, type Snapshot } from '../delta/snapshot.ts';
import { openWriter, tryLoadSnapshot } from '../delta/writer.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { quoteString } from '../engine/duckdb.ts';
import { checkLine } from './contract.ts';
import { column, tableOf } from './columns.ts';
import { TypedRows } from './typed-rows.ts';
import { checkCancelled, progressReporter, type PipelineContext } from './context.ts';
import type { Expectation } from './expectations.ts';
import {
  QUALITY_COLUMNS, REJECT_COLUMNS, SILVER_APP_ID, SILVER_EVENTS_DDL, SILVER_EVENT_COLUMNS, TABLES,
} from './tables.ts';

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

export class ExpectationFailedError extends Error {
  constructor(readonly result: SilverBatchResult) {
    const f = result.failed!;
    super(
      `batch ${result.batchId} stopped: expectation ${f.expectation} (action fail) was violated by ${f.rows} row${f.rows === 1 ? '' : 's'}, ` +
        `e.g. line ${f.sampleLineNo}: ${f.sampleRaw.length > 200 ? f.sampleRaw.slice(0, 200) + '…' : f.sampleRaw}; ` +
        'its raw rows stay in bronze, and nothing of it reached silver, rejects or gold',
    );
    this.name = 'ExpectationFailedError';
  }
}


/** The silver events of the lakehouse as DuckDB table `silver_events`, for dedup and gold. */
export async function loadSilverEvents(ctx: PipelineContext): Promise<Snapshot | undefined> {
  const snap = await tryLoadSnapshot(ctx.storage, TABLES.silver);
  if (snap) await scanIntoEngine(ctx.engine, ctx.storage, snap, 'silver_events');
  else ctx.engine.run(`CREATE OR REPLACE TABLE silver_events ${SILVER_EVENTS_DDL}`);
  return snap;
}

/**
 * Process every bronze version that silver has not processed yet, in order. Each of the three
 * silver tables records the bronze version it has taken in with a `txn` action in the same
 * commit as its rows, so a re-run after a crash redoes exactly the missing commits.
 */
export async function processPendingBronze(ctx: PipelineContext, results: SilverBatchResult[] = []): Promise<SilverBatchResult[]> {
  const bronze = await tryLoadSnapshot(ctx.storage, TABLES.bronze);
  if (!bronze) return results;
  const marks = await Promise.all([TABLES.silver, TABLES.rejects, TABLES.quality].map(async (t) => (await tryLoadSnapshot(ctx.storage, t))?.txns.get(SILVER_APP_ID)?.version ?? -1));
  const [eventsMark, rejectsMark, qualityMark] = marks as [number, number, number];
  for (let v = Math.min(...marks) + 1; v <= bronze.version; v++) {
    checkCancelled(ctx);
    const result = await processBatch(ctx, v, { events: v > eventsMark, rejects: v > rejectsMark, quality: v > qualityMark });
    results.push(result);
    if (result.failed) throw new ExpectationFailedError(result);
  }
  return results;
}

async function processBatch(ctx: PipelineContext, version: number, pending: { events: boolean; rejects: boolean; quality: boolean }): Promise<SilverBatchResult> {
  const { engine } = ctx;
  const adds = (await readCommit(ctx.storage, TABLES.bronze, version)).filter(isAdd).map((a) => a.add);
  const totalRows = adds.reduce((s, a) => s + (JSON.parse(a.stats ?? '{}') as { numRecords?: number }).numRecords!, 0);
  const report = progressReporter(ctx, 'silver', Number.isFinite(totalRows) ? totalRows : undefined);
  const rejectedAt = BigInt(ctx.now?.() ?? Date.now()) * 1000n;
  const early = emptyRejects();
  let batchId = '';
  let bronzeRows = 0;
  let first = true;
  for (const add of adds) {
    checkCancelled(ctx);
    const file = tableFromIPC(decodeParquet(await ctx.storage.read(joinPath(TABLES.bronze, decodeDataPath(add.path)))));
    const raw = file.getChild('raw')!;
    const lineNo = file.getChild('line_no')!;
    const ingested = file.getChild('ingested_at')!;
    batchId ||= String(file.getChild('batch_id')?.get(0) ?? '');
    const typed = new TypedRows(file.numRows);
    let i = 0;
    for (const text of raw as Iterable<string | null>) {
      const line = Number(lineNo.get(i));
      const checked = checkLine(text ?? '', line);
      if (checked.ok) typed.set(i, checked.event);
      else pushReject(early, text ?? '', checked.eventId, checked.stage, checked.reasons, checked.errors, batchId, bigintAt(ingested, i), rejectedAt);
      i++;
      if ((i & 0xffff) === 0) report(bronzeRows + i);
    }
    bronzeRows += file.numRows;
    // The bronze columns go in as decoded (no re-encoding of the raw text); typed columns beside them.
    const rows = new Table({ raw, batch_id: file.getChild('batch_id')!, line_no: lineNo, ingested_at: ingested, ...typed.vectors() });
    engine.insertIPC('batch_chunk', tableToIPC(rows, 'stream'));
    engine.run(first ? 'CREATE OR REPLACE TABLE batch_typed AS SELECT * FROM batch_chunk' : 'INSERT INTO batch_typed SELECT * FROM batch_chunk');
    first = false;
    report(bronzeRows);
  }
  if (first) {
    const empty = { raw: column('string', []), batch_id: column('string', []), line_no: column('long', []), ingested_at: column('timestamp', []) };
    engine.insertIPC('batch_typed', tableToIPC(new Table({ ...empty, ...new TypedRows(0).vectors() }), 'stream'));
  }
  engine.run('DROP TABLE IF EXISTS batch_chunk');

  const quality = evaluateExpectations(ctx, ctx.expectations, batchId);
  const result: SilverBatchResult = {
    batchId, bronzeVersion: version, bronzeRows, silverRows: 0, rejectedRows: 0,
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
    const sample = engine.rows<{ line_no: bigint; raw: string }>(`SELECT line_no, raw FROM batch_checked WHERE NOT "${failing.column}" ORDER BY line_no LIMIT 1`)[0]!;
    result.failed = { expectation: failing.expectation, rows: failing.failed, sampleLineNo: Number(sample.line_no), sampleRaw: sample.raw };
    // The batch is recorded as seen (so later batches go on) but none of its rows enter silver or rejects.
    if (pending.quality) await commitRows(ctx, TABLES.quality, qualityTable, txn, batchId, 'quality');
    if (pending.rejects) await commitRows(ctx, TABLES.rejects, tableOf(REJECT_COLUMNS, emptyRejects()), txn, batchId, 'rejects');
    if (pending.events) await commitEvents(ctx, `SELECT ${SILVER_EVENT_COLUMNS.join(', ')} FROM batch_checked WHERE false`, txn, batchId);
    return result;
  }

  splitAcceptedAndRejected(ctx, batchId, rejectedAt);
  const lateRejects = engine.query('SELECT raw, event_id, stage, reasons, errors, batch_id, ingested_at, rejected_at FROM batch_rejects ORDER BY line_no');
  const earlyRejects = tableOf(REJECT_COLUMNS, early);
  for (const t of [earlyRejects, lateRejects]) {
    const stage = t.getChild('stage')!;
    const reasons = t.getChild('reasons')!;
    for (let i = 0; i < t.numRows; i++) {
      result.rejectsByStage[stage.get(i) as RejectStage]++;
      for (const r of reasons.get(i) as Iterable<string>) result.rejectsByReason[r] = (result.rejectsByReason[r] ?? 0) + 1;
    }
  }
  result.rejectedRows = earlyRejects.numRows + lateRejects.numRows;
  result.silverRows = Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM batch_accepted')[0]!.n);

  checkCancelled(ctx);
  if (pending.rejects) await commitRows(ctx, TABLES.rejects, [earlyRejects, lateRejects], txn, batchId, 'rejects');
  if (pending.quality) await commitRows(ctx, TABLES.quality, qualityTable, txn, batchId, 'quality');
  if (pending.events) {
    // The same row order in memory as in the files keeps floating-point aggregates in gold
    // bit-identical whether silver was just written or read back after a reload.
    const ordered = `SELECT ${SILVER_EVENT_COLUMNS.join(', ')} FROM batch_accepted ORDER BY occurred_at, event_id`;
    await commitEvents(ctx, ordered, txn, batchId);
    engine.run(`INSERT INTO silver_events ${ordered}`);
  }
  report(bronzeRows, true);
  engine.run('DROP TABLE IF EXISTS batch_checked; DROP TABLE IF EXISTS batch_accepted; DROP TABLE IF EXISTS batch_rejects');
  return result;
}

interface QualityRow {
  expectation: string;
  action: Expectation['action'];
  passed: number;
  failed: number;
  column: string;
}

/** One boolean column per expectation on `batch_checked`; a NULL result is a violation. */
function evaluateExpectations(ctx: PipelineContext, expectations: Expectation[], batchId: string): QualityRow[] {
  const { engine } = ctx;
  expectations.forEach((e) => {
    try {
      engine.run(`SELECT (${e.expr}) FROM batch_typed LIMIT 0`); // a typo fails here, named, not mid-batch
    } catch (err) {
      throw new Error(`expectation ${e.name} is not a valid SQL expression over silver rows: ${(err as Error).message.replace(/^SQL failed: /, '')}`, { cause: err });
    }
  });
  const flags = expectations.map((e, i) => `coalesce((${e.expr}), false) AS "__exp_${i}"`);
  engine.run(`CREATE OR REPLACE TABLE batch_events AS
    SELECT event_id, event_type, occurred_at, creator_id, work_id, stage, words::BIGINT AS words, duration_minutes,
           words_changed::BIGINT AS words_changed, revision_no::BIGINT AS revision_no, reader_id, engagement_seconds,
           progress_pct, attributes, batch_id, ingested_at, occurred_at::TIMESTAMP::DATE AS event_date, line_no, raw
    FROM batch_typed WHERE parsed;
    DROP TABLE batch_typed`);
  engine.run(`CREATE OR REPLACE TABLE batch_checked AS SELECT *${flags.length ? ', ' + flags.join(', ') : ''} FROM batch_events; DROP TABLE batch_events`);
  if (expectations.length === 0) return [];
  const counts = engine.rows<Record<string, bigint>>(
    `SELECT ${expectations.map((_, i) => `count(*) FILTER (WHERE "__exp_${i}") AS p${i}, count(*) FILTER (WHERE NOT "__exp_${i}") AS f${i}`).join(', ')} FROM batch_checked`,
  )[0]!;
  void batchId;
  return expectations.map((e, i) => ({ expectation: e.name, action: e.action, passed: Number(counts[`p${i}`]), failed: Number(counts[`f${i}`]), column: `__exp_${i}` }));
}

/** Rows that broke a `drop` rule or repeat an event_id go to `batch_rejects`; the rest to `batch_accepted`. */
function splitAcceptedAndRejected(ctx: PipelineContext, batchId: string, rejectedAt: bigint): void {
  const drops = ctx.expectations.map((e, i) => ({ e, col: `__exp_${i}` })).filter((x) => x.e.action === 'drop');
  const reasons = drops.length ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(d.e.name)} END`).join(', ')}], x -> x IS NOT NULL)` : '[]::VARCHAR[]';
  const errors = drops.length
    ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(`expectation ${d.e.name} failed: requires ${d.e.expr}`)} || ' (event ' || event_id || ', occurred_at ' || strftime(occurred_at::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') || ')' END`).join(', ')}], x -> x IS NOT NULL)`
    : '[]::VARCHAR[]';
  const rejectedAtSql = `make_timestamp(${rejectedAt}::BIGINT)::TIMESTAMPTZ`;
  ctx.engine.run(`
    CREATE OR REPLACE TABLE batch_flagged AS
      SELECT *, ${reasons} AS drop_reasons, ${errors} AS drop_errors FROM batch_checked;
    CREATE OR REPLACE TABLE batch_kept AS
      SELECT k.*, p.batch_id AS prior_batch,
             row_number() OVER (PARTITION BY k.event_id ORDER BY k.line_no) AS occurrence,
             min(k.line_no) OVER (PARTITION BY k.event_id) AS first_line
      FROM batch_flagged k
      LEFT JOIN (SELECT event_id, batch_id FROM silver_events WHERE batch_id <> ${quoteString(batchId)}) p USING (event_id)
      WHERE len(k.drop_reasons) = 0;
    CREATE OR REPLACE TABLE batch_rejects AS
      SELECT line_no, raw, event_id, 'expectation' AS stage, drop_reasons AS reasons, drop_errors AS errors, batch_id, ingested_at,
             ${rejectedAtSql} AS rejected_at
      FROM batch_flagged WHERE len(drop_reasons) > 0
      UNION ALL
      SELECT line_no, raw, event_id, 'duplicate', ['duplicate_event_id'],
             [CASE WHEN prior_batch IS NOT NULL
                   THEN '/event_id: ' || event_id || ' was already accepted in batch ' || prior_batch
                   ELSE '/event_id: ' || event_id || ' already appeared at line ' || first_line || ' of this batch' END],
             batch_id, ingested_at, ${rejectedAtSql}
      FROM batch_kept WHERE prior_batch IS NOT NULL OR occurrence > 1;
    CREATE OR REPLACE TABLE batch_accepted AS
      SELECT * FROM batch_kept WHERE prior_batch IS NULL AND occurrence = 1;
    DROP TABLE batch_flagged; DROP TABLE batch_kept;`);
}

async function commitRows(ctx: PipelineContext, table: string, data: Table | Table[], txn: { appId: string; version: number }, batchId: string, kind: string): Promise<void> {
  const writer = await openWriter(ctx.storage, table, {
    mode: 'append', txn, name: kind, operationParameters: { batchId },
  });
  for (const t of Array.isArray(data) ? data : [data]) await writer.write(t);
  await writer.commit();
}

async function commitEvents(ctx: PipelineContext, sql: string, txn: { appId: string; version: number }, batchId: string): Promise<void> {
  const writer = await openWriter(ctx.storage, TABLES.silver, { mode: 'append', txn, name: 'silver_events', operationParameters: { batchId } });
  await writer.write(ctx.engine.query(sql));
  await writer.commit();
}

function emptyRejects(): Record<keyof typeof REJECT_COLUMNS, unknown[]> {
  return Object.fromEntries(Object.keys(REJECT_COLUMNS).map((k) => [k, []])) as unknown as Record<keyof typeof REJECT_COLUMNS, unknown[]>;
}

function pushReject(
  r: Record<keyof typeof REJECT_COLUMNS, unknown[]>, raw: string, eventId: string | null, stage: RejectStage, reasons: string[], errors: string[],
  batchId: string, ingestedAt: bigint, rejectedAt: bigint,
): void {
  r.raw.push(raw);
  r.event_id.push(eventId);
  r.stage.push(stage);
  r.reasons.push(reasons);
  r.errors.push(errors);
  r.batch_id.push(batchId);
  r.ingested_at.push(ingestedAt);
  r.rejected_at.push(rejectedAt);
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


import type { Table, Vector } from 'apache-arrow';
import { checkInto, type LineCheckers } from '../check-lines.ts';
import type { CheckedChunk } from '../checked-chunks.ts';
import { quoteString } from '../../engine/duckdb.ts';
import type { Engine } from '../../engine/types.ts';
import { tableOf } from '../columns.ts';
import { checkCancelled, progressReporter, type PipelineContext } from '../context.ts';
import type { RejectStage } from '../schema.ts';
import { QUALITY_COLUMNS, REJECT_COLUMNS } from '../tables.ts';
import { TypedRows } from '../typed-rows.ts';
import { evaluateExpectations, firstViolation, lateRejects, mentions } from './checks.ts';
import { commitSilver, type SilverTargets } from './commit.ts';
import { noteSilverAppended } from './engine-copy.ts';
import { scratchOf } from '../scratch.ts';
import { emptyRejects, pushReject, type SilverBatchResult } from './result.ts';

/**
 * Rows per silver/events data file: bounds what parquet-wasm and DuckDB take in at once. Two of
 * DuckDB's row groups (122,880 rows): appending parts that end mid row group to the compressed
 * silver_events of a large run made each append 60 % slower.
 */
export const SILVER_FILE_ROWS = 2 * 122_880;

/**
 * Work for this thread while silver/events' files are encoded on another (gold, after a run's last
 * batch): `start` runs once the batch's rows are in the engine's copy and before they are
 * committed; `committed` follows when the commit made the copy exactly silver/events `version`.
 */
export interface Meanwhile {
  start(): void;
  committed(version: number): void;
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
  /** what this thread does while the encoder works on the batch's silver/events files */
  meanwhile: Meanwhile | undefined;
  private readonly early = emptyRejects();
  private readonly files: RawFile[] = [];
  private readonly report: (done: number, force?: boolean) => void;
  private readonly rawColumn: boolean;
  /** chunks sent to checkers and not taken in yet, and the chain that takes them in, in order */
  private readonly inFlight: { done: Promise<void>; lines: number }[] = [];
  private linesInFlight = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: PipelineContext,
    expectedRows?: number,
  ) {
    this.rawColumn = needsRaw(ctx);
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

  /** Take in a chunk checked on another thread (checked-chunks.ts), received at `ingestedAt`. */
  takeChecked(chunk: CheckedChunk, ingestedAt: bigint, batchId: string): void {
    const started = performance.now();
    this.batchId ||= batchId;
    const { typed, rejects } = chunk.checked;
    typed.ingestedAt.fill(ingestedAt);
    this.typed.appendData(typed);
    for (const r of rejects) pushReject(this.early, r.raw, r.eventId, r.stage, r.reasons, r.errors, batchId, ingestedAt);
    this.bronzeRows += chunk.lines;
    this.report(this.bronzeRows);
    this.seconds += (performance.now() - started) / 1000;
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

  /** Evaluate, split and commit the batch as bronze version `version` to the tables it has not reached. */
  async finish(version: number, targets: SilverTargets): Promise<SilverBatchResult> {
    await this.pending;
    const started = performance.now();
    try {
      return await this.commit(version, targets);
    } finally {
      dropBatchTables(this.ctx.engine);
      this.seconds += (performance.now() - started) / 1000;
    }
  }

  private async commit(version: number, targets: SilverTargets): Promise<SilverBatchResult> {
    const { ctx, batchId, typed } = this;
    const { engine } = ctx;
    const rejectedAt = BigInt(ctx.now?.() ?? Date.now()) * 1000n;
    checkCancelled(ctx);
    const quality = evaluateExpectations(ctx, typed, batchId);
    const result: SilverBatchResult = {
      batchId,
      bronzeVersion: version,
      bronzeRows: this.bronzeRows,
      silverRows: 0,
      rejectedRows: 0,
      rejectsByStage: { parse: 0, schema: 0, expectation: 0, duplicate: 0 },
      rejectsByReason: {},
      warnings: {},
    };
    for (const q of quality) if (q.action === 'warn' && q.failed > 0) result.warnings[q.expectation] = q.failed;
    const failing = quality.find((q) => q.action === 'fail' && q.failed > 0);
    const qualityTable = tableOf(QUALITY_COLUMNS, {
      batch_id: quality.map(() => batchId),
      expectation: quality.map((q) => q.expectation),
      action: quality.map((q) => q.action),
      passed: quality.map((q) => BigInt(q.passed)),
      failed: quality.map((q) => BigInt(q.failed)),
    });

    if (failing) {
      const line = firstViolation(ctx, failing.column);
      result.failed = { expectation: failing.expectation, rows: failing.failed, sampleLineNo: line, sampleRaw: this.rawOf(line) };
      // The batch is recorded as seen (so later batches go on) but none of its rows enter silver or rejects.
      const { events, rejects, quality: qualityTarget } = targets;
      if (qualityTarget.pending) await commitSilver(ctx, 'quality', qualityTarget.snapshot, qualityTable, version, batchId);
      if (rejects.pending) await commitSilver(ctx, 'rejects', rejects.snapshot, tableOf(REJECT_COLUMNS, emptyRejects()), version, batchId);
      if (events.pending) await commitSilver(ctx, 'events', events.snapshot, typed.silverTable(new Uint32Array(0), batchId), version, batchId);
      return result;
    }

    const late = lateRejects(ctx, batchId);
    const lateTable = tableOf(REJECT_COLUMNS, {
      raw: late.map((r) => this.rawOf(r.line)),
      event_id: late.map((r) => r.eventId),
      stage: late.map((r) => r.stage),
      reasons: late.map((r) => r.reasons),
      errors: late.map((r) => r.errors),
      batch_id: late.map(() => batchId),
      ingested_at: late.map((r) => r.ingestedAt),
      rejected_at: late.map(() => rejectedAt),
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
    const { events, rejects, quality: qualityTarget } = targets;
    if (rejects.pending) await commitSilver(ctx, 'rejects', rejects.snapshot, [earlyTable, lateTable], version, batchId);
    if (qualityTarget.pending) await commitSilver(ctx, 'quality', qualityTarget.snapshot, qualityTable, version, batchId);
    if (events.pending) {
      // Silver rows are ordered by occurred_at, event_id: the same row order in memory as in the
      // files keeps floating-point aggregates in gold bit-identical whether silver was just written
      // or read back after a reload.
      const rows = typed.silverTable(typed.silverOrder(new Set(late.map((r) => r.row))), batchId);
      // One data file per SILVER_FILE_ROWS: parquet-wasm and DuckDB each take a part at a time,
      // so neither holds a whole 1M-row batch at once (their wasm memory never shrinks again).
      const per = ctx.silverFileRows ?? SILVER_FILE_ROWS;
      const parts: Table[] = Array.from({ length: Math.max(1, Math.ceil(rows.numRows / per)) }, (_, i) => rows.slice(i * per, (i + 1) * per));
      const scratch = scratchOf(engine);
      const ipcs = parts.length === 1 ? [scratch.write(rows)] : parts.map((part) => scratch.write(part).slice());
      const { encoder } = ctx;
      if (encoder && rows.numRows > 0) {
        // The parts' Parquet is encoded on another thread while this one computes their statistics
        // and appends them to the engine's copy; a commit that fails takes them out again (by the
        // batch's id, unique to it). Not in a transaction: a large silver_events is compressed as
        // rows are appended, and a transaction's rows would wait for its end uncompressed.
        // With gold to compute meanwhile, this thread is the longer one: the statistics go there too.
        const withStats = this.meanwhile !== undefined;
        const encoded = ipcs.map((ipc) => ({ file: encoder.encode(ipc, withStats), withStats }));
        for (const e of encoded) e.file.catch(() => {}); // awaited by the commit, or given up with it
        let committed: { version: number; readVersion: number };
        try {
          for (const ipc of ipcs) engine.appendIPC('silver_events', ipc);
          const committing = commitSilver(ctx, 'events', events.snapshot, parts, version, batchId, ipcs, encoded);
          if (this.meanwhile) {
            // The batch's own tables are done with: their room goes to what runs meanwhile (at 10 M
            // events, gold beside them took DuckDB's wasm memory from 836 to 956 MB).
            dropBatchTables(engine);
            this.meanwhile.start();
          }
          committed = await committing;
        } catch (err) {
          try {
            engine.run(`DELETE FROM silver_events WHERE batch_id = ${quoteString(batchId)}`);
          } catch {
            // the copy's row count no longer matches silver/events, so the next run reads it again
          }
          throw err;
        }
        if (noteSilverAppended(engine, committed, rows.numRows)) this.meanwhile?.committed(committed.version);
      } else {
        const committed = await commitSilver(ctx, 'events', events.snapshot, parts, version, batchId, ipcs);
        for (const ipc of ipcs) engine.appendIPC('silver_events', ipc);
        noteSilverAppended(engine, committed, rows.numRows);
      }
    }
    this.report(this.bronzeRows, true);
    return result;
  }
}

function dropBatchTables(engine: Engine): void {
  engine.run('DROP TABLE IF EXISTS batch_typed; DROP TABLE IF EXISTS batch_checked');
}

/** Whether an expectation reads a row's raw text (then typed rows keep it). */
export function needsRaw(ctx: PipelineContext): boolean {
  return ctx.expectations.some((e) => mentions(e.expr, 'raw'));
}

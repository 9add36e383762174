import { releaseWriteBuffers } from '../delta/writer.ts';
import { isStorageFull, StorageFullError } from '../storage/full.ts';
import { EarlyGold, refreshGold, type GoldResult } from './gold.ts';
import { stoppedByMemory } from './memory.ts';
import { LineBuffers, writeBronze, type BronzeResult } from './bronze.ts';
import { checkCancelled, type PipelineContext } from './context.ts';
import { repairLakehouse, retryOnConflict, type RepairResult } from './repair.ts';
import {
  ensureSilverCapacity,
  loadSilverEvents,
  needsRaw,
  processPendingBronze,
  releaseSilverBuffers,
  SilverBatch,
  type SilverBatchResult,
} from './silver/index.ts';
import { isCheckedChunk, type CheckedChunk, type CheckedSource } from './checked-chunks.ts';

export type { GoldResult } from './gold.ts';

/** Wall-clock seconds per step of a run. */
export interface StageTimings {
  /** reading silver/events into the engine (nothing when it already holds the latest version) */
  load: number;
  /** making the records: the generator, or splitting an upload into lines */
  generate: number;
  /** encoding and writing bronze files and commits */
  bronze: number;
  /** checking lines, expectations, dedup, writing silver/events, rejects and quality */
  silver: number;
  gold: number;
}

export interface RunSummary {
  /** what a run stopped earlier had left undone, finished before this run's batch (undefined: nothing was) */
  repaired?: RepairResult;
  /** the run's records in bronze: the first batch's id, the last version, all rows */
  bronze: BronzeResult;
  /** each bronze batch (commit) of the run; more than one when the run exceeded MAX_BATCH_ROWS */
  bronzeBatches: BronzeResult[];
  silver: SilverBatchResult[];
  gold: GoldResult[];
  seconds: number;
  timings: StageTimings;
}

/**
 * The most records one bronze batch (commit) takes. A larger run is cut into batches of this size,
 * each taken through silver before the next is read, so memory stays bounded (SPEC: 10 million
 * events in one browser tab) whatever the size of the run.
 */
export const MAX_BATCH_ROWS = 1_000_000;

/**
 * One run through every layer: first what a run stopped earlier left undone (repair.ts), then the
 * records to bronze (one commit per MAX_BATCH_ROWS), every bronze
 * version silver has not processed yet to silver/events, rejects and quality, then gold recomputed
 * from silver. The lines of a new batch are checked for silver while bronze writes them, so silver
 * does not read them back from its files; or, from a CheckedSource, they come checked already.
 */
export async function runBatch(
  ctx: PipelineContext,
  chunks: Iterable<string[]> | CheckedSource,
  source: string,
  expected?: number,
  maxBatchRows = MAX_BATCH_ROWS,
): Promise<RunSummary> {
  const at: { stage: 'bronze' | 'silver' | 'gold' } = { stage: 'bronze' };
  try {
    return await runLayers(ctx, chunks, source, expected, maxBatchRows, at);
  } catch (err) {
    // ENOSPC, QuotaExceededError or DuckDB's out-of-memory error alone would not say that nothing is lost, nor what to do.
    throw isStorageFull(err) ? new StorageFullError(ctx.storage.description, at.stage, err) : await stoppedByMemory(ctx, at.stage, err);
  } finally {
    // Buffers reused from batch to batch are not kept between runs (the worker lives on).
    releaseSilverBuffers(ctx.engine);
    releaseWriteBuffers();
  }
}

async function runLayers(
  ctx: PipelineContext,
  chunks: Iterable<string[]> | CheckedSource,
  source: string,
  expected: number | undefined,
  maxBatchRows: number,
  at: { stage: 'bronze' | 'silver' | 'gold' },
): Promise<RunSummary> {
  const started = performance.now();
  const timings: StageTimings = { load: 0, generate: 0, bronze: 0, silver: 0, gold: 0 };
  const since = (t: number): number => (performance.now() - t) / 1000;
  let t = performance.now();
  // silver/events as the engine's copy was read: the first batch's commit goes on top of it.
  let silverRead = await loadSilverEvents(ctx);
  timings.load = since(t);
  // A run stopped earlier is finished first: this one never starts on a half-finished lakehouse.
  at.stage = 'silver';
  const repair = await repairLakehouse(ctx);
  const repaired = repair.before.behind.length ? repair : undefined;
  // What the repair committed is newer than the copy read above.
  if (repaired) silverRead = undefined;

  const source$ = timedChunks(typeof chunks === 'function' ? chunks({ rawColumn: needsRaw(ctx), maxBatchRows }) : chunks, timings);
  // The raw text of a batch's files, reused by the next batch of this run.
  const buffers = new LineBuffers();
  const batches: BronzeResult[] = [];
  const silver: SilverBatchResult[] = [];
  const early = new EarlyGold(ctx);
  let lines = 0;
  try {
    do {
      checkCancelled(ctx);
      const part = takeLines(source$, maxBatchRows);
      const expectedHere = expected === undefined ? undefined : Math.min(expected - lines, maxBatchRows);
      // Room for the rest of the run, not only this batch: a run that will pass the limit compresses
      // from its first row, rather than holding two batches uncompressed and then copying them.
      ensureSilverCapacity(ctx.engine, expected === undefined ? (expectedHere ?? maxBatchRows) : expected - lines, ctx.compressSilverAbove);
      const batch = new SilverBatch(ctx, expectedHere);
      t = performance.now();
      at.stage = 'bronze';
      const generatedBefore = timings.generate;
      const bronze = await writeBronze(ctx, part, source, expected, {
        firstLine: lines + 1,
        buffers,
        onLines: (chunk, first, b) =>
          isCheckedChunk(chunk)
            ? batch.takeChecked(chunk, b.ingestedAt, b.batchId)
            : ctx.checkers
              ? batch.submitLines(ctx.checkers, chunk, first, b.ingestedAt, b.batchId)
              : batch.checkLines(
                  chunk,
                  (i) => first + i,
                  () => b.ingestedAt,
                  b.batchId,
                ),
        onFile: (f) => batch.keepRaw(f.raw, f.firstLine),
      });
      timings.bronze += since(t) - (timings.generate - generatedBefore) - batch.seconds;
      const checked = batch.seconds;
      // The run's last batch: gold is computed while its silver/events files are encoded.
      if (source$.done) batch.meanwhile = early;
      t = performance.now();
      at.stage = 'silver';
      const prepared = { version: bronze.version, batch };
      await retryOnConflict(ctx, 'silver', silverRead, (read) => processPendingBronze(ctx, { results: silver, prepared, silver: read }));
      silverRead = undefined;
      timings.silver += since(t) + checked;
      batches.push(bronze);
      lines += bronze.rows;
    } while (!source$.done);
  } finally {
    // A run that stops early lets its source go (a producer thread is ended).
    await source$.close();
  }

  t = performance.now();
  at.stage = 'gold';
  const gold = await retryOnConflict(ctx, 'gold', undefined, () => refreshGold(ctx, early));
  timings.gold = since(t);
  const bronze: BronzeResult = { batchId: batches[0]!.batchId, version: batches.at(-1)!.version, rows: lines };
  return { ...(repaired ? { repaired } : {}), bronze, bronzeBatches: batches, silver, gold, seconds: since(started), timings };
}

type Chunk = string[] | CheckedChunk;
type Chunks = AsyncIterator<Chunk> & { done: boolean; pending?: Chunk; close(): Promise<void> };

/** The chunks, timing how long producing each one takes (the generator runs inside `next`). */
function timedChunks(chunks: Iterable<Chunk> | AsyncIterable<Chunk>, timings: StageTimings): Chunks {
  const inner = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  const it: Chunks = {
    done: false,
    async next(): Promise<IteratorResult<Chunk>> {
      if (it.pending) {
        const value = it.pending;
        it.pending = undefined;
        return { value, done: false };
      }
      const t = performance.now();
      const r = await inner.next();
      timings.generate += (performance.now() - t) / 1000;
      if (r.done) it.done = true;
      return r;
    },
    async close(): Promise<void> {
      if (!it.done) await inner.return?.();
      it.done = true;
    },
  };
  return it;
}

/**
 * At most `max` lines of `source`, chunk by chunk; a chunk of lines that straddles the limit is
 * split and its rest kept for the next batch (a checked chunk never does: see CheckNeed). Marks
 * `source.done` when the source has nothing left.
 */
async function* takeLines(source: Chunks, max: number): AsyncGenerator<Chunk> {
  let taken = 0;
  while (taken < max) {
    const r = await source.next();
    if (r.done) return;
    const chunk = r.value;
    const length = isCheckedChunk(chunk) ? chunk.lines : chunk.length;
    if (taken + length > max) {
      if (isCheckedChunk(chunk))
        throw new Error(`a checked chunk of lines ${chunk.firstLine}–${chunk.firstLine + length - 1} crosses the end of a batch of ${max} lines`);
      source.pending = chunk.slice(max - taken);
      yield chunk.slice(0, max - taken);
      return;
    }
    taken += length;
    yield chunk;
  }
  // Exactly full: look ahead so that a source that just ended does not make an empty batch.
  const r = await source.next();
  if (r.done) return;
  source.pending = r.value;
}

import type { Snapshot } from '../delta/snapshot.ts';
import { CommitConflictError } from '../delta/writer.ts';
import type { PipelineContext } from './context.ts';
import { OlderInputError, refreshGold, type GoldResult } from './gold.ts';
import { readLineage, type Lineage } from './lineage.ts';
import { stoppedByMemory } from './memory.ts';
import { ExpectationFailedError, loadSilverEvents, processPendingBronze, type SilverBatchResult } from './silver/index.ts';

/** What finishing a stopped run did: the lineage before and after, and the commits it made. */
export interface RepairResult {
  before: Lineage;
  /** bronze batches silver took in */
  silver: SilverBatchResult[];
  /** gold tables recomputed (or found current: `current`) */
  gold: GoldResult[];
  after: Lineage;
}

/**
 * Finish what a stopped run left undone (a kill, a closed tab, a full disk between two commits):
 * bronze batches a silver table has not taken in, gold computed from an older silver version than
 * the latest. Idempotent: what is up to date is not recomputed, and a second call finds nothing to do.
 */
export async function repairLakehouse(ctx: PipelineContext): Promise<RepairResult> {
  const at: { stage: 'silver' | 'gold' } = { stage: 'silver' };
  try {
    return await repair(ctx, at);
  } catch (err) {
    throw await stoppedByMemory(ctx, at.stage, err);
  }
}

async function repair(ctx: PipelineContext, at: { stage: 'silver' | 'gold' }): Promise<RepairResult> {
  const before = await readLineage(ctx.storage);
  if (before.behind.length === 0) return { before, silver: [], gold: [], after: before };
  ctx.onProgress?.({ stage: 'silver', done: 0, message: `finishing the run that stopped early: ${before.behind.join(', ')} behind` });
  const silver: SilverBatchResult[] = [];
  if (before.tables.some((t) => t.layer === 'silver' && !t.upToDate)) {
    // Dedup looks up every event id silver holds (a fresh engine, as `cli status --repair` starts with, holds none yet).
    await loadSilverEvents(ctx);
    await retryOnConflict(ctx, 'silver', undefined, async () => {
      // A batch a fail expectation stops is recorded as seen; the batches after it still go in.
      for (;;) {
        try {
          return await processPendingBronze(ctx, { results: silver });
        } catch (err) {
          if (!(err instanceof ExpectationFailedError)) throw err;
        }
      }
    });
  }
  at.stage = 'gold';
  const gold = await retryOnConflict(ctx, 'gold', undefined, () => refreshGold(ctx));
  return { before, silver, gold, after: await readLineage(ctx.storage) };
}

const MAX_ATTEMPTS = 8;

/**
 * Another writer (a second tab, a second `cli run`) may commit to the same tables meanwhile.
 * Commits never overwrite each other; when ours conflicts, re-read silver and do the step again:
 * silver picks up only what is still pending, gold is recomputed from the newer silver. The step
 * gets silver/events as last read (`read` at first, then each re-read).
 */
export async function retryOnConflict<T>(
  ctx: PipelineContext,
  stage: 'silver' | 'gold',
  read: Snapshot | undefined,
  step: (silver: Snapshot | undefined) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(read);
    } catch (err) {
      if (!(err instanceof CommitConflictError || err instanceof OlderInputError) || attempt >= MAX_ATTEMPTS) throw err;
      ctx.onProgress?.({ stage, done: 0, message: `another writer committed first; waiting and re-reading the lakehouse (attempt ${attempt + 1})` });
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50 * attempt));
      read = await loadSilverEvents(ctx);
    }
  }
}

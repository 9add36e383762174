import { tableFromIPC } from 'apache-arrow';
import { CommitConflictError, writeTable } from '../delta/writer.ts';
import { isStorageFull, StorageFullError } from '../storage/full.ts';
import { checkGoldSql, computeGoldTable, GOLD_TABLES } from './gold.ts';
import { writeBronze, type BronzeResult } from './bronze.ts';
import { checkCancelled, type PipelineContext } from './context.ts';
import { loadSilverEvents, processPendingBronze, type SilverBatchResult } from './silver.ts';
import { goldTable } from './tables.ts';

export interface GoldResult {
  table: string;
  version: number;
  rows: number;
}

export interface RunSummary {
  bronze: BronzeResult;
  silver: SilverBatchResult[];
  gold: GoldResult[];
  seconds: number;
}

/**
 * One batch through every layer: the records to bronze (one commit), every bronze version silver
 * has not processed yet to silver/events, rejects and quality, then gold recomputed from silver.
 */
export async function runBatch(ctx: PipelineContext, chunks: Iterable<string[]>, source: string, expected?: number): Promise<RunSummary> {
  const started = Date.now();
  let stage: 'bronze' | 'silver' | 'gold' = 'bronze';
  try {
    await loadSilverEvents(ctx);
    const bronze = await writeBronze(ctx, chunks, source, expected);
    const silver: SilverBatchResult[] = [];
    stage = 'silver';
    await retryOnConflict(ctx, 'silver', () => processPendingBronze(ctx, silver));
    stage = 'gold';
    const gold = await retryOnConflict(ctx, 'gold', () => refreshGold(ctx));
    return { bronze, silver, gold, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    // ENOSPC or QuotaExceededError alone would not say that nothing is lost, nor what to do.
    throw isStorageFull(err) ? new StorageFullError(ctx.storage.description, stage, err) : err;
  }
}

const MAX_ATTEMPTS = 8;

/**
 * Another writer (a second tab, a second `cli run`) may commit to the same tables meanwhile.
 * Commits never overwrite each other; when ours conflicts, re-read silver and do the step again:
 * silver picks up only what is still pending, gold is recomputed from the newer silver.
 */
async function retryOnConflict<T>(ctx: PipelineContext, stage: 'silver' | 'gold', step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt >= MAX_ATTEMPTS) throw err;
      ctx.onProgress?.({ stage, done: 0, message: `another writer committed first; waiting and re-reading the lakehouse (attempt ${attempt + 1})` });
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50 * attempt));
      await loadSilverEvents(ctx);
    }
  }
}

/** Recompute every gold table from `silver_events` and overwrite it (a new version each run). */
export async function refreshGold(ctx: PipelineContext): Promise<GoldResult[]> {
  checkGoldSql(ctx.goldSql);
  const out: GoldResult[] = [];
  for (const [i, name] of GOLD_TABLES.entries()) {
    checkCancelled(ctx);
    ctx.onProgress?.({ stage: 'gold', done: i, total: GOLD_TABLES.length, message: name });
    const { ipc } = computeGoldTable(ctx.engine, name, ctx.goldSql[name]!);
    const r = await writeTable(ctx.storage, goldTable(name), tableFromIPC(ipc), {
      mode: 'overwrite',
      name,
      operation: 'CREATE OR REPLACE TABLE AS SELECT',
      operationParameters: { source: `sql/gold/${name}.sql` },
    });
    out.push({ table: goldTable(name), version: r.version, rows: r.rows });
  }
  ctx.onProgress?.({ stage: 'gold', done: GOLD_TABLES.length, total: GOLD_TABLES.length });
  return out;
}

import { tableFromIPC } from 'apache-arrow';
import { CommitConflictError, openWriter, tryLoadSnapshot } from '../delta/writer.ts';
import { listLog, numRecords } from '../delta/snapshot.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { isStorageFull, StorageFullError } from '../storage/full.ts';
import { checkGoldSql, computeGoldTable, GOLD_TABLES } from './gold.ts';
import { writeBronze, type BronzeResult } from './bronze.ts';
import { checkCancelled, type PipelineContext } from './context.ts';
import { loadSilverEvents, processPendingBronze, type SilverBatchResult } from './silver.ts';
import { goldTable, TABLES } from './tables.ts';

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

/**
 * The version of silver/events that `silver_events` holds. It holds what was loaded plus this
 * run's batches; rows another run committed meanwhile are missing, so it is read again then.
 */
async function syncSilverEvents(ctx: PipelineContext): Promise<number> {
  const snap = await tryLoadSnapshot(ctx.storage, TABLES.silver);
  if (!snap) return -1;
  const committed = snap.files.reduce((n, f) => n + (numRecords(f) ?? Number.NaN), 0);
  const loaded = Number(ctx.engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n);
  if (committed !== loaded) await scanIntoEngine(ctx.engine, ctx.storage, snap, 'silver_events');
  return snap.version;
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

/**
 * Recompute every gold table from `silver_events` and overwrite it (a new version each run).
 * Another run may add to silver meanwhile; gold computed without its rows must not overwrite
 * gold computed with them, so each commit is refused (and the step retried) once silver moved.
 */
export async function refreshGold(ctx: PipelineContext): Promise<GoldResult[]> {
  checkGoldSql(ctx.goldSql);
  const silverVersion = await syncSilverEvents(ctx);
  const out: GoldResult[] = [];
  for (const [i, name] of GOLD_TABLES.entries()) {
    checkCancelled(ctx);
    ctx.onProgress?.({ stage: 'gold', done: i, total: GOLD_TABLES.length, message: name });
    const { ipc } = computeGoldTable(ctx.engine, name, ctx.goldSql[name]!);
    const writer = await openWriter(ctx.storage, goldTable(name), {
      mode: 'overwrite',
      name,
      operation: 'CREATE OR REPLACE TABLE AS SELECT',
      operationParameters: { source: `sql/gold/${name}.sql` },
    });
    const latest = await listLog(ctx.storage, TABLES.silver).then((l) => l.latest, () => -1);
    if (latest !== silverVersion) {
      throw new CommitConflictError(goldTable(name), writer.readVersion, `silver/events moved from version ${silverVersion} to ${latest} while gold was computed`);
    }
    await writer.write(tableFromIPC(ipc));
    const r = await writer.commit();
    out.push({ table: goldTable(name), version: r.version, rows: r.rows });
  }
  ctx.onProgress?.({ stage: 'gold', done: GOLD_TABLES.length, total: GOLD_TABLES.length });
  return out;
}

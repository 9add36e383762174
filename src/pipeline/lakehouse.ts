import { tableFromIPC } from 'apache-arrow';
import { writeTable } from '../delta/writer.ts';
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
  await loadSilverEvents(ctx);
  const bronze = await writeBronze(ctx, chunks, source, expected);
  const silver = await processPendingBronze(ctx);
  const gold = await refreshGold(ctx);
  return { bronze, silver, gold, seconds: (Date.now() - started) / 1000 };
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

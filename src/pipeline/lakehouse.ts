import { writeTable } from '../delta/writer.ts';
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
  const names = Object.keys(ctx.goldSql);
  const out: GoldResult[] = [];
  for (const [i, name] of names.entries()) {
    checkCancelled(ctx);
    ctx.onProgress?.({ stage: 'gold', done: i, total: names.length, message: name });
    const data = ctx.engine.query(ctx.goldSql[name]!);
    const r = await writeTable(ctx.storage, goldTable(name), data, {
      mode: 'overwrite',
      name,
      operation: 'CREATE OR REPLACE TABLE AS SELECT',
      operationParameters: { source: `sql/gold/${name}.sql` },
    });
    out.push({ table: goldTable(name), version: r.version, rows: r.rows });
  }
  ctx.onProgress?.({ stage: 'gold', done: names.length, total: names.length });
  return out;
}

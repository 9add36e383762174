import { openWriter } from '../delta/writer.ts';
import { tableOf } from './columns.ts';
import { checkCancelled, progressReporter, type PipelineContext } from './context.ts';
import { BRONZE_COLUMNS, TABLES } from './tables.ts';

export interface BronzeResult {
  batchId: string;
  version: number;
  rows: number;
}

/** Rows per bronze Parquet file: large enough to compress well, small enough to stream. */
const ROWS_PER_FILE = 200_000;

/**
 * Append every received record, valid or not, to bronze/events as one commit: the batch.
 * `chunks` are lists of raw lines (the exact text received).
 */
export async function writeBronze(ctx: PipelineContext, chunks: Iterable<string[]>, source: string, expected?: number): Promise<BronzeResult> {
  const now = ctx.now?.() ?? Date.now();
  const batchId = newBatchId(now);
  const ingestedAt = BigInt(now) * 1000n;
  const writer = await openWriter(ctx.storage, TABLES.bronze, {
    mode: 'append',
    name: 'bronze_events',
    description: 'Every received record, valid or not, exactly as received.',
    // Min/max of the raw text would cost a pass over every byte and skip nothing.
    configuration: { 'delta.dataSkippingStatsColumns': 'batch_id,source,line_no,ingested_at' },
    operationParameters: { batchId, source },
  });
  const report = progressReporter(ctx, 'bronze', expected);
  let raw: string[] = [];
  let rows = 0;
  const flush = async (): Promise<void> => {
    const first = rows - raw.length + 1;
    await writer.write(
      tableOf(BRONZE_COLUMNS, {
        raw,
        batch_id: raw.map(() => batchId),
        source: raw.map(() => source),
        line_no: raw.map((_, i) => BigInt(first + i)),
        ingested_at: raw.map(() => ingestedAt),
      }),
    );
    raw = [];
  };
  for (const chunk of chunks) {
    checkCancelled(ctx);
    for (const line of chunk) raw.push(line);
    rows += chunk.length;
    if (raw.length >= ROWS_PER_FILE) await flush();
    report(rows);
  }
  if (raw.length > 0 || rows === 0) await flush();
  checkCancelled(ctx);
  const { version } = await writer.commit();
  report(rows, true);
  return { batchId, version, rows };
}

function newBatchId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `batch-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

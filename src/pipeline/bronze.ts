import { Table } from 'apache-arrow';
import { openWriter } from '../delta/writer.ts';
import { column, constantUtf8, int64Column, sequenceInt64 } from './columns.ts';
import { checkCancelled, progressReporter, type PipelineContext } from './context.ts';
import { TABLES } from './tables.ts';

export interface BronzeResult {
  batchId: string;
  version: number;
  rows: number;
}

/** One Parquet file's worth of received lines, as handed to `onFile`. */
export interface BronzeFile {
  raw: string[];
  /** the line number of raw[0]; the others follow */
  firstLine: number;
  batchId: string;
  ingestedAt: bigint;
}

export interface BronzeOptions {
  /** the line number of the first line (a run split into several batches numbers on) */
  firstLine?: number;
  /** told about each file's lines once they are written (silver checks them meanwhile) */
  onFile?: (file: BronzeFile) => void;
}

/** Rows per bronze Parquet file: large enough to compress well, small enough to stream. */
const ROWS_PER_FILE = 200_000;

/**
 * Append every received record, valid or not, to bronze/events as one commit: the batch.
 * `chunks` are lists of raw lines (the exact text received).
 */
export async function writeBronze(
  ctx: PipelineContext, chunks: Iterable<string[]>, source: string, expected?: number, options: BronzeOptions = {},
): Promise<BronzeResult> {
  const now = ctx.now?.() ?? Date.now();
  const batchId = newBatchId(now);
  const ingestedAt = BigInt(now) * 1000n;
  const firstLine = options.firstLine ?? 1;
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
    const n = raw.length;
    const first = firstLine + rows - n;
    await writer.write(
      new Table({
        raw: column('string', raw),
        batch_id: constantUtf8(batchId, n),
        source: constantUtf8(source, n),
        line_no: sequenceInt64(first, n),
        ingested_at: int64Column('timestamp', new BigInt64Array(n).fill(ingestedAt)),
      }),
    );
    if (n > 0) options.onFile?.({ raw, firstLine: first, batchId, ingestedAt });
    raw = [];
  };
  for (const chunk of chunks) {
    checkCancelled(ctx);
    for (const line of chunk) raw.push(line);
    rows += chunk.length;
    if (raw.length >= ROWS_PER_FILE) await flush();
    report(firstLine - 1 + rows);
  }
  if (raw.length > 0 || rows === 0) await flush();
  checkCancelled(ctx);
  const { version } = await writer.commit();
  report(firstLine - 1 + rows, true);
  return { batchId, version, rows };
}

function newBatchId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `batch-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

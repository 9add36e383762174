import { Table, type Vector } from 'apache-arrow';
import { openWriter } from '../delta/writer.ts';
import { LineBuffer, constantUtf8, int64Column, sequenceInt64 } from './columns.ts';
import { checkCancelled, progressReporter, type PipelineContext } from './context.ts';
import { BRONZE_COLUMNS, TABLES } from './tables.ts';
import { isCheckedChunk, type CheckedChunk } from './checked-chunks.ts';
import { scratchOf } from './scratch.ts';

export interface BronzeResult {
  batchId: string;
  version: number;
  rows: number;
}

/** One Parquet file's raw lines, as handed to `onFile` once the file is written. */
export interface BronzeFile {
  /** the lines as received, a Utf8 vector over buffers that stay valid until `buffers` is reused */
  raw: Vector;
  /** the line number of raw[0]; the others follow */
  firstLine: number;
}

export interface BronzeOptions<C extends string[] | CheckedChunk = string[]> {
  /** the line number of the first line (a run split into several batches numbers on) */
  firstLine?: number;
  /** told about each chunk of lines as it arrives, before it is written (silver checks them meanwhile) */
  onLines?: (lines: C, firstLine: number, batch: { batchId: string; ingestedAt: bigint }) => void | Promise<void>;
  /** told about each file's lines once the file is written */
  onFile?: (file: BronzeFile) => void;
  /** buffers for the files' raw text, kept from an earlier batch of the run (see LineBuffers) */
  buffers?: LineBuffers;
}

/** Min/max of the raw text would cost a pass over every byte and skip nothing. */
const STATS_COLUMNS = Object.keys(BRONZE_COLUMNS)
  .filter((c) => c !== 'raw')
  .join(',');

/** Bronze files out to the encoder thread at once (each some 50 MB of raw text, copied for it). */
const ENCODING_AHEAD = 2;

/** Rows per bronze Parquet file: large enough to compress well, small enough to stream. */
export const ROWS_PER_FILE = 200_000;

/** One LineBuffer per file of a batch, reused by the next batch of a run. */
export class LineBuffers {
  private readonly files: LineBuffer[] = [];

  file(i: number): LineBuffer {
    while (this.files.length <= i) this.files.push(new LineBuffer());
    const f = this.files[i]!;
    return f;
  }
}

/**
 * Append every received record, valid or not, to bronze/events as one commit: the batch.
 * `chunks` are lists of raw lines (the exact text received), or lines already checked elsewhere.
 */
export async function writeBronze<C extends string[] | CheckedChunk = string[]>(
  ctx: PipelineContext,
  chunks: Iterable<C> | AsyncIterable<C>,
  source: string,
  expected?: number,
  options: BronzeOptions<C> = {},
): Promise<BronzeResult> {
  const now = ctx.now?.() ?? Date.now();
  const batchId = newBatchId(now);
  const ingestedAt = BigInt(now) * 1000n;
  const firstLine = options.firstLine ?? 1;
  const buffers = options.buffers ?? new LineBuffers();
  const writer = await openWriter(ctx.storage, TABLES.bronze, {
    mode: 'append',
    name: 'bronze_events',
    description: 'Every received record, valid or not, exactly as received.',
    configuration: { 'delta.dataSkippingStatsColumns': STATS_COLUMNS },
    operationParameters: { batchId, source },
  });
  const report = progressReporter(ctx, 'bronze', expected);
  const perFile = ctx.bronzeFileRows ?? ROWS_PER_FILE;
  let files = 0;
  let file = buffers.file(files);
  file.reset();
  let rows = 0;
  const writing: Promise<void>[] = [];
  const flush = async (): Promise<void> => {
    const n = file.length;
    const first = firstLine + rows - n;
    const raw = file.vector();
    const columns: Record<keyof typeof BRONZE_COLUMNS, Vector> = {
      raw,
      batch_id: constantUtf8(batchId, n),
      source: constantUtf8(source, n),
      line_no: sequenceInt64(first, n),
      ingested_at: int64Column('timestamp', new BigInt64Array(n).fill(ingestedAt)),
    };
    const table = new Table(Object.fromEntries(Object.keys(BRONZE_COLUMNS).map((k) => [k, columns[k as keyof typeof BRONZE_COLUMNS]])));
    if (ctx.encoder && n > 0) {
      // Encoded on the encoder's thread while this one goes on taking lines in; written in order,
      // at most ENCODING_AHEAD files out at once.
      const file = ctx.encoder.encode(scratchOf(ctx.engine).write(table));
      file.catch(() => {}); // awaited by its write
      const previous = writing.at(-1) ?? Promise.resolve();
      const written = previous.then(() => writer.write(table, undefined, { file, withStats: false }));
      written.catch(() => {}); // awaited below, or given up with the run
      writing.push(written);
      if (writing.length > ENCODING_AHEAD) await writing.shift();
    } else await writer.write(table);
    if (n > 0) options.onFile?.({ raw, firstLine: first });
    file = buffers.file(++files);
    file.reset();
  };
  for await (const chunk of chunks) {
    checkCancelled(ctx);
    await options.onLines?.(chunk, firstLine + rows, { batchId, ingestedAt });
    const length = isCheckedChunk(chunk) ? chunk.lines : chunk.length;
    for (let from = 0; from < length; ) {
      const to = Math.min(length, from + perFile - file.length);
      if (isCheckedChunk(chunk)) file.appendUtf8(chunk.text, chunk.offsets, from, to, perFile);
      else file.append(chunk, from, to, perFile);
      rows += to - from;
      from = to;
      if (file.length >= perFile) await flush();
    }
    report(firstLine - 1 + rows);
  }
  if (file.length > 0 || rows === 0) await flush();
  await Promise.all(writing);
  checkCancelled(ctx);
  const { version } = await writer.commit();
  report(firstLine - 1 + rows, true);
  return { batchId, version, rows };
}

function newBatchId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `batch-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

import { checkChunk, type CheckResult } from './check-lines.ts';
import { LineBuffer } from './columns.ts';

/**
 * Lines made and checked on another thread (a Web Worker in the page, a worker_thread under Node):
 * the generator and silver's contract checks run there, beside the pipeline's thread, which gets
 * each chunk's lines as UTF-8 (for bronze) and its typed rows and rejects (for silver) in
 * transferred buffers. The lines are never copied between threads as JS strings, which is what
 * made checker threads not pay on two cores (docs/performance.md). Chunks come in line order, so a
 * run gives the same tables as with the lines checked in line.
 */

export interface CheckedChunk {
  /** the line number of the chunk's first line in the run (the first line of a run is 1) */
  firstLine: number;
  lines: number;
  /** the lines as UTF-8, line i at text[offsets[i], offsets[i + 1]) */
  text: Uint8Array;
  offsets: Int32Array;
  /** typed rows and early rejects; `ingested_at` is filled in by the batch that takes the chunk in */
  checked: CheckResult;
}

/** What the run's checks need of a producer. */
export interface CheckNeed {
  /** keep each typed row's raw text (an expectation reads `raw`) */
  rawColumn: boolean;
  /** no chunk crosses a multiple of this many lines: a run's bronze batches end there */
  maxBatchRows: number;
}

/** A run's lines, made and checked elsewhere, asked for with what the run's checks need. */
export type CheckedSource = (need: CheckNeed) => AsyncIterable<CheckedChunk>;

export function isCheckedChunk(chunk: string[] | CheckedChunk): chunk is CheckedChunk {
  return !Array.isArray(chunk);
}

/** `lines` (numbered from `firstLine`) encoded and checked, with the buffers to transfer. */
export function checkedChunk(lines: string[], firstLine: number, rawColumn: boolean): { chunk: CheckedChunk; transfer: ArrayBuffer[] } {
  const { result, transfer } = checkChunk({ lines, firstLine, ingestedAt: 0n, batchId: '', rawColumn });
  const buffer = new LineBuffer();
  buffer.append(lines);
  const { bytes, offsets } = buffer.copy();
  const chunk: CheckedChunk = { firstLine, lines: lines.length, text: bytes, offsets, checked: result };
  return { chunk, transfer: [...transfer, bytes.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer] };
}

/**
 * `chunks` of lines as checked chunks, numbered from line 1, cut where a chunk would cross a
 * multiple of `need.maxBatchRows`.
 */
export function* checkedChunks(chunks: Iterable<string[]>, need: CheckNeed): Generator<{ chunk: CheckedChunk; transfer: ArrayBuffer[] }> {
  let next = 1;
  for (const lines of chunks) {
    for (let from = 0; from < lines.length; ) {
      const room = need.maxBatchRows - ((next - 1) % need.maxBatchRows);
      const part = from === 0 && lines.length <= room ? lines : lines.slice(from, from + room);
      yield checkedChunk(part, next, need.rawColumn);
      next += part.length;
      from += part.length;
    }
  }
}

/** The producer's side of a thread: chunks sent ahead of the pipeline, at most `ahead` unread. */
export type ProduceMessage = { start: { need: CheckNeed; ahead: number } } | { more: number };
export type ProduceReply = { chunk: CheckedChunk } | { end: true } | { error: string };

/**
 * The body of a producer thread over `chunks`: on `start` it sends chunks until `ahead` are unread,
 * then one more per `more` it is told. `send` posts a reply with the buffers to transfer.
 */
export function producer(
  chunks: (need: CheckNeed) => Iterable<string[]>,
  send: (reply: ProduceReply, transfer: ArrayBuffer[]) => void,
): (message: ProduceMessage) => void {
  let source: Iterator<{ chunk: CheckedChunk; transfer: ArrayBuffer[] }> | undefined;
  let credit = 0;
  let ended = false;
  const pump = (): void => {
    try {
      while (source && !ended && credit > 0) {
        const r = source.next();
        if (r.done) {
          ended = true;
          send({ end: true }, []);
          return;
        }
        credit--;
        send({ chunk: r.value.chunk }, r.value.transfer);
      }
    } catch (err) {
      ended = true;
      send({ error: err instanceof Error ? err.message : String(err) }, []);
    }
  };
  return (message) => {
    if ('start' in message) {
      try {
        source = checkedChunks(chunks(message.start.need), message.start.need)[Symbol.iterator]();
      } catch (err) {
        ended = true;
        send({ error: err instanceof Error ? err.message : String(err) }, []);
        return;
      }
      credit = message.start.ahead;
    } else credit += message.more;
    pump();
  };
}

/**
 * The pipeline's side: the chunks a producer thread sends, in order, as an async iterable.
 * `post` sends to the thread; `stop` ends it (called once the run has read all, or gave up).
 * The returned `receive` is to be called with each reply of the thread, `fail` when it died.
 */
export function producedChunks(
  need: CheckNeed,
  post: (message: ProduceMessage) => void,
  stop: () => void,
  ahead = 40,
): { chunks: AsyncIterable<CheckedChunk>; receive: (reply: ProduceReply) => void; fail: (err: Error) => void } {
  const queue: ProduceReply[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const receive = (reply: ProduceReply): void => {
    queue.push(reply);
    wake?.();
  };
  const fail = (err: Error): void => {
    failure = err;
    wake?.();
  };
  async function* read(): AsyncGenerator<CheckedChunk> {
    post({ start: { need, ahead } });
    try {
      for (;;) {
        while (queue.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const reply = queue.shift();
        if (!reply) throw failure!;
        if ('end' in reply) return;
        if ('error' in reply) throw new Error(`generating and checking lines failed on another thread: ${reply.error}`);
        post({ more: 1 });
        yield reply.chunk;
      }
    } finally {
      stop();
    }
  }
  return { chunks: { [Symbol.asyncIterator]: read }, receive, fail };
}

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

/** A run's lines, made and checked elsewhere (or some of them plain, to check here), asked for with what the run's checks need. */
export type CheckedSource = (need: CheckNeed) => AsyncIterable<CheckedChunk | string[]>;

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

/** `chunks` of lines numbered from line 1, cut where a chunk would cross a multiple of `maxBatchRows`. */
export function* cutChunks(chunks: Iterable<string[]>, maxBatchRows: number): Generator<{ lines: string[]; firstLine: number }> {
  let next = 1;
  for (const lines of chunks) {
    for (let from = 0; from < lines.length; ) {
      const room = maxBatchRows - ((next - 1) % maxBatchRows);
      const part = from === 0 && lines.length <= room ? lines : lines.slice(from, from + room);
      yield { lines: part, firstLine: next };
      next += part.length;
      from += part.length;
    }
  }
}

/** `chunks` of lines as checked chunks, numbered from line 1, cut as `cutChunks` does. */
export function* checkedChunks(chunks: Iterable<string[]>, need: CheckNeed): Generator<{ chunk: CheckedChunk; transfer: ArrayBuffer[] }> {
  for (const { lines, firstLine } of cutChunks(chunks, need.maxBatchRows)) yield checkedChunk(lines, firstLine, need.rawColumn);
}

/**
 * Between the pipeline and its producer thread: chunks are sent ahead, at most `ahead` unread, and
 * one more per `more`. `plain` asks for that many chunks as lines, unchecked: the pipeline had
 * (almost) nothing to read, so its thread would be idle and checks them itself (the producer's work, generating
 * and checking, is the larger share; this balances the two threads whatever else runs).
 */
export type ProduceMessage = { start: { need: CheckNeed; ahead: number } } | { more: number } | { plain: number };
export type ProduceReply = { chunk: CheckedChunk } | { lines: string[] } | { end: true } | { error: string };

/**
 * The body of a producer thread over `chunks`. It makes one chunk per turn of its event loop, so
 * the pipeline's messages are read in between. `send` posts a reply with the buffers to transfer.
 */
export function producer(
  chunks: (need: CheckNeed) => Iterable<string[]>,
  send: (reply: ProduceReply, transfer: ArrayBuffer[]) => void,
): (message: ProduceMessage) => void {
  let source: Iterator<{ lines: string[]; firstLine: number }> | undefined;
  let rawColumn = false;
  let credit = 0;
  let plain = 0;
  let ended = false;
  let scheduled = false;
  const turn = new MessageChannel();
  const schedule = (): void => {
    if (scheduled || ended || !source || credit <= 0) return;
    scheduled = true;
    turn.port2.postMessage(null);
  };
  turn.port1.onmessage = () => {
    scheduled = false;
    try {
      const r = source!.next();
      if (r.done) {
        ended = true;
        turn.port1.close();
        send({ end: true }, []);
        return;
      }
      credit--;
      if (plain > 0) {
        plain--;
        send({ lines: r.value.lines }, []);
      } else {
        const { chunk, transfer } = checkedChunk(r.value.lines, r.value.firstLine, rawColumn);
        send({ chunk }, transfer);
      }
    } catch (err) {
      ended = true;
      turn.port1.close();
      send({ error: err instanceof Error ? err.message : String(err) }, []);
      return;
    }
    schedule();
  };
  return (message) => {
    if ('start' in message) {
      try {
        source = cutChunks(chunks(message.start.need), message.start.need.maxBatchRows)[Symbol.iterator]();
      } catch (err) {
        ended = true;
        turn.port1.close();
        send({ error: err instanceof Error ? err.message : String(err) }, []);
        return;
      }
      rawColumn = message.start.need.rawColumn;
      credit = message.start.ahead;
    } else if ('more' in message) credit += message.more;
    else plain += message.plain;
    schedule();
  };
}

/**
 * Chunks a producer may send ahead: about 600,000 lines (some 250 MB of text and typed rows), so it
 * goes on generating through most of the 4-5 s the pipeline takes to finish a 1 M-line batch's
 * silver, with a bound on what waits. With 125, a 10 M-event run in the browser took 95.8 s and
 * its pipeline checked about half of the chunks itself; with 300, 87.6 s and a fifth, the
 * renderer's peak RSS no higher (docs/performance.md).
 */
const AHEAD = 300;

/**
 * The pipeline's side: the chunks a producer thread sends, in order, as an async iterable (checked
 * chunks, or lines when it asked for them plain). `post` sends to the thread; `stop` ends it (called
 * once the run has read all, or gave up). The returned `receive` is to be called with each reply of
 * the thread, `fail` when it died.
 */
export function producedChunks(
  need: CheckNeed,
  post: (message: ProduceMessage) => void,
  stop: () => void,
  ahead = AHEAD,
): { chunks: AsyncIterable<CheckedChunk | string[]>; receive: (reply: ProduceReply) => void; fail: (err: Error) => void } {
  const queue: ProduceReply[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let asked = 0;
  const receive = (reply: ProduceReply): void => {
    queue.push(reply);
    if ('lines' in reply) asked--;
    wake?.();
  };
  const fail = (err: Error): void => {
    failure = err;
    wake?.();
  };
  async function* read(): AsyncGenerator<CheckedChunk | string[]> {
    post({ start: { need, ahead } });
    try {
      for (;;) {
        if (queue.length < 2 && !failure && asked < 2) {
          // Little or nothing to read: this thread would wait, so it checks chunks itself.
          asked++;
          post({ plain: 1 });
        }
        while (queue.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const reply = queue.shift();
        if (!reply) throw failure!;
        if ('end' in reply) return;
        if ('error' in reply) throw new Error(`generating and checking lines failed on another thread: ${reply.error}`);
        post({ more: 1 });
        yield 'lines' in reply ? reply.lines : reply.chunk;
      }
    } finally {
      stop();
    }
  }
  return { chunks: { [Symbol.asyncIterator]: read }, receive, fail };
}

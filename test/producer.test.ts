import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { checkedChunks, producedChunks, producer, type CheckedSource, type ProduceMessage } from '../src/pipeline/checked-chunks.ts';
import { generateEvents, type GenerateOptions } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { TABLES } from '../src/pipeline/tables.ts';
import { nodeProducer } from '../src/cli/producer.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

/** Plain values, batch ids (random) left out of the text. */
const plain = (_key: string, v: unknown): unknown =>
  typeof v === 'string'
    ? v.replace(/batch-\d{8}T\d{6}Z-[0-9a-f]{8}/g, 'batch-…')
    : typeof v === 'bigint'
      ? `${v}n`
      : v && typeof v === 'object' && 'toArray' in v
        ? [...(v as unknown as Iterable<unknown>)]
        : v;

const options: GenerateOptions = { events: 9_000, seed: 31, days: 20, invalidRate: 0.05, batchSize: 700 };

/** Every table's rows (batch ids aside), after one run in batches of at most 4,000 lines. */
async function outcome(source: Iterable<string[]> | CheckedSource) {
  const storage = new MemoryStorage();
  const ctx = pipelineContext(engine, storage, { now: () => Date.parse('2025-02-20T00:00:00Z') });
  const summary = await runBatch(ctx, source, 'generator', options.events, 4_000);
  const rows: Record<string, unknown[]> = {};
  for (const table of [TABLES.bronze, TABLES.silver, TABLES.rejects, TABLES.quality, 'gold/dropoff_rate', 'gold/stage_bottlenecks']) {
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 't');
    rows[table] = JSON.parse(
      JSON.stringify(engine.rows(table.startsWith('gold/') ? 'SELECT * FROM t' : 'SELECT * EXCLUDE (batch_id) FROM t ORDER BY ALL'), plain),
    );
  }
  return { rows, batches: summary.bronzeBatches.map((b) => b.rows), silver: summary.silver.map(({ batchId: _, ...s }) => s) };
}

/** Replies of sameThread producers by kind, and how often one was stopped. */
const replies = { checked: 0, plain: 0, stopped: 0 };

/** A producer on this thread, its replies delivered on later turns of the event loop, as a thread's would be. */
const sameThread =
  (lines: () => Iterable<string[]>): CheckedSource =>
  (need) => {
    let handle: ((m: ProduceMessage) => void) | undefined;
    const { chunks, receive } = producedChunks(
      need,
      (message) => setTimeout(() => handle!(message)),
      () => replies.stopped++,
      3,
    );
    handle = producer(lines, (reply) => {
      if ('chunk' in reply) replies.checked++;
      if ('lines' in reply) replies.plain++;
      setTimeout(() => receive(reply));
    });
    return chunks;
  };

describe('lines made and checked by a producer', () => {
  it('chunks are cut where a batch ends, numbered on from line 1', () => {
    const chunks = [...checkedChunks(generateEvents(options), { rawColumn: false, maxBatchRows: 4_000 })].map((c) => c.chunk);
    expect(chunks.reduce((n, c) => n + c.lines, 0)).toBe(9_000);
    expect(chunks.map((c) => c.firstLine).slice(5, 8)).toEqual([3_501, 4_001, 4_201]);
    let next = 1;
    for (const c of chunks) {
      expect(c.firstLine).toBe(next);
      expect(Math.floor((c.firstLine - 1) / 4_000)).toBe(Math.floor((c.firstLine + c.lines - 2) / 4_000));
      expect(c.offsets.length).toBe(c.lines + 1);
      next += c.lines;
    }
    const first = [...generateEvents(options)][0]![0]!;
    expect(new TextDecoder().decode(chunks[0]!.text.subarray(0, chunks[0]!.offsets[1]))).toBe(first);
  });

  it('gives the same tables as lines checked in line, across batches, whether chunks come checked or plain', async () => {
    const [inLine, produced] = [await outcome(generateEvents(options)), await outcome(sameThread(() => generateEvents(options)))];
    expect(produced.batches).toEqual([4_000, 4_000, 1_000]);
    // The pipeline asked for plain lines whenever it found none to read.
    expect(replies.checked).toBeGreaterThan(0);
    expect(replies.plain).toBeGreaterThan(0);
    expect(replies.checked + replies.plain).toBe(15); // 13 chunks of 700 lines, two cut where a batch ends
    expect(produced.silver).toEqual(inLine.silver);
    expect(produced.rows).toEqual(inLine.rows);
    expect((produced.rows[TABLES.rejects] ?? []).length).toBeGreaterThan(100);
  });

  it('on a worker_thread (the CLI): the same tables as in line', async () => {
    const before = process.env.LAKEHOUSE_PRODUCER;
    process.env.LAKEHOUSE_PRODUCER = '1';
    try {
      const source = nodeProducer(options);
      expect(source).toBeDefined();
      const [inLine, threaded] = [await outcome(generateEvents(options)), await outcome(source!)];
      expect(threaded.rows).toEqual(inLine.rows);
    } finally {
      if (before === undefined) delete process.env.LAKEHOUSE_PRODUCER;
      else process.env.LAKEHOUSE_PRODUCER = before;
    }
  });

  it('a producer that fails fails the run with its message; nothing reaches silver', async () => {
    const storage = new MemoryStorage();
    const failing = sameThread(function* () {
      yield [...generateEvents({ ...options, events: 700 })][0]!;
      throw new Error('generator: boom');
    });
    await expect(runBatch(pipelineContext(engine, storage), failing, 'generator')).rejects.toThrow(
      'generating and checking lines failed on another thread: generator: boom',
    );
    expect(await storage.list(TABLES.silver)).toEqual([]);
  });

  it('a run cancelled while bronze is written ends its producer', async () => {
    const storage = new MemoryStorage();
    const controller = new AbortController();
    const ctx = pipelineContext(engine, storage, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'bronze' && p.done >= 1_400) controller.abort();
      },
    });
    const stopped = replies.stopped;
    await expect(
      runBatch(
        ctx,
        sameThread(() => generateEvents(options)),
        'generator',
        options.events,
      ),
    ).rejects.toThrow(/cancel/i);
    expect(replies.stopped).toBe(stopped + 1);
    expect(await storage.list(TABLES.silver)).toEqual([]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { checkChunk, type LineCheckers } from '../src/pipeline/check-lines.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { TABLES } from '../src/pipeline/tables.ts';
import { nodeCheckers } from '../src/cli/checkers.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const plain = (_key: string, v: unknown): unknown =>
  typeof v === 'bigint' ? `${v}n` : v && typeof v === 'object' && 'toArray' in v ? [...(v as unknown as Iterable<unknown>)] : v;

/** Every table's rows (ids and times aside), after one run of these lines with these checkers. */
async function outcome(lines: string[][], checkers?: LineCheckers) {
  const storage = new MemoryStorage();
  const ctx = pipelineContext(engine, storage, { now: () => Date.parse('2025-02-20T00:00:00Z'), ...(checkers ? { checkers } : {}) });
  const summary = await runBatch(ctx, lines, 'generator', lines.flat().length);
  const rows: Record<string, unknown[]> = {};
  for (const table of [TABLES.silver, TABLES.rejects, TABLES.quality, 'gold/dropoff_rate', 'gold/stage_bottlenecks']) {
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 't');
    // Plain values: list columns come back as Arrow vectors, whose chunking may differ.
    rows[table] = JSON.parse(JSON.stringify(engine.rows(table.startsWith('gold/') ? 'SELECT * FROM t' : 'SELECT * EXCLUDE (batch_id) FROM t'), plain));
  }
  return { rows, silver: summary.silver.map(({ batchId: _, ...s }) => s) };
}

describe('line checks on other threads', () => {
  const lines = [...generateEvents({ events: 9_000, seed: 31, days: 20, invalidRate: 0.05, batchSize: 700 })];

  it('taken in in order even when the answers come back out of order: the same tables as in line', async () => {
    let calls = 0;
    const shuffled: LineCheckers = {
      // Later chunks answer first: the batch must still take them in in line order.
      check: (request) => new Promise((resolve) => setTimeout(() => resolve(checkChunk(request).result), 40 - (calls++ % 8) * 5)),
    };
    const [inLine, threaded] = [await outcome(lines), await outcome(lines, shuffled)];
    expect(threaded.silver).toEqual(inLine.silver);
    expect(threaded.rows).toEqual(inLine.rows);
  });

  it('a failing checker fails the run with its message; nothing reaches silver', async () => {
    const failing: LineCheckers = { check: async () => Promise.reject(new Error('silver: checking lines failed on a checker thread: boom')) };
    const storage = new MemoryStorage();
    await expect(runBatch(pipelineContext(engine, storage, { checkers: failing }), lines, 'generator')).rejects.toThrow('checker thread: boom');
    expect(await storage.list(TABLES.silver)).toEqual([]);
  });

  it('on worker_threads (the CLI): the same tables as in line', async () => {
    const [inLine, threaded] = [await outcome(lines), await outcome(lines, nodeCheckers(2))];
    expect(threaded.rows).toEqual(inLine.rows);
  });
});

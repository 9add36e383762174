import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { writeBronze } from '../src/pipeline/bronze.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { loadSilverEvents, processPendingBronze, SilverBatch } from '../src/pipeline/silver/index.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

/**
 * How much of the Delta logs silver reads to take in a batch. Before pipeline/silver/ it loaded
 * bronze's snapshot and all three silver snapshots to find what was pending, then each writer
 * loaded its table again, and each pending commit was read twice: with two earlier runs, one
 * batch cost 7 log listings and 15 log file reads, two pending batches 10 and 29. Now bronze is
 * only listed, silver/events comes from the engine's copy, each snapshot serves both the watermark
 * and the commit, and each bronze commit is read once.
 */
class CountingStorage extends MemoryStorage {
  counting = false;
  readonly listed: string[] = [];
  readonly read_: string[] = [];

  override async list(dir: string) {
    if (this.counting && dir.endsWith('/_delta_log')) this.listed.push(dir);
    return super.list(dir);
  }

  override async read(path: string) {
    if (this.counting && path.includes('/_delta_log/')) this.read_.push(path);
    return super.read(path);
  }
}

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const events = (seed: number) => generateEvents({ events: 300, seed, days: 5 });

/** A lakehouse after two runs: every table at version 1. */
async function twoRuns() {
  const storage = new CountingStorage();
  const ctx = pipelineContext(engine, storage);
  for (const seed of [1, 2]) await runBatch(ctx, events(seed), 'generator');
  return { storage, ctx };
}

describe('the Delta log reads of a silver batch', () => {
  it('one batch checked as it was written: bronze listed, rejects and quality read once, silver/events not at all', async () => {
    const { storage, ctx } = await twoRuns();
    const silver = await loadSilverEvents(ctx);
    const batch = new SilverBatch(ctx);
    const bronze = await writeBronze(ctx, events(3), 'generator', undefined, {
      onLines: (chunk, first, b) =>
        batch.checkLines(
          chunk,
          (i) => first + i,
          () => b.ingestedAt,
          b.batchId,
        ),
      onFile: (f) => batch.keepRaw(f.raw, f.firstLine),
    });
    storage.counting = true;
    const results = await processPendingBronze(ctx, { prepared: { version: bronze.version, batch }, silver });
    storage.counting = false;

    expect(results.map((r) => [r.bronzeVersion, r.bronzeRows])).toEqual([[2, 300]]);
    expect(storage.listed.sort()).toEqual(['bronze/events/_delta_log', 'silver/quality/_delta_log', 'silver/rejects/_delta_log']);
    expect(storage.read_.sort()).toEqual([
      'silver/quality/_delta_log/00000000000000000000.json',
      'silver/quality/_delta_log/00000000000000000001.json',
      'silver/rejects/_delta_log/00000000000000000000.json',
      'silver/rejects/_delta_log/00000000000000000001.json',
    ]);
  });

  it('two pending batches: each bronze commit read once, the silver tables read again only for the second', async () => {
    const { storage, ctx } = await twoRuns();
    const silver = await loadSilverEvents(ctx);
    for (const seed of [3, 4]) await writeBronze(ctx, events(seed), 'generator');
    storage.counting = true;
    const results = await processPendingBronze(ctx, { silver });
    storage.counting = false;

    expect(results.map((r) => [r.bronzeVersion, r.bronzeRows])).toEqual([
      [2, 300],
      [3, 300],
    ]);
    expect(storage.listed.length).toBe(6);
    expect(storage.read_.length).toBe(15);
    const bronzeReads = storage.read_.filter((p) => p.startsWith('bronze/'));
    expect(bronzeReads.sort()).toEqual(['bronze/events/_delta_log/00000000000000000002.json', 'bronze/events/_delta_log/00000000000000000003.json']);
    // The second batch reads each silver table at version 2 (commits 0, 1, 2); the first reused silver/events.
    expect(storage.read_.filter((p) => p.startsWith('silver/events/')).length).toBe(3);
  });

  it('with nothing pending, the logs are listed and nothing is committed', async () => {
    const { storage, ctx } = await twoRuns();
    const summary = await runBatch(ctx, events(3), 'generator');
    expect(summary.silver.map((r) => r.bronzeVersion)).toEqual([2]);
    const before = await storage.list('silver/events/_delta_log');
    storage.counting = true;
    // Nothing pending: bronze and the three silver tables are listed, nothing else runs.
    expect(await processPendingBronze(ctx)).toEqual([]);
    expect(storage.listed.sort()).toEqual(['bronze/events/_delta_log', 'silver/events/_delta_log', 'silver/quality/_delta_log', 'silver/rejects/_delta_log']);
    storage.counting = false;
    expect((await storage.list('silver/events/_delta_log')).length).toBe(before.length);
  });
});

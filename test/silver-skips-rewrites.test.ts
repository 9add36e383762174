import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { optimizeTable } from '../src/delta/optimize.ts';
import { listLog, loadSnapshot } from '../src/delta/snapshot.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { isBatch, processPendingBronze } from '../src/pipeline/silver/index.ts';
import { SILVER_APP_ID, TABLES } from '../src/pipeline/tables.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';
import { checkLakehouse } from './reliability/invariants.ts';

/**
 * Silver takes in each bronze commit that adds data as a batch; a commit that only moves rows
 * already there (OPTIMIZE: adds and removes all `dataChange: false`) is skipped, so bronze can be
 * compacted like any other table.
 */
let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const watermark = async (storage: MemoryStorage, table: string) => (await loadSnapshot(storage, table)).txns.get(SILVER_APP_ID)?.version;

describe('silver and bronze commits that add no data', () => {
  it('skips an OPTIMIZE of bronze, before and after the next batch, and takes in only real batches', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    for (const seed of [1, 2]) await runBatch(ctx, generateEvents({ events: 600, seed, days: 10, invalidRate: 0.05 }), 'generator');

    const compacted = await optimizeTable(storage, TABLES.bronze);
    expect([compacted.version, compacted.filesRemoved, compacted.filesAdded, compacted.rows]).toEqual([2, 2, 1, 1200]);
    expect(await isBatch(ctx, 0)).toBe(true);
    expect(await isBatch(ctx, 1)).toBe(true);
    expect(await isBatch(ctx, 2)).toBe(false);

    // Nothing pending: the OPTIMIZE commit is not a batch, and silver does not commit.
    const silverBefore = (await listLog(storage, TABLES.silver)).latest;
    expect(await processPendingBronze(ctx)).toEqual([]);
    expect((await listLog(storage, TABLES.silver)).latest).toBe(silverBefore);
    const rowsBefore = await checkLakehouse(storage, engine, { complete: true });
    expect(rowsBefore.problems).toEqual([]);
    expect([rowsBefore.bronzeVersion, rowsBefore.processed, rowsBefore.batchesChecked, rowsBefore.bronzeRows]).toEqual([2, 1, 2, 1200]);

    // The next run's batch is bronze v3; silver takes in v3 alone.
    const third = await runBatch(ctx, generateEvents({ events: 500, seed: 3, days: 10, invalidRate: 0.05 }), 'generator');
    expect(third.silver.map((r) => [r.bronzeVersion, r.bronzeRows])).toEqual([[3, 500]]);
    for (const t of [TABLES.silver, TABLES.rejects, TABLES.quality]) expect(await watermark(storage, t)).toBe(3);

    // Compacting again (the compacted file and v3's): the last bronze commit is now an OPTIMIZE.
    expect((await optimizeTable(storage, TABLES.bronze)).version).toBe(4);
    expect(await processPendingBronze(ctx)).toEqual([]);
    const check = await checkLakehouse(storage, engine, { complete: true });
    expect(check.problems).toEqual([]);
    expect([check.bronzeVersion, check.processed, check.batchesChecked, check.bronzeRows]).toEqual([4, 3, 3, 1700]);
    const silverRows = (await loadSnapshot(storage, TABLES.silver)).files.reduce((s, f) => s + JSON.parse(f.stats!).numRecords, 0);
    const rejected = (await loadSnapshot(storage, TABLES.rejects)).files.reduce((s, f) => s + JSON.parse(f.stats!).numRecords, 0);
    expect(silverRows + rejected).toBe(1700);

    // And the pipeline goes on over compacted bronze.
    const fourth = await runBatch(ctx, generateEvents({ events: 300, seed: 4, days: 10, invalidRate: 0.05 }), 'generator');
    expect(fourth.silver.map((r) => r.bronzeVersion)).toEqual([5]);
    expect((await checkLakehouse(storage, engine, { complete: true })).problems).toEqual([]);
  });

  it('tells a rewrite from a batch by dataChange, not by the operation', async () => {
    const storage = new MemoryStorage();
    const add = (path: string, dataChange: boolean) => ({
      add: { path, partitionValues: {}, size: 10, modificationTime: 1, dataChange, stats: '{"numRecords":1}' },
    });
    const remove = (path: string, dataChange: boolean) => ({ remove: { path, deletionTimestamp: 2, dataChange } });
    const info = (operation: string) => ({ commitInfo: { timestamp: 1, operation, operationParameters: {} } });
    const commits = [
      [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, info('WRITE'), add('a.parquet', true)],
      [info('WRITE')], // an empty batch: no file at all
      [info('OPTIMIZE'), remove('a.parquet', false), add('b.parquet', false)],
      [info('WRITE'), remove('b.parquet', false), add('c.parquet', true)], // adds data beside a rewrite
      [info('WRITE'), remove('c.parquet', true)], // removes data: a change, not a rewrite
    ];
    for (const [v, actions] of commits.entries()) {
      await storage.write(
        `${TABLES.bronze}/_delta_log/${String(v).padStart(20, '0')}.json`,
        new TextEncoder().encode(`${actions.map((a) => JSON.stringify(a)).join('\n')}\n`),
      );
    }
    const ctx = { storage };
    expect(await Promise.all(commits.map((_, v) => isBatch(ctx, v)))).toEqual([true, true, false, true, true]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { BAD_KINDS, BAD_KIND_STAGE, generateEvents, type BadKind } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { ExpectationFailedError, processPendingBronze, loadSilverEvents } from '../src/pipeline/silver/index.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { TABLES } from '../src/pipeline/tables.ts';
import type { Storage } from '../src/storage/types.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

async function load(storage: Storage, table: string, name: string, version?: number): Promise<void> {
  await scanIntoEngine(engine, storage, await loadSnapshot(storage, table, version), name);
}

/** bronze = silver + rejects per batch, and event_id unique in silver. */
async function checkInvariants(storage: Storage): Promise<{ batch_id: string; bronze: bigint; silver: bigint; rejects: bigint }[]> {
  await load(storage, TABLES.bronze, 'b');
  await load(storage, TABLES.silver, 's');
  await load(storage, TABLES.rejects, 'r');
  const perBatch = engine.rows<{ batch_id: string; bronze: bigint; silver: bigint; rejects: bigint }>(`
    SELECT b.batch_id, b.n AS bronze, coalesce(s.n, 0) AS silver, coalesce(r.n, 0) AS rejects
    FROM (SELECT batch_id, count(*) n FROM b GROUP BY 1) b
    LEFT JOIN (SELECT batch_id, count(*) n FROM s GROUP BY 1) s USING (batch_id)
    LEFT JOIN (SELECT batch_id, count(*) n FROM r GROUP BY 1) r USING (batch_id) ORDER BY 1`);
  for (const row of perBatch) expect(row.bronze, row.batch_id).toBe(row.silver + row.rejects);
  expect(engine.rows('SELECT event_id FROM s GROUP BY 1 HAVING count(*) > 1')).toEqual([]);
  return perBatch;
}

describe('pipeline invariants on generated data', () => {
  it.each([
    [1, 3_000, 0.01],
    [2, 12_000, 0.05],
    [3, 500, 0.2],
  ])('seed %i, %i events, invalid rate %f: nothing lost, nothing counted twice', async (seed, events, invalidRate) => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    const summary = await runBatch(ctx, generateEvents({ events, seed, days: 30, invalidRate }), 'generator', events);
    expect(summary.bronze.rows).toBe(events);
    const [batch] = summary.silver;
    expect(batch!.silverRows + batch!.rejectedRows).toBe(events);
    const perBatch = await checkInvariants(storage);
    expect(perBatch).toHaveLength(1);
    expect(Number(perBatch[0]!.rejects)).toBe(batch!.rejectedRows);
  });

  it('a re-delivered batch changes nothing but bronze: every event lands in rejects as duplicate', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    const lines = [...generateEvents({ events: 2_000, seed: 9, days: 20, invalidRate: 0 })];
    const first = await runBatch(ctx, lines, 'upload:a.jsonl');
    await load(storage, TABLES.silver, 's_before');
    const goldBefore = Object.fromEntries(first.gold.map((g) => [g.table, engine.rows(ctx.goldSql[g.table.slice(5)]!)]));
    const second = await runBatch(ctx, lines, 'upload:a.jsonl');
    expect(second.silver[0]!.silverRows).toBe(0);
    expect(second.silver[0]!.rejectsByStage.duplicate).toBe(first.silver[0]!.silverRows);
    await load(storage, TABLES.rejects, 'r');
    const dupErrors = engine.rows<{ e: string }>(`SELECT errors[1] AS e FROM r WHERE stage = 'duplicate' AND batch_id = '${second.bronze.batchId}' LIMIT 1`);
    expect(dupErrors[0]!.e).toMatch(new RegExp(`^/event_id: evt-\\S+ was already accepted in batch ${first.bronze.batchId}$`));
    await load(storage, TABLES.silver, 's_after');
    expect(engine.rows('SELECT count(*) AS n FROM (SELECT * FROM s_after EXCEPT ALL SELECT * FROM s_before)')).toEqual([{ n: 0n }]);
    for (const g of second.gold) expect(engine.rows(ctx.goldSql[g.table.slice(5)]!), g.table).toEqual(goldBefore[g.table]);
    await checkInvariants(storage);
  });

  it('re-running silver with nothing new in bronze writes nothing', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    await runBatch(ctx, generateEvents({ events: 500, seed: 4, days: 10, invalidRate: 0.02 }), 'generator');
    const versions = async () => Promise.all([TABLES.silver, TABLES.rejects, TABLES.quality].map(async (t) => (await loadSnapshot(storage, t)).version));
    const before = await versions();
    await loadSilverEvents(ctx);
    expect(await processPendingBronze(ctx)).toEqual([]);
    expect(await versions()).toEqual(before);
  });
});

describe('crash recovery through txn watermarks', () => {
  it('a silver run killed between its commits is completed by the next run, with no batch skipped or doubled', async () => {
    const storage = new MemoryStorage();
    let failEvents = true;
    const flaky = Object.create(storage) as MemoryStorage;
    flaky.putIfAbsent = async (path: string, data: Uint8Array) => {
      if (failEvents && path.startsWith(`${TABLES.silver}/_delta_log/`)) throw new Error('killed');
      return storage.putIfAbsent(path, data);
    };
    const ctx = pipelineContext(engine, flaky);
    await expect(runBatch(ctx, generateEvents({ events: 1_000, seed: 5, days: 10, invalidRate: 0.05 }), 'generator')).rejects.toThrow('killed');
    // rejects and quality were committed; silver/events was not.
    expect((await loadSnapshot(storage, TABLES.rejects)).txns.get('creatorops-silver')?.version).toBe(0);
    failEvents = false;
    const next = await runBatch(ctx, generateEvents({ events: 1_000, seed: 6, days: 10, invalidRate: 0.05 }), 'generator');
    // The batch the stopped run left half-taken-in is finished first, before the new one is written.
    expect(next.repaired?.before.behind).toEqual([TABLES.silver]);
    expect(next.repaired?.silver.map((s) => s.bronzeVersion)).toEqual([0]);
    expect(next.silver.map((s) => s.bronzeVersion)).toEqual([1]);
    const perBatch = await checkInvariants(storage);
    expect(perBatch).toHaveLength(2);
    expect((await loadSnapshot(storage, TABLES.rejects)).version).toBe(1);
  });
});

describe('a fail expectation', () => {
  it('stops the batch: raw rows stay in bronze, nothing reaches silver, rejects or gold; later batches go on', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    await runBatch(ctx, generateEvents({ events: 300, seed: 3, days: 10, invalidRate: 0 }), 'generator');
    const goldVersion = (await loadSnapshot(storage, 'gold/writing_velocity_daily').catch(() => undefined))?.version;
    const silverRows = (await loadSnapshot(storage, TABLES.silver)).files.length;
    const bad = [
      '{"event_id":"old-1","event_type":"stage_entered","occurred_at":"1970-01-01T00:00:00Z","creator_id":"c","work_id":"w","schema_version":1,"stage":"draft"}',
      '{"event_id":"ok-1","event_type":"stage_entered","occurred_at":"2025-01-02T00:00:00Z","creator_id":"c","work_id":"w","schema_version":1,"stage":"draft"}',
    ];
    const err = await runBatch(ctx, [bad], 'upload:bad.jsonl').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpectationFailedError);
    expect((err as Error).message).toMatch(
      /^batch batch-\S+ stopped: expectation occurred_at_not_before_2000 \(action fail\) was violated by 1 row, e\.g\. line 1: \{"event_id":"old-1".*; its raw rows stay in bronze, and nothing of it reached silver, rejects or gold$/,
    );
    await load(storage, TABLES.bronze, 'b');
    expect(engine.rows(`SELECT count(*) AS n FROM b WHERE source = 'upload:bad.jsonl'`)).toEqual([{ n: 2n }]);
    await load(storage, TABLES.silver, 's');
    expect(engine.rows(`SELECT count(*) AS n FROM s WHERE event_id IN ('old-1', 'ok-1')`)).toEqual([{ n: 0n }]);
    expect((await loadSnapshot(storage, TABLES.silver)).files.length).toBe(silverRows);
    await load(storage, TABLES.rejects, 'r');
    expect(engine.rows(`SELECT count(*) AS n FROM r WHERE raw LIKE '%old-1%' OR raw LIKE '%ok-1%'`)).toEqual([{ n: 0n }]);
    if (goldVersion !== undefined) expect((await loadSnapshot(storage, 'gold/writing_velocity_daily')).version).toBe(goldVersion);
    await load(storage, TABLES.quality, 'q');
    expect(engine.rows(`SELECT action, passed, failed FROM q WHERE expectation = 'occurred_at_not_before_2000' ORDER BY failed`)).toEqual([
      { action: 'fail', passed: 300n, failed: 0n },
      { action: 'fail', passed: 1n, failed: 1n },
    ]);
    const after = await runBatch(ctx, generateEvents({ events: 200, seed: 11, days: 10, invalidRate: 0 }), 'generator');
    expect(after.silver.map((s) => s.silverRows)).toEqual([200]);
  });
});

describe('bad records from the generator', () => {
  it('every kind ends in rejects with the stage it belongs to, and nothing else is rejected', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    const kinds = new Map<number, BadKind>();
    const events = 4_000;
    await runBatch(ctx, generateEvents({ events, seed: 21, days: 30, invalidRate: 0.05, onBad: (i, k) => kinds.set(i + 1, k) }), 'generator');
    await load(storage, TABLES.rejects, 'r');
    await load(storage, TABLES.bronze, 'b');
    const rejected = new Map(
      engine
        .rows<{ line_no: bigint; stage: string; reasons: string[] }>(
          'SELECT b.line_no, r.stage, r.reasons FROM r JOIN b ON r.raw = b.raw AND r.batch_id = b.batch_id',
        )
        .map((row) => [Number(row.line_no), row]),
    );
    expect(new Set(kinds.values())).toEqual(new Set(BAD_KINDS));
    for (const [line, kind] of kinds) {
      const row = rejected.get(line);
      expect(row, `line ${line} (${kind}) should be rejected`).toBeDefined();
      expect(row!.stage, `line ${line} (${kind})`).toBe(BAD_KIND_STAGE[kind]);
      if (kind === 'future_timestamp') expect([...row!.reasons]).toEqual(['occurred_at_not_in_future']);
      if (kind === 'duplicate') expect([...row!.reasons]).toEqual(['duplicate_event_id']);
      if (kind === 'malformed_json') expect([...row!.reasons]).toEqual(['invalid_json']);
    }
    expect(Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM r')[0]!.n)).toBe(kinds.size);
  });
});

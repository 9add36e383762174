import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { isCommitInfo, isTxn } from '../../src/delta/actions.ts';
import { readRows } from '../../src/delta/rows.ts';
import { loadSnapshot, readCommit } from '../../src/delta/snapshot.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { OlderInputError, refreshGold } from '../../src/pipeline/gold.ts';
import { runBatch } from '../../src/pipeline/lakehouse.ts';
import { GOLD_INPUT_APP_ID, readLineage } from '../../src/pipeline/lineage.ts';
import { repairLakehouse } from '../../src/pipeline/repair.ts';
import { stopAfterCommit, StoppedAfterCommitError } from '../../src/pipeline/stop-after-commit.ts';
import { GOLD_TABLES, goldTable, TABLES } from '../../src/pipeline/tables.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import type { Storage } from '../../src/storage/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { pipelineContext } from '../helpers/pipeline.ts';

/**
 * Gold lineage (docs/reliability.md, promise 9): a run stopped right after any one of its commits
 * leaves a lakehouse whose lineage names exactly the tables that are behind; the repair makes it
 * equal to an uninterrupted run and is idempotent; gold from an older silver is refused.
 */

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const EVENTS = 600;
const batch = (seed: number) => generateEvents({ events: EVENTS, seed, days: 20, invalidRate: 0.02 });

/** Every gold table's rows, in a stable order. */
async function goldRows(storage: Storage): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const kpi of GOLD_TABLES) {
    const rows = (await readRows(storage, await loadSnapshot(storage, goldTable(kpi))))!;
    out[kpi] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

/** The commits of a second run into a lakehouse that has one batch: bronze, silver (rejects, quality, events), then gold. */
const COMMITS = [TABLES.bronze, TABLES.rejects, TABLES.quality, TABLES.silver, ...GOLD_TABLES.map(goldTable)];

/** What the lineage must call behind after the run stopped right after commit `k` (1-based). */
function expectedBehind(k: number): string[] {
  if (k === 1) return [TABLES.silver, TABLES.rejects, TABLES.quality];
  if (k === 2) return [TABLES.silver, TABLES.quality];
  if (k === 3) return [TABLES.silver];
  return GOLD_TABLES.slice(k - 4).map(goldTable);
}

describe('a run stopped right after each of its commits', () => {
  let reference: Record<string, string[]>;
  beforeAll(async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    await runBatch(ctx, batch(1), 'generator');
    await runBatch(ctx, batch(2), 'generator');
    reference = await goldRows(storage);
    expect((await readLineage(storage)).behind).toEqual([]);
  });

  it.each(COMMITS.map((table, i) => [i + 1, table] as const))(
    'after commit %i (%s): the lineage names what is behind; the repair makes it equal to an uninterrupted run',
    async (k, table) => {
      const storage = new MemoryStorage();
      await runBatch(pipelineContext(engine, storage), batch(1), 'generator');
      const stopping = stopAfterCommit(storage, String(k), (path, n) => {
        throw new StoppedAfterCommitError(path, n);
      });
      const stopped = runBatch(pipelineContext(engine, stopping), batch(2), 'generator');
      await expect(stopped).rejects.toThrow(`the run was stopped after commit ${k} (${table}/_delta_log/00000000000000000001.json)`);

      const lineage = await readLineage(storage);
      expect(lineage.behind).toEqual(expectedBehind(k));
      expect(lineage.bronzeBatch).toBe(1);
      expect(lineage.silverData).toBe(k >= 4 ? 1 : 0);
      // Every gold table's recorded input names the silver version its rows were computed from.
      for (const t of lineage.tables.filter((x) => x.layer === 'gold')) {
        const written = COMMITS.indexOf(t.table) + 1 <= k;
        expect(t.input, t.table).toEqual({ table: TABLES.silver, version: written ? 1 : 0 });
        expect(t.upToDate, t.table).toBe(written || k < 4);
      }
      // The consistent view: every silver table at the last batch all three took in, every gold table at one silver version.
      const batchAll = k >= 4 ? 1 : 0;
      expect([TABLES.silver, TABLES.rejects, TABLES.quality].map((t) => lineage.consistent[t])).toEqual([batchAll, batchAll, batchAll]);
      const goldAll = k === COMMITS.length ? 1 : 0;
      expect(GOLD_TABLES.map((g) => lineage.consistent[goldTable(g)])).toEqual(GOLD_TABLES.map(() => goldAll));
      // What every default view says meanwhile: silver while the batch is in some silver tables only, gold while some gold tables are computed from the newer silver.
      expect(Object.keys(lineage.partlyIn)).toEqual(k === 2 || k === 3 ? ['silver'] : k >= 5 && k < COMMITS.length ? ['gold'] : []);

      const ctx = pipelineContext(engine, storage);
      const repaired = await repairLakehouse(ctx);
      expect(repaired.before.behind).toEqual(expectedBehind(k));
      expect(repaired.after.behind).toEqual([]);
      expect(repaired.after.partlyIn).toEqual({});
      expect(repaired.silver.map((b) => b.bronzeVersion)).toEqual(k <= 3 ? [1] : []);
      // Nothing that was current is recomputed: gold written by the stopped run is left as it is.
      expect(repaired.gold.filter((g) => !g.current).map((g) => g.table)).toEqual(k <= 3 ? GOLD_TABLES.map(goldTable) : expectedBehind(k));
      expect(await goldRows(storage)).toEqual(reference);
      for (const g of GOLD_TABLES) expect((await loadSnapshot(storage, goldTable(g))).version, g).toBe(1);

      // Idempotent: a second repair finds nothing to do and writes nothing.
      const again = await repairLakehouse(ctx);
      expect([again.before.behind, again.silver, again.gold]).toEqual([[], [], []]);
    },
  );

  it('the repair works on an engine that has read nothing yet (as `cli status --repair` starts)', async () => {
    const storage = new MemoryStorage();
    await runBatch(pipelineContext(engine, storage), batch(1), 'generator');
    const stopping = stopAfterCommit(storage, TABLES.bronze, (path, n) => {
      throw new StoppedAfterCommitError(path, n);
    });
    await expect(runBatch(pipelineContext(engine, stopping), batch(2), 'generator')).rejects.toThrow(StoppedAfterCommitError);
    // A new process starts with no silver_events in its engine.
    const fresh = await testEngine();
    fresh.run('DROP TABLE IF EXISTS silver_events');
    const repaired = await repairLakehouse(pipelineContext(fresh, storage));
    expect(repaired.silver.map((b) => b.bronzeVersion)).toEqual([1]);
    expect(repaired.after.behind).toEqual([]);
    expect(await goldRows(storage)).toEqual(reference);
  });

  it('gold commits carry a txn naming their input and the inputs in commitInfo', async () => {
    const storage = new MemoryStorage();
    await runBatch(pipelineContext(engine, storage), batch(1), 'generator');
    await runBatch(pipelineContext(engine, storage), batch(2), 'generator');
    const actions = await readCommit(storage, goldTable('stage_bottlenecks'), 1);
    const txn = actions.find(isTxn)!.txn;
    expect([txn.appId, txn.version]).toEqual(['creatorops-gold:silver/events', 1]);
    expect(txn.appId).toBe(GOLD_INPUT_APP_ID);
    expect(actions.find(isCommitInfo)!.commitInfo.operationParameters).toMatchObject({
      source: 'sql/gold/stage_bottlenecks.sql',
      inputs: '[{"table":"silver/events","version":1}]',
    });
  });

  it('gold computed from an older silver version than the gold table records is refused', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    await runBatch(ctx, batch(1), 'generator');
    await runBatch(ctx, batch(2), 'generator');
    // silver/events back at v0 (its last commit gone), while gold records v1.
    await storage.delete(`${TABLES.silver}/_delta_log/00000000000000000001.json`);
    const refused = refreshGold(pipelineContext(engine, storage));
    await expect(refused).rejects.toThrow(OlderInputError);
    await expect(refreshGold(pipelineContext(engine, storage))).rejects.toThrow(
      'gold/writing_velocity_daily v1 was computed from silver/events v1; gold computed from the older v0 is not committed over it',
    );
    expect((await loadSnapshot(storage, goldTable('writing_velocity_daily'))).version).toBe(1);
  });
});

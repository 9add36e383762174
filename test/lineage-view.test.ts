import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProjectFiles } from '../src/cli/context.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { GOLD_INPUT_APP_ID } from '../src/pipeline/lineage.ts';
import { GOLD_TABLES, goldTable, SILVER_APP_ID, TABLES } from '../src/pipeline/tables.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { openLakehouse, type Lakehouse } from '../src/worker/lakehouse.ts';

/**
 * What the page gets from the worker after a run stopped between two commits: the lineage marks
 * exactly the tables behind, the versions it offers as the consistent view agree on one silver
 * version (gold) and one bronze batch (silver), and the repair the page starts on opening finishes
 * the run.
 */

let lakehouse: Lakehouse;
let storage: NodeStorage;
let stop: string | undefined;
const options = (seed: number) => ({ events: 800, seed, days: 20, invalidRate: 0.02 });

beforeAll(async () => {
  initParquet();
  storage = new NodeStorage(await mkdtemp(join(tmpdir(), 'lineage-view-')));
  const { goldSql, silverSql, expectationsText } = loadProjectFiles();
  lakehouse = await openLakehouse({ storage, openEngine: openNodeEngine, goldSql, silverSql, expectationsText, stopAfterCommit: () => stop });
  await lakehouse.run(options(1));
});

const goldInputAt = async (kpi: string, version: number) => (await loadSnapshot(storage, goldTable(kpi), version)).txns.get(GOLD_INPUT_APP_ID)?.version;

describe('the lineage the page reads', () => {
  it('after a run stopped in the middle of gold: the three gold tables not written are behind, and the consistent view shows all six from one silver version', async () => {
    stop = '7'; // bronze, rejects, quality, events, then three gold tables
    await expect(lakehouse.run(options(2))).rejects.toThrow('the run was stopped after commit 7 (gold/engagement_bands/_delta_log/00000000000000000001.json)');
    stop = undefined;
    const l = await lakehouse.lineage();
    expect(l.behind).toEqual(GOLD_TABLES.slice(3).map(goldTable));
    expect(l.tables.find((t) => t.table === goldTable('dropoff_rate'))!.behind).toBe(
      'gold/dropoff_rate was computed from silver/events v0; silver/events is at v1 — the last run stopped before gold',
    );
    expect((await lakehouse.tables()).filter((t) => t.layer === 'gold').map((t) => t.version)).toEqual([1, 1, 1, 0, 0, 0]);
    const consistent = GOLD_TABLES.map((g) => l.consistent[goldTable(g)]!);
    expect(consistent).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await Promise.all(GOLD_TABLES.map((g, i) => goldInputAt(g, consistent[i]!)))).toEqual([0, 0, 0, 0, 0, 0]);
    // What the dashboard draws at those versions: the rows of gold computed from silver/events v0.
    const shown = await lakehouse.goldTable('writing_velocity_daily', l.consistent[goldTable('writing_velocity_daily')]);
    expect(shown.version).toBe(0);
    const sessions = (await lakehouse.query("SELECT count(*) AS n FROM silver_events@v0 WHERE event_type = 'writing_session'")).rows[0]![0];
    expect(shown.rows.reduce((s, r) => s + Number(r.sessions), 0)).toBe(Number(sessions));
    expect(Number(sessions)).toBeGreaterThan(0);

    const repaired = await lakehouse.repair();
    expect(repaired.before.behind).toEqual(GOLD_TABLES.slice(3).map(goldTable));
    expect(repaired.gold.filter((g) => !g.current).map((g) => g.table)).toEqual(GOLD_TABLES.slice(3).map(goldTable));
    const after = await lakehouse.lineage();
    expect(after.behind).toEqual([]);
    expect(GOLD_TABLES.map((g) => after.consistent[goldTable(g)])).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await Promise.all(GOLD_TABLES.map((g) => goldInputAt(g, 1)))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('after a run stopped in the middle of silver: silver tables shown at the last batch all three took in', async () => {
    stop = '2'; // bronze, then silver/rejects
    await expect(lakehouse.run(options(3))).rejects.toThrow('the run was stopped after commit 2 (silver/rejects/_delta_log/00000000000000000002.json)');
    stop = undefined;
    const l = await lakehouse.lineage();
    expect(l.behind).toEqual([TABLES.silver, TABLES.quality]);
    expect(l.tables.find((t) => t.table === TABLES.silver)!.behind).toBe(
      'silver/events has taken in bronze/events up to v1; bronze is at v2 — the last run stopped before silver took it in',
    );
    expect([TABLES.silver, TABLES.rejects, TABLES.quality].map((t) => l.consistent[t])).toEqual([1, 1, 1]);
    expect((await loadSnapshot(storage, TABLES.rejects, 1)).txns.get(SILVER_APP_ID)?.version).toBe(1);
    expect((await lakehouse.tables()).find((t) => t.path === TABLES.rejects)!.version).toBe(2);

    const repaired = await lakehouse.repair();
    expect(repaired.silver.map((b) => b.bronzeVersion)).toEqual([2]);
    expect(repaired.after.behind).toEqual([]);
    expect((await lakehouse.lineage()).behind).toEqual([]);
    // A second repair has nothing to do.
    const again = await lakehouse.repair();
    expect([again.before.behind, again.silver, again.gold]).toEqual([[], [], []]);
  });
});

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

    // Every default read shows gold at those versions and says why, in the lineage's words.
    const note =
      'Showing gold as computed from silver/events v0, the version all its tables have reached (' +
      GOLD_TABLES.slice(0, 3)
        .map((g) => `${goldTable(g)} v0, latest v1`)
        .join('; ') +
      '); a newer batch is partly in — it finishes on the next run or reload.';
    expect(l.partlyIn).toEqual({ gold: note });
    const listed = (await lakehouse.tables()).filter((t) => t.layer === 'gold');
    expect(listed.map((t) => [t.version, t.partlyIn?.version, t.partlyIn?.note])).toEqual(GOLD_TABLES.map((_, i) => [i < 3 ? 1 : 0, 0, note]));
    expect((await lakehouse.goldTable('writing_velocity_daily')).rows).toEqual(shown.rows);
    expect((await lakehouse.goldTable('engagement_bands')).version).toBe(0);
    const plain = await lakehouse.query('SELECT count(*) FROM gold_engagement_bands');
    expect([plain.tables, plain.partlyIn]).toEqual([['gold_engagement_bands@v0'], [note]]);
    // Time travel still reaches the newer version.
    const newer = await lakehouse.query('SELECT count(*) FROM gold_engagement_bands@v1');
    expect([newer.tables, newer.partlyIn]).toEqual([['gold_engagement_bands@v1'], []]);
    expect((await lakehouse.goldTable('engagement_bands', 1)).version).toBe(1);

    const repaired = await lakehouse.repair();
    expect(repaired.before.behind).toEqual(GOLD_TABLES.slice(3).map(goldTable));
    expect(repaired.gold.filter((g) => !g.current).map((g) => g.table)).toEqual(GOLD_TABLES.slice(3).map(goldTable));
    const after = await lakehouse.lineage();
    expect(after.behind).toEqual([]);
    expect(GOLD_TABLES.map((g) => after.consistent[goldTable(g)])).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await Promise.all(GOLD_TABLES.map((g) => goldInputAt(g, 1)))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(after.partlyIn).toEqual({});
    expect((await lakehouse.tables()).some((t) => t.partlyIn)).toBe(false);
    expect((await lakehouse.goldTable('dropoff_rate')).version).toBe(1);
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

    // The one choice every default read makes: silver/rejects at v1, what the Explorer, Quality and the console's views show, saying so.
    const note =
      'Showing silver at bronze batch v1, the last one all its tables have taken in (silver/rejects v1, latest v2); a newer batch is partly in — it finishes on the next run or reload.';
    expect(l.partlyIn).toEqual({ silver: note });
    const count = async (sql: string) => Number((await lakehouse.query(sql)).rows[0]![0]);
    const [atBatch, atLatest] = [await count('SELECT count(*) FROM silver_rejects@v1'), await count('SELECT count(*) FROM silver_rejects@v2')];
    expect(atLatest).toBeGreaterThan(atBatch);
    const listed = await lakehouse.tables();
    const silver = [TABLES.silver, TABLES.rejects, TABLES.quality].map((p) => listed.find((t) => t.path === p)!);
    expect(silver.map((t) => [t.version, t.partlyIn])).toEqual([
      [1, { version: 1, rows: await count('SELECT count(*) FROM silver_events'), note }],
      [2, { version: 1, rows: atBatch, note }],
      [1, { version: 1, rows: await count('SELECT count(*) FROM silver_quality@v1'), note }],
    ]);
    expect(silver[1]!.rows).toBe(atLatest);
    expect(listed.find((t) => t.path === TABLES.bronze)!.partlyIn).toBeUndefined();
    expect((await lakehouse.table(TABLES.rejects)).partlyIn).toEqual({ version: 1, rows: atBatch, note });
    const page = await lakehouse.rows(TABLES.rejects);
    expect([page.version, page.total]).toEqual([1, atBatch]);
    expect((await lakehouse.profile(TABLES.rejects)).version).toBe(1);
    const quality = await lakehouse.quality();
    expect([quality.rejects, quality.partlyIn]).toEqual([atBatch, note]);
    const plain = await lakehouse.query('SELECT count(*) AS n FROM silver_rejects');
    expect([Number(plain.rows[0]![0]), plain.tables, plain.partlyIn]).toEqual([atBatch, ['silver_rejects@v1'], [note]]);
    // A WHERE reads only some files of the consistent version, still by its plain name.
    const where = await lakehouse.query("SELECT count(*) FROM silver_rejects WHERE stage = 'duplicate'");
    expect([where.files[0]!.table, where.partlyIn]).toEqual(['silver_rejects@v1', [note]]);
    const listing = await lakehouse.query('SHOW TABLES');
    expect(listing.rows.find((r) => r[1] === TABLES.rejects)).toEqual(['silver_rejects', TABLES.rejects, 'silver', '1', String(atBatch)]);
    // Time travel reaches every committed version, the newer one included.
    expect((await lakehouse.rows(TABLES.rejects, 2)).total).toBe(atLatest);
    expect((await lakehouse.query('SELECT count(*) FROM silver_rejects VERSION AS OF 2')).partlyIn).toEqual([]);

    const repaired = await lakehouse.repair();
    expect(repaired.silver.map((b) => b.bronzeVersion)).toEqual([2]);
    expect(repaired.after.behind).toEqual([]);
    expect((await lakehouse.lineage()).behind).toEqual([]);
    expect((await lakehouse.tables()).some((t) => t.partlyIn)).toBe(false);
    const latest = await lakehouse.query('SELECT count(*) FROM silver_rejects');
    expect([latest.tables, latest.partlyIn, Number(latest.rows[0]![0])]).toEqual([['silver_rejects@v2'], [], atLatest]);
    expect((await lakehouse.quality()).partlyIn).toBeUndefined();
    // A second repair has nothing to do.
    const again = await lakehouse.repair();
    expect([again.before.behind, again.silver, again.gold]).toEqual([[], [], []]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadProjectFiles } from '../src/cli/context.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { GOLD_TABLES } from '../src/pipeline/tables.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { LESSON_GOLD, openSandbox, type Sandbox } from '../src/worker/learn.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

/**
 * The Learn tab's lesson steps on a folder instead of OPFS, in the order a learner takes them:
 * what each step answers, checked against the tables it changed.
 */
describe('the lessons’ sandbox lakehouse', () => {
  let sandbox: Sandbox;
  let storage: NodeStorage;
  let dir: string;
  let user: Awaited<ReturnType<typeof nodeLakehouse>>;

  beforeAll(async () => {
    initParquet();
    dir = await mkdtemp(join(tmpdir(), 'learn-'));
    const { goldSql, silverSql, expectationsText } = loadProjectFiles();
    storage = new NodeStorage(dir);
    sandbox = await openSandbox({ storage, openEngine: openNodeEngine, goldSql, silverSql, expectationsText });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    if (user) await rm(user.dir, { recursive: true, force: true });
  });

  test('the user’s lakehouse in the same DuckDB is another one', async () => {
    user = await nodeLakehouse();
    await user.lakehouse.run({ events: 200, seed: 3, days: 5, invalidRate: 0 });
    expect((await user.lakehouse.query('SELECT count(*) FROM silver_events@v0')).rows).toEqual([['200']]);
    expect(await sandbox.tables()).toEqual([]);
  });

  test('layers: one batch lands in bronze whole, in silver or rejects line by line, and recomputes gold', async () => {
    const b = await sandbox.runBatch();
    expect(b.bronzeRows).toBe(40);
    expect(b.silverRows + b.rejectedRows).toBe(40);
    expect(b.rejectedRows).toBeGreaterThan(0);
    expect(b.rejects.rows).toHaveLength(b.rejectedRows);
    expect(b.rejects.columns.map((c) => c.name)).toEqual(['stage', 'reasons', 'errors', 'raw']);
    expect(Object.values(b.rejectsByReason).reduce((s, n) => s + n, 0)).toBeGreaterThanOrEqual(b.rejectedRows);
    expect(b.commits.map((c) => [c.path, c.version])).toEqual([
      ['bronze/events', 0],
      ['silver/events', 0],
      ['silver/rejects', 0],
      ['silver/quality', 0],
      ...GOLD_TABLES.map((g) => [`gold/${g}`, 0]),
    ]);
    const rows = Object.fromEntries(b.tables.map((t) => [t.path, t.rows]));
    expect([rows['bronze/events'], rows['silver/events'], rows['silver/rejects']]).toEqual([40, b.silverRows, b.rejectedRows]);
  });

  test('commit: version 0 creates the table, a later commit only adds; an overwrite removes', async () => {
    const created = await sandbox.commit('silver/events', 0);
    expect(created.actions.map((a) => a.kind)).toEqual(['commitInfo', 'protocol', 'metaData', 'add', 'txn']);
    const b = await sandbox.runBatch();
    const silver = b.commits.find((c) => c.path === 'silver/events')!;
    expect(silver.version).toBe(1);
    const next = await sandbox.commit('silver/events', 1);
    expect(next.actions.map((a) => a.kind)).toEqual(['commitInfo', 'add', 'txn']);
    expect(JSON.parse(next.actions[2]!.json)).toMatchObject({ txn: { appId: 'creatorops-silver', version: 1 } });
    const gold = await sandbox.commit(LESSON_GOLD, 1);
    const kinds = gold.actions.map((a) => a.kind);
    expect(kinds[0]).toBe('commitInfo');
    expect(kinds.filter((k) => k === 'remove')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'add')).toHaveLength(1);
    expect(JSON.parse(gold.actions[0]!.json).commitInfo.operation).toBe('CREATE OR REPLACE TABLE AS SELECT');
  });

  test('time travel: version N and N+1 of silver differ by exactly one batch', async () => {
    const b = await sandbox.runBatch();
    const v = b.commits.find((c) => c.path === 'silver/events')!.version;
    const [before, after] = [await sandbox.rowsAt('silver/events', v - 1), await sandbox.rowsAt('silver/events', v)];
    expect(after.byBatch.slice(0, -1)).toEqual(before.byBatch);
    expect(after.byBatch.at(-1)).toEqual({ batchId: b.batchId, rows: b.silverRows });
    expect(after.total - before.total).toBe(b.silverRows);
  });

  test('contracts: an edited line lands in rejects with the rule it broke', async () => {
    const line = await sandbox.sampleEvent();
    const good = await sandbox.ingest(line);
    expect([good.silverRows, good.rejectedRows]).toEqual([1, 0]);
    const event = JSON.parse(line) as Record<string, unknown>;
    const schema = await sandbox.ingest(JSON.stringify({ ...event, event_id: 'lesson-1', event_type: 'teleport' }));
    expect([schema.silverRows, schema.rejectedRows]).toEqual([0, 1]);
    expect(schema.rejects.rows[0]![0]).toBe('schema');
    expect(schema.rejects.rows[0]![2]).toContain('event_type');
    const future = await sandbox.ingest(JSON.stringify({ ...event, event_id: 'lesson-2', occurred_at: '2099-01-01T00:00:00Z' }));
    expect(future.rejects.rows.map((r) => [r[0], r[1]])).toEqual([['expectation', '[occurred_at_not_in_future]']]);
  });

  test('OPTIMIZE compacts bronze into one file with the same rows; VACUUM makes the old versions unreadable', async () => {
    const before = await sandbox.fileMap('bronze/events');
    const live = before.versions.at(-1)!.files.length;
    expect(live).toBe(before.versions.length);
    const o = await sandbox.optimize('bronze/events');
    expect(o.result.filesRemoved).toBe(live);
    expect(o.result.filesAdded).toBe(1);
    const kinds = o.commit!.actions.map((a) => a.kind);
    expect(kinds.filter((k) => k === 'remove')).toHaveLength(live);
    expect(o.commit!.actions.filter((a) => a.kind !== 'commitInfo').every((a) => JSON.parse(a.json)[a.kind].dataChange === false)).toBe(true);
    expect(o.rows[1]!.byBatch).toEqual(o.rows[0]!.byBatch);
    expect(o.map.versions.at(-1)!.files).toHaveLength(1);
    const v = await sandbox.vacuum('bronze/events');
    expect(v.result.files).toHaveLength(live);
    expect(v.map.files.filter((f) => !f.present)).toHaveLength(live);
    expect(v.oldRead.error).toMatch(/bronze\/events/);
    expect(v.oldRead.rows).toBeUndefined();
    expect(v.latest.byBatch).toEqual(o.rows[0]!.byBatch);
  });

  test('checkpoints: bronze grows to the next multiple of ten, and a reader starts from its checkpoint', async () => {
    const log = await sandbox.fillToCheckpoint();
    expect(log.latest).toBe(10);
    expect(log.files.map((f) => f.name)).toContain('00000000000000000010.checkpoint.parquet');
    expect(JSON.parse(log.lastCheckpoint!)).toMatchObject({ version: 10 });
    expect(log.readerStart).toBe(10);
    expect(log.readerCommits).toEqual([]);
    const one = await sandbox.runBatch();
    const after = await sandbox.logView('bronze/events');
    expect([after.readerStart, after.readerCommits]).toEqual([10, [11]]);
    // silver took in the small bronze batches too, and every one once
    expect(one.commits.some((c) => c.path === 'silver/events')).toBe(true);
  });

  test('optimistic concurrency: two writers read one version, one commits after the other, nothing lost', async () => {
    const bronzeBefore = (await sandbox.logView('bronze/events')).latest;
    const r = await sandbox.race();
    const lost = r.attempts.filter((a) => !a.won && a.file.startsWith('bronze/'));
    expect(lost).toHaveLength(1);
    expect(lost[0]!.version).toBe(bronzeBefore + 1);
    const loser = r.bronze.find((b) => b.writer === lost[0]!.writer)!;
    const winner = r.bronze.find((b) => b.writer !== lost[0]!.writer)!;
    // Both read the same version; the loser's commit says it was checked against the winner's.
    expect([winner.version, winner.readVersion]).toEqual([bronzeBefore + 1, bronzeBefore]);
    expect([loser.version, loser.readVersion]).toEqual([bronzeBefore + 2, bronzeBefore + 1]);
    expect(r.attempts.filter((a) => a.writer === loser.writer && a.file.startsWith('bronze/')).map((a) => [a.version, a.won])).toEqual([
      [bronzeBefore + 1, false],
      [bronzeBefore + 2, true],
    ]);
    expect(r.silver.map((s) => s.rows)).toEqual([20, 20]);
    const silver = await sandbox.rowsAt('silver/events', r.silverVersion);
    for (const b of r.bronze) expect(silver.byBatch.filter((x) => x.batchId === b.batchId)).toEqual([{ batchId: b.batchId, rows: 20 }]);
  });

  test('idempotence: re-running silver commits nothing, and the same txn again is refused', async () => {
    const parquetFiles = async () =>
      (await storage.list('silver/events'))
        .filter((f) => f.path.endsWith('.parquet') && !f.path.includes('_delta_log'))
        .map((f) => f.path)
        .sort();
    // Files an earlier lesson's lost race left behind (orphans until a VACUUM) are not the replay's.
    const filesBefore = await parquetFiles();
    const r = await sandbox.rerun();
    expect(r.txn).toEqual({ appId: 'creatorops-silver', version: r.bronzeVersion });
    expect(r.processed).toBe(0);
    expect(r.afterVersion).toBe(r.before.version);
    expect(r.replay.refused).toBe(true);
    expect(r.replay.message).toContain(`application creatorops-silver already committed its transaction ${r.txn.version}`);
    expect(r.after).toEqual(r.before);
    const table = await sandbox.lakehouse.table('silver/events');
    expect(table.version).toBe(r.before.version);
    // the replay's data files were deleted: the folder holds the same Parquet files as before it,
    // and every file the table lists is among them
    const onDisk = await parquetFiles();
    expect(onDisk).toEqual(filesBefore);
    expect(table.dataFiles.map((f) => `silver/events/${f.path}`).filter((p) => !onDisk.includes(p))).toEqual([]);
  });

  test('reset empties the sandbox, and the user’s lakehouse never saw any of it', async () => {
    await sandbox.reset();
    expect(await sandbox.tables()).toEqual([]);
    // Both had a silver_events@v0 in DuckDB (the console's and the cache's tables): each kept its own.
    expect((await user.lakehouse.query('SELECT count(*) FROM silver_events@v0')).rows).toEqual([['200']]);
    expect((await user.lakehouse.tables()).map((t) => [t.path, t.version]).slice(0, 2)).toEqual([
      ['bronze/events', 0],
      ['silver/events', 0],
    ]);
  });

  test('a lesson opened first, by its link, works on an empty sandbox: two writers race to create bronze', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'learn-fresh-'));
    try {
      const { goldSql, silverSql, expectationsText } = loadProjectFiles();
      const empty = await openSandbox({ storage: new NodeStorage(fresh), openEngine: openNodeEngine, goldSql, silverSql, expectationsText });
      const r = await empty.race();
      expect(
        r.attempts
          .filter((a) => a.file.startsWith('bronze/'))
          .map((a) => [a.version, a.won])
          .sort(),
      ).toEqual([
        [0, false],
        [0, true],
        [1, true],
      ]);
      expect(r.bronze.map((b) => b.version).sort()).toEqual([0, 1]);
      expect(r.silver.map((s) => s.rows)).toEqual([20, 20]);
      expect((await empty.rowsAt('bronze/events', 1)).total).toBe(40);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});

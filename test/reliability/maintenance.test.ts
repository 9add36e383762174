import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Float64, Table, Utf8, tableFromArrays, vectorFromArray, type Vector } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { isAdd, isCommitInfo, isRemove } from '../../src/delta/actions.ts';
import { loadHistory, loadSnapshot, readCommit } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { writeTable } from '../../src/delta/writer.ts';
import { optimizeTable } from '../../src/delta/optimize.ts';
import { parseIntervalHours, vacuumTable } from '../../src/delta/vacuum.ts';
import { nodeTemporaryFiles, optimizeCommand, vacuumCommand } from '../../src/cli/maintenance.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch } from '../../src/pipeline/lakehouse.ts';
import { TABLES } from '../../src/pipeline/tables.ts';
import type { Storage } from '../../src/storage/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { pipelineContext } from '../helpers/pipeline.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';
import { checkLakehouse } from './invariants.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const DAY = 86_400_000;
const SILVER_TABLES = [TABLES.silver, TABLES.rejects, TABLES.quality];

/** Every row of `table` at `version`, as sorted JSON text: a multiset to compare. */
async function rowsAt(storage: Storage, table: string, version: number): Promise<string[]> {
  await scanIntoEngine(engine, storage, await loadSnapshot(storage, table, version), 'm_rows');
  return engine
    .rows('SELECT * FROM m_rows')
    .map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)))
    .sort();
}

async function lakehouse(batches: number): Promise<{ dir: string; storage: NodeStorage }> {
  const dir = mkdtempSync(join(tmpdir(), 'maint-'));
  const storage = new NodeStorage(dir);
  for (let seed = 1; seed <= batches; seed++) {
    await runBatch(pipelineContext(engine, storage), generateEvents({ events: 800, seed, days: 10, invalidRate: 0.05 }), 'generator');
  }
  return { dir, storage };
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write: (c, _e, done) => {
      text += String(c);
      done();
    },
  });
  return { stream, text: () => text };
}

describe('OPTIMIZE', () => {
  it('compacts the small files of the silver tables in one dataChange:false commit; every version reads the same rows', async () => {
    const { storage } = await lakehouse(3);
    const before = new Map<string, string[][]>();
    for (const t of SILVER_TABLES) {
      const latest = (await loadSnapshot(storage, t)).version;
      const versions: string[][] = [];
      for (let v = 0; v <= latest; v++) versions.push(await rowsAt(storage, t, v));
      before.set(t, versions);
    }
    for (const t of SILVER_TABLES) {
      const filesBefore = (await loadSnapshot(storage, t)).files;
      const r = await optimizeTable(storage, t);
      expect(r.version, t).toBe(3);
      expect(r.filesRemoved, t).toBe(filesBefore.length);
      expect(r.filesAdded, t).toBe(1);
      const actions = await readCommit(storage, t, 3);
      expect(actions.find(isCommitInfo)!.commitInfo.operation).toBe('OPTIMIZE');
      expect(actions.filter(isRemove).map((a) => a.remove.dataChange)).toEqual(filesBefore.map(() => false));
      expect(actions.filter(isAdd).map((a) => a.add.dataChange)).toEqual([false]);
      expect(await validateDeltaTable(storage, t, engine), t).toEqual([]);
      const old = before.get(t)!;
      for (let v = 0; v < old.length; v++) expect(await rowsAt(storage, t, v), `${t} v${v}`).toEqual(old[v]);
      expect(await rowsAt(storage, t, 3), `${t} v3`).toEqual(old.at(-1));
      const h = (await loadHistory(storage, t))[0]!;
      expect([h.operation, h.rowsAdded, h.rowsRemoved]).toEqual(['OPTIMIZE', old.at(-1)!.length, old.at(-1)!.length]);
      // One file left: nothing worth doing, no commit.
      expect((await optimizeTable(storage, t)).version).toBeNull();
    }
    // The pipeline goes on over compacted silver: later batches land whole, gold equals its SQL.
    await runBatch(pipelineContext(engine, storage), generateEvents({ events: 800, seed: 4, days: 10, invalidRate: 0.05 }), 'generator');
    const check = await checkLakehouse(storage, engine, { complete: true });
    expect(check.problems).toEqual([]);
    expect(check.batchesChecked).toBe(4);
  });

  it('compacts per partition, leaves a partition with one small file alone, and never merges files of different schemas', async () => {
    const storage = new MemoryStorage();
    const append = (day: string[], n: number[], tag?: (string | null)[]) => {
      const columns: Record<string, Vector> = { day: vectorFromArray(day, new Utf8()), n: vectorFromArray(n, new Float64()) };
      if (tag) columns.tag = vectorFromArray(tag, new Utf8());
      return writeTable(storage, 't', new Table(columns), { mode: 'append', partitionBy: ['day'] });
    };
    await append(['a', 'a', 'b'], [1, 2, 3], ['x', 'y', 'z']);
    await append(['a', 'c'], [4, 5], ['w', null]);
    await append(['a'], [6]); // no `tag` column: another Parquet schema
    await append(['a'], [7]);
    const rows = [];
    for (let v = 0; v <= 3; v++) rows.push(await rowsAt(storage, 't', v));
    const r = await optimizeTable(storage, 't');
    // day=a: [tag, tag] -> 1 file and [no tag, no tag] -> 1 file; b and c have one file each.
    expect([r.version, r.filesRemoved, r.filesAdded, r.partitions, r.rows]).toEqual([4, 4, 2, 1, 5]);
    const snap = await loadSnapshot(storage, 't');
    expect(snap.files.map((f) => f.partitionValues.day).sort()).toEqual(['a', 'a', 'b', 'c']);
    expect(snap.files.filter((f) => f.partitionValues.day === 'a').every((f) => f.path.startsWith('day=a/'))).toBe(true);
    expect(await validateDeltaTable(storage, 't', engine)).toEqual([]);
    for (let v = 0; v <= 3; v++) expect(await rowsAt(storage, 't', v)).toEqual(rows[v]);
    expect(await rowsAt(storage, 't', 4)).toEqual(rows[3]);
  });

  it('a concurrent append is not a conflict: the compaction commits after it and both rows survive', async () => {
    const storage = new MemoryStorage();
    for (const n of [1, 2, 3]) await writeTable(storage, 't', tableFromArrays({ n: Float64Array.from([n]) }), { mode: 'append' });
    const racing = Object.create(storage) as MemoryStorage;
    let raced = false;
    racing.putIfAbsent = async (path, data) => {
      if (!raced && path.endsWith('00000000000000000003.json')) {
        raced = true;
        await writeTable(storage, 't', tableFromArrays({ n: Float64Array.from([4]) }), { mode: 'append' });
      }
      return storage.putIfAbsent(path, data);
    };
    const r = await optimizeTable(racing, 't');
    expect([raced, r.version, r.filesRemoved]).toEqual([true, 4, 3]);
    expect(await rowsAt(storage, 't', 4)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    expect(await validateDeltaTable(storage, 't', engine)).toEqual([]);
  });

  it('a concurrent overwrite of the same files is a conflict: the compaction is planned again on the new version', async () => {
    const storage = new MemoryStorage();
    for (const n of [1, 2]) await writeTable(storage, 't', tableFromArrays({ n: Float64Array.from([n]) }), { mode: 'append' });
    const racing = Object.create(storage) as MemoryStorage;
    let raced = false;
    racing.putIfAbsent = async (path, data) => {
      if (!raced && path.endsWith('00000000000000000002.json')) {
        raced = true;
        await writeTable(storage, 't', tableFromArrays({ n: Float64Array.from([9]) }), { mode: 'overwrite' });
      }
      return storage.putIfAbsent(path, data);
    };
    const r = await optimizeTable(racing, 't');
    // After the overwrite there is one file: nothing left to compact, and the first attempt's file is gone.
    expect([raced, r.version, r.readVersion]).toEqual([true, null, 2]);
    expect((await storage.list('t')).filter((f) => !f.path.includes('_delta_log'))).toHaveLength(3);
    expect(await rowsAt(storage, 't', 2)).toEqual(['{"n":9}']);
  });
});

describe('VACUUM', () => {
  it('keeps what versions within the retention need, deletes expired and never-committed files, and old versions then fail clearly', async () => {
    const { dir, storage } = await lakehouse(2);
    const t = TABLES.silver;
    await optimizeTable(storage, t);
    const v0 = await rowsAt(storage, t, 0);
    const v2 = await rowsAt(storage, t, 2);
    // A file a killed writer left behind, 8 days old, and one just written (a write in progress).
    const orphan = join(dir, t, 'part-00000-0rphan00-0000-0000-0000-000000000000-c000.zstd.parquet');
    writeFileSync(orphan, 'not committed');
    utimesSync(orphan, new Date(Date.now() - 8 * DAY), new Date(Date.now() - 8 * DAY));
    const cut = join(dir, t, 'part-00001-cut0short.parquet.5678.tmp');
    writeFileSync(cut, 'a write cut short');
    utimesSync(cut, new Date(Date.now() - 8 * DAY), new Date(Date.now() - 8 * DAY));
    writeFileSync(join(dir, t, 'part-00001-young.parquet.1234.tmp'), 'in progress');
    const listTemporary = nodeTemporaryFiles(dir);

    // Default retention (7 days): the compacted files were removed just now, so every version stays readable.
    const week = await vacuumTable(storage, t, { listTemporary });
    expect(week.retentionHours).toBe(168);
    expect(week.files).toEqual([
      { path: 'part-00000-0rphan00-0000-0000-0000-000000000000-c000.zstd.parquet', size: 13, reason: 'untracked' },
      { path: 'part-00001-cut0short.parquet.5678.tmp', size: 17, reason: 'untracked' },
    ]);
    for (let v = 0; v <= 2; v++) await rowsAt(storage, t, v);
    expect(await rowsAt(storage, t, 0)).toEqual(v0);

    await expect(vacuumTable(storage, t, { retentionHours: 0 })).rejects.toThrow(
      `delta: vacuum of ${dir}/${t} refused: a retention of 0 hours is shorter than the table's 168 hours (delta.deletedFileRetentionDuration), ` +
        'so versions older than 0 hours could no longer be read (time travel) and a write still in progress could lose the files it has not committed yet; pass --force to vacuum anyway',
    );

    // Eight days on, the same retention lets the compacted files go.
    const dry = await vacuumTable(storage, t, { now: Date.now() + 8 * DAY, dryRun: true, listTemporary });
    // Eight days on, the file that was in flight then is old enough to go too.
    expect(dry.files.map((f) => [f.reason, f.path.endsWith('.tmp')])).toEqual([
      ['removed', false],
      ['removed', false],
      ['untracked', true],
    ]);
    expect((await storage.list(t)).length).toBeGreaterThan(dry.files.length);
    expect(dry.bytes).toBe(dry.files.reduce((s, f) => s + f.size, 0));
    for (let v = 0; v <= 2; v++) await rowsAt(storage, t, v); // dry run deleted nothing

    const forced = await vacuumTable(storage, t, { retentionHours: 0, force: true, listTemporary });
    // Now, not eight days on: the young .tmp may be a write in flight (younger than TEMPORARY_MIN_AGE_HOURS), so it stays even at 0 h.
    expect(forced.files.map((f) => f.path).sort()).toEqual(
      dry.files
        .map((f) => f.path)
        .filter((p) => !p.endsWith('.tmp'))
        .sort(),
    );
    expect((await listTemporary(t)).map((f) => f.path)).toEqual([`${t}/part-00001-young.parquet.1234.tmp`]);
    expect(await validateDeltaTable(storage, t, engine)).toEqual([]);
    expect(await rowsAt(storage, t, 2)).toEqual(v2);
    await expect(rowsAt(storage, t, 0)).rejects.toThrow(
      new RegExp(
        `^delta: version 0 of ${dir}/${t} cannot be read: its data file part-\\S+ is gone \\(VACUUM deletes the files that only versions older than its retention period need\\), so read a newer version$`,
      ),
    );
    expect((await storage.list(`${t}/_delta_log`)).length).toBe(3); // the log is untouched
  });

  it("follows the table's delta.deletedFileRetentionDuration", async () => {
    expect(parseIntervalHours('interval 7 days')).toBe(168);
    expect(parseIntervalHours('interval 1 day 12 hours')).toBe(36);
    expect(parseIntervalHours('2 weeks')).toBe(336);
    expect(() => parseIntervalHours('soon')).toThrow('delta: cannot read the interval "soon" (expected e.g. "interval 7 days")');
    const storage = new MemoryStorage();
    const data = tableFromArrays({ n: Float64Array.from([1]) });
    await writeTable(storage, 't', data, { mode: 'append', configuration: { 'delta.deletedFileRetentionDuration': 'interval 2 days' } });
    await writeTable(storage, 't', data, { mode: 'overwrite' });
    const r1 = await vacuumTable(storage, 't', { now: Date.now() + 1 * DAY });
    expect([r1.retentionHours, r1.files.length]).toEqual([48, 0]);
    const r3 = await vacuumTable(storage, 't', { now: Date.now() + 3 * DAY });
    expect(r3.files.map((f) => f.reason)).toEqual(['removed']);
    await expect(vacuumTable(storage, 't', { retentionHours: 24 })).rejects.toThrow("shorter than the table's 48 hours");
  });
});

describe('cli optimize and vacuum', () => {
  it('on a lakehouse root: every table is compacted, bronze too; vacuum --force 0 h then keeps only the latest files', async () => {
    const { dir, storage } = await lakehouse(2);
    const opt = sink();
    await optimizeCommand([dir], opt.stream);
    // Silver skips bronze commits that add no data, so bronze is compacted like any table.
    expect(opt.text()).toMatch(
      /^bronze\/events {2}version 2 OPTIMIZE: 2 files \([\d.]+ KB\) -> 1 file \([\d.]+ KB\), 1,600 rows, dataChange false; versions before 2 stay readable until VACUUM$/m,
    );
    expect(opt.text()).toMatch(
      /^silver\/events {2}version 2 OPTIMIZE: 2 files \([\d.]+ KB\) -> 1 file \([\d.]+ KB\), [\d,]+ rows, dataChange false; versions before 2 stay readable until VACUUM$/m,
    );
    expect(opt.text()).toMatch(/^gold\/engagement_bands {2}nothing to compact at version 1/m);
    const bronze = sink();
    await optimizeCommand([join(dir, 'bronze/events')], bronze.stream);
    expect(bronze.text()).toMatch(/bronze\/events {2}nothing to compact at version 2/);
    await expect(vacuumCommand([dir, '--retention-hours', '0'], sink().stream)).rejects.toThrow(/^delta: vacuum of \S+ refused/);
    const dry = sink();
    await vacuumCommand([dir, '--retention-hours', '0', '--force', '--dry-run'], dry.stream);
    expect(dry.text()).toMatch(/^ {2}would delete silver\/events\/part-\S+ {2}\d+ bytes \(removed\)$/m);
    expect(dry.text()).toMatch(/^total: would delete \d+ files/m);
    // A table whose first commit was cut short has a log folder and nothing else.
    mkdirSync(join(dir, 'gold/cut_short/_delta_log'), { recursive: true });
    writeFileSync(join(dir, 'gold/cut_short/_delta_log/00000000000000000000.crc'), '{}');
    const vac = sink();
    await vacuumCommand([dir, '--retention-hours', '0', '--force'], vac.stream);
    expect(vac.text()).toContain('gold/cut_short  skipped: its _delta_log has no commit yet (the first write was cut short); nothing to do\n');
    expect(vac.text()).toMatch(/^silver\/events {2}deleted 2 files \([\d.]+ KB\): 2 removed from the table, 0 never committed; retention 0 h/m);
    expect(vac.text()).toMatch(/^gold\/stage_bottlenecks {2}deleted 1 file /m);
    const check = await checkLakehouse(storage, engine, { complete: true });
    expect(check.problems).toEqual([]);
    // What is left is the log folder of the table that was never created: not a table, so not VACUUM's.
    expect([check.untrackedFiles, check.removedFiles]).toEqual([1, 0]);
    // On a single table folder.
    const one = sink();
    await vacuumCommand([join(dir, 'silver/events')], one.stream);
    expect(one.text()).toMatch(/silver\/events {2}deleted 0 files \(0\.0 KB\); retention 168 h/);
  });
});

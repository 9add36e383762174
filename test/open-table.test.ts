import { openAsBlob, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { pruneFiles, describePruning, type Condition } from '../src/delta/skipping.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { quoteIdent } from '../src/engine/duckdb.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet } from '../src/parquet/codec.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { consoleConditions, parseRowFilter } from '../src/worker/filter.ts';
import type { Lakehouse } from '../src/worker/lakehouse.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { MountedStorage, SeveralTablesError, folderSource, tablesIn, zipSource } from '../src/worker/opened.ts';
import type { FolderFile } from '../src/worker/protocol.ts';
import { zip } from '../src/zip.ts';
import { testEngine } from './helpers/engine.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

import { FIXTURES } from './helpers/fixtures.ts';
const fixture = (name: string) => new NodeStorage(join(FIXTURES, name, 'delta'));

/** A fixture's folder as the page gets it from `<input webkitdirectory>`: lazy Blobs, nothing read. */
async function folderFiles(name: string): Promise<FolderFile[]> {
  const top = join(FIXTURES, name);
  const out: FolderFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push({ path: relative(top, p).split('\\').join('/'), file: await openAsBlob(p), modified: (await stat(p)).mtimeMs });
    }
  };
  await walk(join(top, 'delta'));
  return out;
}

describe('file skipping from partition values and statistics', () => {
  test('partition values: year and month of delta-0.8.0-partitioned (6 files, one per day)', async () => {
    const snap = await loadSnapshot(fixture('delta-0.8.0-partitioned'), '');
    const prune = (conditions: Condition[]) => {
      const p = pruneFiles(snap, conditions);
      return [p.files.length, p.skippedByPartition, p.skippedByStats, p.files.map((a) => a.partitionValues.day).sort()];
    };
    expect(prune([{ column: 'year', op: '=', value: '2021' }])).toEqual([3, 3, 0, ['20', '4', '5']]);
    expect(
      prune([
        { column: 'year', op: '=', value: '2021' },
        { column: 'month', op: '=', value: '12' },
      ]),
    ).toEqual([2, 4, 0, ['20', '4']]);
    expect(prune([{ column: 'month', op: 'in', values: ['1', '4'] }])).toEqual([2, 4, 0, ['1', '5']]);
    // strings compare as strings: '12' < '2'
    expect(prune([{ column: 'month', op: '<', value: '2' }])).toEqual([3, 3, 0, ['1', '20', '4']]);
    expect(prune([{ column: 'year', op: 'is null' }])).toEqual([0, 6, 0, []]);
    // a number for a string column, or a column that is not partitioned and has no stats: every file
    expect(prune([{ column: 'year', op: '=', value: 2021 }])[0]).toBe(6);
    expect(prune([{ column: 'value', op: '=', value: '1' }])[0]).toBe(6);
  });

  test('min/max statistics: basic-with-inserts-overwrite-restore at versions 3 and 2', async () => {
    const storage = fixture('basic-with-inserts-overwrite-restore');
    const v3 = await loadSnapshot(storage, '', 3);
    const ranges = (conditions: Condition[]) => {
      const p = pruneFiles(v3, conditions);
      return {
        ranges: p.files.map((a) => JSON.parse(a.stats!).minValues.id as number).sort((a, b) => a - b),
        byStats: p.skippedByStats,
        text: describePruning(p),
      };
    };
    expect(
      ranges([
        { column: 'id', op: '>=', value: 140 },
        { column: 'id', op: '<', value: 160 },
      ]),
    ).toEqual({
      ranges: [100, 150],
      byStats: 2,
      text: 'read 2 of 4 files (2 skipped: 2 by statistics)',
    });
    expect(ranges([{ column: 'id', op: '=', value: 49 }]).ranges).toEqual([0]);
    expect(ranges([{ column: 'id', op: '=', value: 200 }]).ranges).toEqual([]);
    expect(ranges([{ column: 'id', op: '>', value: 149 }]).ranges).toEqual([150]);
    expect(ranges([{ column: 'id', op: '<=', value: 50 }]).ranges).toEqual([0, 50]);
    expect(ranges([{ column: 'id', op: 'in', values: [7, 120] }]).ranges).toEqual([0, 100]);
    expect(ranges([{ column: 'id', op: 'is null' }]).ranges).toEqual([]);
    expect(ranges([{ column: 'id', op: 'is not null' }]).ranges).toEqual([0, 50, 100, 150]);
    expect(ranges([{ column: 'id', op: '!=', value: 3 }]).ranges).toEqual([0, 50, 100, 150]);
    const v2 = pruneFiles(await loadSnapshot(storage, '', 2), [{ column: 'id', op: '=', value: 800 }]);
    expect([v2.files.length, v2.total, describePruning(v2)]).toEqual([1, 2, 'read 1 of 2 files (1 skipped: 1 by statistics)']);
  });
});

describe('reading the conditions of a filter or a WHERE clause', () => {
  const cols = ['id', 'year', 'Month', 'note'];
  test('row filters: every part understood, SQL rebuilt from it', () => {
    expect(parseRowFilter(`year = '2021' AND 4 <= "Month" and note is not null and id IN (1, -2)`, cols)).toEqual({
      conditions: [
        { column: 'year', op: '=', value: '2021' },
        { column: 'Month', op: '>=', value: 4 },
        { column: 'note', op: 'is not null' },
        { column: 'id', op: 'in', values: [1, -2] },
      ],
      sql: `"year" = '2021' AND "Month" >= 4 AND "note" IS NOT NULL AND "id" IN (1, -2)`,
    });
    expect(parseRowFilter('  ', cols)).toEqual({ conditions: [], sql: '' });
    expect(() => parseRowFilter("year = '2021' OR id = 1", cols)).toThrow(/is not understood/);
    expect(() => parseRowFilter('nope = 1', cols)).toThrow(/the columns are id, year, Month, note/);
    expect(() => parseRowFilter('id = 1; DROP TABLE x', cols)).toThrow(/is not understood/);
  });

  test('console WHERE: only what surely filters the one table', () => {
    const found = (sql: string) => {
      const r = consoleConditions(sql, (t) => t.kind === 'word' && t.text.toLowerCase() === 't', cols);
      return r && { conditions: r.conditions, table: sql.slice(r.start, r.end) };
    };
    expect(found("SELECT count(*) FROM t AS x WHERE x.year = '2021' AND id > 3 AND lower(note) = 'a' GROUP BY 1")).toEqual({
      conditions: [
        { column: 'year', op: '=', value: '2021' },
        { column: 'id', op: '>', value: 3 },
      ],
      table: 't',
    });
    expect(found('FROM t WHERE id <> 2 SELECT id')?.conditions).toEqual([{ column: 'id', op: '!=', value: 2 }]);
    // A top-level OR, BETWEEN or CASE: nothing is used.
    expect(found('SELECT * FROM t WHERE id = 1 OR id = 2')?.conditions).toEqual([]);
    expect(found('SELECT * FROM t WHERE id BETWEEN 1 AND 2')?.conditions).toEqual([]);
    expect(found('SELECT * FROM t WHERE CASE WHEN note IS NULL AND id = 1 AND true THEN 1 END = 1')?.conditions).toEqual([]);
    // Joins, set operations, WITH, a subquery: no skipping at all.
    expect(found('SELECT * FROM t JOIN range(3) r ON true WHERE id = 1')).toBeUndefined();
    expect(found('SELECT * FROM t WHERE id = 1 UNION ALL SELECT 1, 2, 3, 4')).toBeUndefined();
    expect(found('WITH a AS (SELECT 1) SELECT * FROM t WHERE id = 1')).toBeUndefined();
    expect(found('SELECT * FROM (SELECT * FROM t) WHERE id = 1')).toBeUndefined();
    expect(found('SELECT * FROM t WHERE id = 1 AND id IN (SELECT 1 FROM t)')).toBeUndefined();
  });
});

test('mounted tables are read-only; the rest of the storage is not', async () => {
  const base = new MemoryStorage();
  const mounted = new MountedStorage(base);
  const source = new MemoryStorage();
  await source.write('t/_delta_log/00000000000000000000.json', new TextEncoder().encode('{}'));
  mounted.mount('opened/t', { name: 't', kind: 'zip', storage: source, root: 't' });
  expect((await mounted.list('opened/t')).map((f) => f.path)).toEqual(['opened/t/_delta_log/00000000000000000000.json']);
  expect(new TextDecoder().decode(await mounted.read('opened/t/_delta_log/00000000000000000000.json'))).toBe('{}');
  await expect(mounted.write('opened/t/a.parquet', new Uint8Array(1))).rejects.toThrow('opened/t/a.parquet belongs to an opened table, which is read-only');
  await expect(mounted.deleteDir('opened/t')).rejects.toThrow('read-only');
  await mounted.write('silver/x', new Uint8Array(1));
  expect((await base.list('')).map((f) => f.path)).toEqual(['silver/x']);
  expect(await source.list('')).toHaveLength(1);
});

describe('an opened table works like the lakehouse’s own', () => {
  let lakehouse: Lakehouse;
  let dir: string;
  let engine: Engine;
  beforeAll(async () => {
    ({ lakehouse, dir } = await nodeLakehouse());
    engine = await testEngine();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Rows of `relation` (an SQL relation of `engine`) minus rows of the expected Parquet file, both ways. */
  function sameRows(rows: (string | null)[][], columns: string[], expectedFile: string, where = 'true'): void {
    engine.insertIPC('expected_rows', decodeParquet(readFileSync(expectedFile)));
    const expected = engine
      .rows<Record<string, unknown>>(
        `SELECT ${columns.map((c) => `${quoteIdent(c)}::VARCHAR AS ${quoteIdent(c)}`).join(', ')} FROM expected_rows WHERE ${where} ORDER BY ALL`,
      )
      .map((r) => columns.map((c) => (r[c] ?? null) as string | null));
    engine.run('DROP TABLE expected_rows');
    const sorted = [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    expected.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    expect(sorted).toEqual(expected);
  }

  test('a folder: read lazily, rows at any version, console with time travel, files skipped', async () => {
    const files = await folderFiles('basic-with-inserts-overwrite-restore');
    const source = folderSource('basic-with-inserts-overwrite-restore', files);
    await expect(source.storage.write('delta/x', new Uint8Array(1))).rejects.toThrow(
      'folder basic-with-inserts-overwrite-restore is an opened table: it is read-only',
    );
    const t = await lakehouse.open(source);
    expect([t.path, t.view, t.layer, t.version, t.rows, t.files]).toEqual([
      'opened/basic_with_inserts_overwrite_restore',
      'opened_basic_with_inserts_overwrite_restore',
      'opened',
      3,
      200,
      4,
    ]);
    // Only the log was read so far.
    expect(await lakehouse.openedReads(t.path)).toEqual({ kind: 'folder', read: [], requests: null });
    // The lakehouse's own table list is unchanged.
    expect(await lakehouse.tables()).toEqual([]);

    const page = await lakehouse.rows(t.path, 2, 1000);
    expect([page.version, page.total, page.rows.length]).toEqual([2, 500, 500]);
    sameRows(page.rows, ['id'], join(FIXTURES, 'basic-with-inserts-overwrite-restore/expected-versions/v2.parquet'));
    expect((await lakehouse.openedReads(t.path)).read).toHaveLength(2);

    const filtered = await lakehouse.rows(t.path, undefined, 100, 0, 'id >= 140 AND id < 160');
    expect([filtered.version, filtered.total, filtered.filter?.text, filtered.filter?.read]).toEqual([
      3,
      20,
      'read 2 of 4 files (2 skipped: 2 by statistics)',
      2,
    ]);
    sameRows(filtered.rows, ['id'], join(FIXTURES, 'basic-with-inserts-overwrite-restore/expected-versions/v3.parquet'), 'id >= 140 AND id < 160');
    // Two more files of version 3 read, not four.
    expect((await lakehouse.openedReads(t.path)).read).toHaveLength(4);

    const q = await lakehouse.query('SELECT min(id), max(id), count(*) FROM opened_basic_with_inserts_overwrite_restore WHERE id >= 140 AND id < 160');
    expect(q.rows).toEqual([['140', '159', '20']]);
    expect(q.files.map((f) => [f.table, f.read, f.total, f.text])).toEqual([
      ['opened_basic_with_inserts_overwrite_restore@v3', 2, 4, 'read 2 of 4 files (2 skipped: 2 by statistics)'],
    ]);
    const old = await lakehouse.query('SELECT count(*), min(id), max(id) FROM opened_basic_with_inserts_overwrite_restore VERSION AS OF 2 WHERE id = 800');
    expect([old.rows, old.files[0]!.text]).toEqual([[['1', '800', '800']], 'read 1 of 2 files (1 skipped: 1 by statistics)']);
    const v1 = await lakehouse.query('SELECT count(*) FROM opened_basic_with_inserts_overwrite_restore@v1');
    expect([v1.rows, v1.files[0]!.text]).toEqual([[['200']], 'read 4 of 4 files']);
    // the whole table at version 3 as the expected rows
    const all = await lakehouse.query('SELECT id::VARCHAR AS id FROM opened_basic_with_inserts_overwrite_restore');
    sameRows(all.rows, ['id'], join(FIXTURES, 'basic-with-inserts-overwrite-restore/expected-versions/v3.parquet'));

    const profile = await lakehouse.profile(t.path, 3);
    expect(profile.rows).toBe(200);
    expect(profile.columns.map((c) => [c.name, c.nulls, c.distinct, c.min, c.max])).toEqual([['id', 0, 200, '0', '199']]);
    // Read-only
    await expect(lakehouse.query('DELETE FROM opened_basic_with_inserts_overwrite_restore')).rejects.toThrow('the console is read-only');
  });

  test('a .zip with partitions: skipping by partition values, exact rows', async () => {
    const storage = fixture('delta-0.8.0-partitioned');
    const entries = [];
    for (const f of await storage.list('')) entries.push({ name: `delta/${f.path}`, data: await storage.read(f.path) });
    // Opened from a file, as the page hands over the File the user picked: read in place, lazily.
    const folder = await mkdtemp(join(tmpdir(), 'opened-zip-'));
    const file = join(folder, 'Partitioned.zip');
    await writeFile(file, zip(entries));
    const source = await zipSource('Partitioned.zip', await openAsBlob(file));
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    await expect(source.storage.write('delta/x', new Uint8Array(1))).rejects.toThrow('archive Partitioned.zip is read-only');
    const t = await lakehouse.open(source);
    expect([t.path, t.view, t.partitionColumns]).toEqual(['opened/partitioned', 'opened_partitioned', ['year', 'month', 'day']]);
    expect(await lakehouse.openedReads(t.path)).toEqual({ kind: 'zip', read: [], requests: null });
    const q = await lakehouse.query("SELECT value, month, day FROM opened_partitioned p WHERE p.year = '2021' AND month = '12' ORDER BY value");
    expect(q.rows).toEqual([
      ['5', '12', '4'],
      ['6', '12', '20'],
      ['7', '12', '20'],
    ]);
    expect(q.files[0]!.text).toBe('read 2 of 6 files (4 skipped: 4 by partition values)');
    // Only those two entries were inflated.
    expect((await lakehouse.openedReads(t.path)).read!.map((p) => p.replace(/part-.*$/, ''))).toEqual([
      'delta/year=2021/month=12/day=20/',
      'delta/year=2021/month=12/day=4/',
    ]);
    const page = await lakehouse.rows(t.path, 0, 100, 0, "year = '2020'");
    expect([page.total, page.filter?.text]).toEqual([3, 'read 3 of 6 files (3 skipped: 3 by partition values)']);
    sameRows(page.rows, ['value', 'year', 'month', 'day'], join(FIXTURES, 'delta-0.8.0-partitioned/expected-versions/v0.parquet'), "year = '2020'");
    // Both opened tables are in the console.
    const both = await lakehouse.query(
      'SELECT (SELECT count(*) FROM opened_partitioned) + (SELECT count(*) FROM opened_basic_with_inserts_overwrite_restore@v0)',
    );
    expect(both.rows).toEqual([['107']]);
  });

  test('an archive of several tables (an exported lakehouse) names them and opens the one chosen', async () => {
    const entries = [];
    for (const name of ['delta-0.8.0-partitioned', 'basic-with-inserts-overwrite-restore']) {
      const storage = fixture(name);
      for (const f of await storage.list('')) entries.push({ name: `lake/${name}/${f.path}`, data: await storage.read(f.path) });
    }
    const archive = zip(entries);
    expect(await tablesIn('two.zip', archive)).toEqual(['lake/basic-with-inserts-overwrite-restore', 'lake/delta-0.8.0-partitioned']);
    const refused = zipSource('two.zip', archive);
    await expect(refused).rejects.toBeInstanceOf(SeveralTablesError);
    await expect(refused).rejects.toThrow(
      'two.zip holds 2 Delta tables (lake/basic-with-inserts-overwrite-restore, lake/delta-0.8.0-partitioned): choose one to open, ' +
        'or bring a whole exported lakehouse in with “Import a lakehouse (.zip)” in the Explorer',
    );
    await expect(zipSource('two.zip', archive, 'lake/nope')).rejects.toThrow('two.zip has no Delta table in its folder lake/nope');
    const t = await lakehouse.open(await zipSource('two.zip', archive, 'lake/delta-0.8.0-partitioned'));
    expect([t.path, t.rows, t.partitionColumns]).toEqual(['opened/two_lake_delta_0_8_0_partitioned', null, ['year', 'month', 'day']]);
    const files = entries.map((e) => ({ path: e.name, file: new Blob([e.data.slice()]) }));
    expect(() => folderSource('lake', files)).toThrow(SeveralTablesError);
    expect(folderSource('lake', files, 'lake/basic-with-inserts-overwrite-restore').root).toBe('lake/basic-with-inserts-overwrite-restore');
  });

  test('a table that needs a reader feature this reader does not have is refused with the reason, and not mounted', async () => {
    const storage = fixture('basic-with-inserts-updates');
    const entries = [];
    for (const f of await storage.list('')) {
      let data = await storage.read(f.path);
      if (f.path === '_delta_log/00000000000000000000.json') {
        const lines = new TextDecoder()
          .decode(data)
          .split('\n')
          .filter((l) => l && !l.startsWith('{"protocol"'));
        const future = { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['futureFeature'], writerFeatures: ['futureFeature'] } };
        data = new TextEncoder().encode(`${[...lines, JSON.stringify(future)].join('\n')}\n`);
      }
      entries.push({ name: f.path, data });
    }
    await expect(lakehouse.open(await zipSource('future.zip', zip(entries)))).rejects.toThrow(
      'delta: future.zip needs the reader feature "futureFeature", which this reader does not support: unknown feature',
    );
    await expect(lakehouse.table('opened/future')).rejects.toThrow('there is no table "opened/future"');
    await expect(lakehouse.query('SELECT * FROM opened_future')).rejects.toThrow(/opened_future/);
  });

  test('a table with deletion vectors: its facts, rows, files and console leave the deleted rows out', async () => {
    const storage = fixture('dv-spark-partitioned');
    const entries = [];
    for (const f of await storage.list('')) entries.push({ name: f.path, data: await storage.read(f.path) });
    const t = await lakehouse.open(await zipSource('dv.zip', zip(entries)));
    expect([t.path, t.version, t.rows, t.files]).toEqual(['opened/dv', 6, 16, 5]);
    const details = await lakehouse.table(t.path);
    expect(details.dataFiles.reduce((s, f) => s + (f.rows ?? 0), 0)).toBe(16);
    // per file: the rows left (north 8, south 7, west 1 in Spark's read) and the rows its vector deletes
    expect(details.dataFiles.map((f) => [f.path.split('/')[0], f.rows, f.deletedRows]).sort()).toEqual([
      ['region=north', 8, 7],
      ['region=south', 1, 1],
      ['region=south', 2, 13],
      ['region=south', 4, 2],
      ['region=west', 1, 1],
    ]);
    const page = await lakehouse.rows(t.path, undefined, 100);
    expect([page.total, page.rows.length]).toEqual([16, 16]);
    sameRows(page.rows, ['id', 'amount', 'region'], join(FIXTURES, 'dv-spark-partitioned/expected-versions/v6.parquet'));
    const q = await lakehouse.query("SELECT count(*), sum(amount) FROM opened_dv WHERE region = 'north'");
    engine.insertIPC('dv_expected', decodeParquet(readFileSync(join(FIXTURES, 'dv-spark-partitioned/expected-versions/v6.parquet'))));
    const expected = engine.rows<{ n: bigint; s: bigint }>("SELECT count(*) AS n, sum(amount) AS s FROM dv_expected WHERE region = 'north'");
    engine.run('DROP TABLE dv_expected');
    expect(Number(expected[0]!.n)).toBeGreaterThan(0);
    expect(q.rows).toEqual([[String(expected[0]!.n), String(expected[0]!.s)]]);
    const v2 = await lakehouse.rows(t.path, 2, 100);
    expect(v2.total).toBe(33);
  });
});

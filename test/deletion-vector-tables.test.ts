import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Int32, List, Map_, Struct, Table, Utf8, tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAdd, isRemove, type Add, type DeletionVectorDescriptor } from '../src/delta/actions.ts';
import { writeCheckpoint } from '../src/delta/checkpoint-writer.ts';
import { deletionVectorFile } from '../src/delta/deletion-vectors.ts';
import { keepRows } from '../src/delta/keep-rows.ts';
import { optimizeTable } from '../src/delta/optimize.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { pruneFiles } from '../src/delta/skipping.ts';
import { loadHistory, loadSnapshot, numRecords, readCommit } from '../src/delta/snapshot.ts';
import { vacuumTable } from '../src/delta/vacuum.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet, encodeParquet } from '../src/parquet/codec.ts';
import { readRows } from '../src/delta/rows.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { importLakehouse } from '../src/worker/portable.ts';
import { zip } from '../src/zip.ts';
import { testEngine } from './helpers/engine.ts';
import { FIXTURES } from './helpers/fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A copy of a fixture table in memory, its files dated `mtime` (ms). */
async function copyOf(name: string, mtime = 0): Promise<MemoryStorage> {
  const source = new NodeStorage(join(FIXTURES, name, 'delta'));
  const copy = new MemoryStorage();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(mtime);
  for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
  vi.useRealTimers();
  return copy;
}

/** The rows of a table at a version, through the engine, sorted by every column, as JSON. */
async function rowsAt(storage: MemoryStorage | NodeStorage, version?: number): Promise<string[]> {
  const snap = await loadSnapshot(storage, '', version);
  await scanIntoEngine(engine, storage, snap, 'dv_rows');
  return engine.rows('SELECT * FROM dv_rows ORDER BY ALL').map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
}

const dvFile = (pathOrInlineDv: string): string => deletionVectorFile({ storageType: 'u', pathOrInlineDv, offset: 1, sizeInBytes: 0, cardinality: 0 })!;

async function rewriteCommit(storage: MemoryStorage, version: number, edit: (lines: string[]) => string[]): Promise<void> {
  const path = `_delta_log/${String(version).padStart(20, '0')}.json`;
  const lines = new TextDecoder()
    .decode(await storage.read(path))
    .split('\n')
    .filter(Boolean);
  await storage.write(path, new TextEncoder().encode(`${edit(lines).join('\n')}\n`));
}

describe('log replay of files with deletion vectors', () => {
  it('a remove of (path, old vector) and an add of (path, new vector) apply in either order', async () => {
    const expected = await rowsAt(new NodeStorage(join(FIXTURES, 'dv-spark-unpartitioned/delta')), 3);
    // Spark wrote the adds first; put the removes first.
    const storage = await copyOf('dv-spark-unpartitioned');
    for (const v of [2, 3]) await rewriteCommit(storage, v, (lines) => [...lines].reverse());
    const first = (await readCommit(storage, '', 2)).findIndex((a) => isRemove(a) || isAdd(a));
    expect(isRemove((await readCommit(storage, '', 2))[first]!)).toBe(true);
    expect(await rowsAt(storage, 3)).toEqual(expected);
    expect(expected).toHaveLength(51);
  });

  it('refuses a log in which one data file is live with two deletion vectors', async () => {
    const storage = await copyOf('dv-spark-unpartitioned');
    await rewriteCommit(storage, 3, (lines) => lines.filter((l) => !l.includes('"remove"') || !l.includes('part-00001-17f6f841')));
    await expect(loadSnapshot(storage, '', 3)).rejects.toThrow(
      'delta: version 3 of memory cannot be read: its log has data file part-00001-17f6f841-5ddc-4ede-893d-e91a4b0f34c3-c000.snappy.parquet live twice, with different deletion vectors',
    );
  });

  it('our checkpoint keeps each file’s deletion vector', async () => {
    const storage = await copyOf('dv-spark-unpartitioned');
    const replayed = await loadSnapshot(storage, '', 5);
    await writeCheckpoint(storage, '', replayed);
    await storage.delete('_delta_log/00000000000000000005.json');
    const fromCheckpoint = await loadSnapshot(storage, '', 5);
    const key = (a: Add) => {
      const dv = a.deletionVector;
      return JSON.stringify([a.path, dv ? [dv.storageType, dv.pathOrInlineDv, dv.offset, dv.sizeInBytes, dv.cardinality] : null]);
    };
    expect(fromCheckpoint.files.map(key).sort()).toEqual(replayed.files.map(key).sort());
    expect(replayed.files.filter((a) => a.deletionVector)).toHaveLength(4);
    expect(
      fromCheckpoint.tombstones
        .filter((r) => r.deletionVector)
        .map((r) => r.deletionVector!.pathOrInlineDv)
        .sort(),
    ).toEqual(
      replayed.tombstones
        .filter((r) => r.deletionVector)
        .map((r) => r.deletionVector!.pathOrInlineDv)
        .sort(),
    );
    expect(await rowsAt(storage, 5)).toEqual(await rowsAt(new NodeStorage(join(FIXTURES, 'dv-spark-unpartitioned/delta')), 5));
  });
});

describe('row counts of files with deletion vectors', () => {
  it('numRecords is the rows of the logical file', async () => {
    const snap = await loadSnapshot(new NodeStorage(join(FIXTURES, 'table-with-dv-small/delta')), '');
    expect(JSON.parse(snap.files[0]!.stats!).numRecords).toBe(10);
    expect(numRecords(snap.files[0]!)).toBe(8);
  });

  it('history counts a changed deletion vector as the rows it deleted', async () => {
    const history = await loadHistory(new NodeStorage(join(FIXTURES, 'dv-spark-unpartitioned/delta')), '');
    expect(history.reverse().map((h) => [h.version, h.operation, h.rowsAdded, h.rowsRemoved])).toEqual([
      [0, 'CREATE TABLE', 0, 0],
      [1, 'WRITE', 60, 0],
      [2, 'DELETE', 0, 9],
      [3, 'UPDATE', 10, 10],
      [4, 'MERGE', 4, 4], // 2 rows inserted and 2 updated; 2 deleted and 2 updated
      [5, 'DELETE', 0, 14],
      [6, 'DELETE', 0, 24],
      [7, 'WRITE', 2, 0],
    ]);
  });

  it('file skipping leaves out a file whose every row is deleted, and keeps wide bounds as bounds', async () => {
    const snap = await loadSnapshot(new NodeStorage(join(FIXTURES, 'table-with-dv-small/delta')), '');
    // value 9 is deleted, but max 9 is a bound (tightBounds false): the file is kept
    expect(pruneFiles(snap, [{ column: 'value', op: '=', value: 9 }]).files).toHaveLength(1);
    expect(pruneFiles(snap, [{ column: 'value', op: '>', value: 9 }]).skippedByStats).toBe(1);
    const dv = snap.files[0]!.deletionVector as DeletionVectorDescriptor;
    const allDeleted = { ...snap, files: [{ ...snap.files[0]!, deletionVector: { ...dv, cardinality: 10 } }] };
    expect(pruneFiles(allDeleted, [{ column: 'value', op: '>=', value: 0 }]).skippedByStats).toBe(1);
  });
});

describe('OPTIMIZE of a table with deletion vectors', () => {
  it.each(['dv-spark-unpartitioned', 'dv-spark-partitioned'])('%s: drops the deleted rows and writes files without vectors', async (name) => {
    const storage = await copyOf(name);
    const before = await loadSnapshot(storage, '');
    const rows = await rowsAt(storage);
    const result = await optimizeTable(storage, '');
    const after = await loadSnapshot(storage, '');
    expect(after.version).toBe(before.version + 1);
    expect(after.files.filter((a) => a.deletionVector)).toEqual([]);
    expect(result.rows).toBe(rows.length);
    expect(await rowsAt(storage)).toEqual(rows);
    // the removes name each file with its vector, so the replaced logical files are gone
    const removes = (await readCommit(storage, '', after.version)).filter(isRemove).map((a) => a.remove);
    expect(removes.filter((r) => r.deletionVector).length).toBe(before.files.filter((a) => a.deletionVector && removes.some((r) => r.path === a.path)).length);
    expect(removes.filter((r) => r.deletionVector).length).toBeGreaterThan(0);
    expect(await rowsAt(storage, before.version)).toEqual(rows);
  });
});

describe('VACUUM of a table with deletion vectors', () => {
  // v5's removes at 1796462086895, v6's at 1796462116274 (dv-spark-unpartitioned)
  const between = 1_796_462_100_000;

  it('keeps the vector files of live files and of versions within the retention; deletes the others', async () => {
    const storage = await copyOf('dv-spark-unpartitioned');
    const result = await vacuumTable(storage, '', { now: between + 168 * 3_600_000 });
    const deleted = result.files.map((f) => `${f.path} ${f.reason}`).sort();
    const all = (await new NodeStorage(join(FIXTURES, 'dv-spark-unpartitioned/delta')).list('')).map((f) => f.path);
    const named = new Set(['uH^JH1dqR2WlC!5gW8!V', 'Nr!XCO<#AlV?z&uVY^$$', 'jO%im?+3F-Q[=A?A{lW@', 'fbS:(IKW9IYkXi!z<?!n'].map(dvFile));
    const orphan = all.filter((p) => p.startsWith('deletion_vector_') && !named.has(p));
    expect(orphan).toHaveLength(1); // written by the DELETE of v6, which then removed whole files instead
    expect(deleted).toEqual([`${dvFile('Nr!XCO<#AlV?z&uVY^$$')} removed`, `${dvFile('uH^JH1dqR2WlC!5gW8!V')} removed`, `${orphan[0]} untracked`].sort());
    expect(await storage.stat(dvFile('fbS:(IKW9IYkXi!z<?!n'))).toBeDefined(); // live
    expect(await storage.stat(dvFile('jO%im?+3F-Q[=A?A{lW@'))).toBeDefined(); // removed at v6, within the retention
    expect(await rowsAt(storage)).toHaveLength(15);
    expect(await rowsAt(storage, 5)).toHaveLength(37);
  });

  it('after the retention of every remove only the live files and their vectors stay', async () => {
    const storage = await copyOf('dv-spark-unpartitioned');
    const rows = await rowsAt(storage);
    await vacuumTable(storage, '', { now: 1_796_462_116_274 + 169 * 3_600_000 });
    const left = (await storage.list(''))
      .map((f) => f.path)
      .filter((p) => !p.startsWith('_delta_log/'))
      .sort();
    const snap = await loadSnapshot(storage, '');
    expect(left).toEqual([...snap.files.map((a) => a.path), dvFile('fbS:(IKW9IYkXi!z<?!n')].sort());
    expect(await rowsAt(storage)).toEqual(rows);
  });
});

describe('keepRows (rows left by a deletion vector, any column type)', () => {
  const keptBits = (n: number, drop: (i: number) => boolean): Uint8Array => {
    const bits = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (!drop(i)) bits[i >> 3]! |= 1 << (i & 7);
    return bits;
  };
  const plain = (t: Table) => JSON.stringify(t.toArray(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v));

  it('every primitive type, with nulls (data-reader-primitives)', () => {
    const dir = join(FIXTURES, 'data-reader-primitives/delta');
    const file = new NodeStorage(dir);
    const name = readFileSync(join(dir, '_delta_log/00000000000000000000.json'), 'utf8').match(/"path":"([^"]+)"/)![1]!;
    return file.read(name).then((bytes) => {
      const table = tableFromIPC(decodeParquet(bytes));
      const kept = keepRows(
        table,
        keptBits(table.numRows, (i) => i % 2 === 1),
      );
      expect(kept.numRows).toBe(Math.ceil(table.numRows / 2));
      expect(plain(kept)).toBe(JSON.stringify(JSON.parse(plain(table)).filter((_: unknown, i: number) => i % 2 === 0)));
    });
  });

  it('lists, maps, structs, dictionaries, across batches and slices', () => {
    const n = 10;
    const base = tableFromArrays({ id: Int32Array.from({ length: n }, (_, i) => i) });
    const list = vectorFromArray(
      Array.from({ length: n }, (_, i) => (i === 3 ? null : Array.from({ length: i % 4 }, (_, k) => i * 10 + k))),
      new List(new Field('item', new Int32(), true)),
    );
    const struct = vectorFromArray(
      Array.from({ length: n }, (_, i) => (i === 5 ? null : { a: i, b: `s${i}` })),
      new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]),
    );
    const map = vectorFromArray(
      Array.from({ length: n }, (_, i) => new Map([[`k${i}`, i]])),
      new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false) as never),
    );
    const dict = vectorFromArray(Array.from({ length: n }, (_, i) => ['x', 'y', null][i % 3]!));
    const table = new Table({ id: base.getChild('id')!, list, struct, map, dict });
    const twoBatches = new Table([...table.slice(0, 4).batches, ...table.slice(4).batches]);
    const drop = (i: number) => i % 3 === 0;
    for (const t of [table, twoBatches]) {
      const kept = keepRows(t, keptBits(n, drop));
      expect(plain(kept)).toBe(JSON.stringify(JSON.parse(plain(t)).filter((_: unknown, i: number) => !drop(i))));
    }
    expect(keepRows(table, keptBits(n, drop)).getChild('id')!.toArray()).toEqual(Int32Array.from([1, 2, 4, 5, 7, 8]));
  });
});

describe('import of an archive with deletion vectors', () => {
  it('imports the table with its vector files, and refuses an archive that lacks one', async () => {
    const source = new NodeStorage(join(FIXTURES, 'table-with-dv-small/delta'));
    const entries = [];
    for (const f of await source.list('')) entries.push({ name: `lake/t/${f.path}`, data: await source.read(f.path) });
    const options = { known: ['t'], present: async () => [], clear: async () => undefined };
    const target = new MemoryStorage();
    const result = await importLakehouse(target, 'dv.zip', zip(entries), options);
    expect(result.tables.map((t) => [t.path, t.version, t.files])).toEqual([['t', 1, 4]]); // two commits, the data file, its vector file
    expect(await rowsIn(target, 't')).toBe(8);
    const without = entries.filter((e) => !e.name.includes('deletion_vector_'));
    await expect(importLakehouse(new MemoryStorage(), 'dv.zip', zip(without), options)).rejects.toThrow(
      'dv.zip: table t (folder lake/t) cannot be imported: the deletion vector file deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin ' +
        'of data file part-00000-fae5310a-a37d-4e51-827b-c3d5516560ca-c000.snappy.parquet (version 1) is missing',
    );
  });
});

async function rowsIn(storage: MemoryStorage, table: string): Promise<number> {
  return scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 'dv_import');
}

describe('a deletion vector over a file of several Arrow batches', () => {
  it('deletes the rows at their positions in the file, across batches of 65,536 rows', async () => {
    const n = 140_000;
    const storage = new MemoryStorage();
    const ids = new BigInt64Array(n).map((_, i) => BigInt(i));
    await storage.write('t/part-0.parquet', encodeParquet(tableToIPC(tableFromArrays({ id: ids }), 'stream')));
    const v = (
      JSON.parse(readFileSync(join(FIXTURES, 'roaring-vectors.json'), 'utf8')) as {
        cases: { name: string; z85: string; sizeInBytes: number; cardinality: number }[];
      }
    ).cases.find((c) => c.name === 'two containers with runs (no offset header)')!; // rows 10..19 and 65,536..105,535
    const log = [
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } },
      {
        metaData: {
          id: 'x',
          format: { provider: 'parquet', options: {} },
          schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] }),
          partitionColumns: [],
          configuration: {},
        },
      },
      {
        add: {
          path: 'part-0.parquet',
          partitionValues: {},
          size: (await storage.stat('t/part-0.parquet'))!.size,
          modificationTime: 0,
          dataChange: true,
          stats: JSON.stringify({ numRecords: n }),
          deletionVector: { storageType: 'i', pathOrInlineDv: v.z85, sizeInBytes: v.sizeInBytes, cardinality: v.cardinality },
        },
      },
    ];
    await storage.write('t/_delta_log/00000000000000000000.json', new TextEncoder().encode(log.map((a) => JSON.stringify(a)).join('\n')));
    expect(tableFromIPC(decodeParquet(await storage.read('t/part-0.parquet'))).batches.map((b) => b.numRows)).toEqual([65_536, 65_536, 8_928]);
    const snap = await loadSnapshot(storage, 't');
    expect(await scanIntoEngine(engine, storage, snap, 'dv_batches')).toBe(n - 40_010);
    const sum = (a: number, b: number) => ((a + b) * (b - a + 1)) / 2;
    const [row] = engine.rows<{ s: bigint; lo: bigint; hi: bigint }>(
      'SELECT sum(id) AS s, min(id) FILTER (WHERE id >= 20) AS lo, max(id) FILTER (WHERE id < 65536) AS hi FROM dv_batches',
    );
    expect([Number(row!.s), Number(row!.lo), Number(row!.hi)]).toEqual([sum(0, n - 1) - sum(10, 19) - sum(65_536, 105_535), 20, 65_535]);
    const rows = (await readRows(storage, snap))!;
    expect(rows.length).toBe(n - 40_010);
    expect([rows[9], rows[10], rows[65_525], rows[65_526]]).toEqual([{ id: 9 }, { id: 20 }, { id: 65_535 }, { id: 105_536 }]);
  });
});

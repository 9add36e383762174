import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot, numRecords } from '../src/delta/snapshot.ts';
import type { Engine } from '../src/engine/types.ts';
import { writeTable } from '../src/delta/writer.ts';
import { ROW_GROUP_ROWS } from '../src/parquet/codec.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Storage } from '../src/storage/types.ts';
import type { Lakehouse } from '../src/worker/lakehouse.ts';
import { testEngine } from './helpers/engine.ts';
import { FIXTURES } from './helpers/fixtures.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

const json = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));

/** The rows of `table` in `storage` in scan order: all of them, then each window, compared. */
async function expectWindowsEqualWholeScan(engine: Engine, storage: Storage, table: string, windows: [number, number][]): Promise<number> {
  const snap = await loadSnapshot(storage, table);
  const total = await scanIntoEngine(engine, storage, snap, 'whole');
  for (const [offset, limit] of windows) {
    const rows = await scanIntoEngine(engine, storage, snap, 'windowed', { window: { offset, limit } });
    const expected = json(engine.rows(`SELECT * FROM whole LIMIT ${limit} OFFSET ${offset}`));
    expect(rows, `offset ${offset} limit ${limit}`).toBe(expected.length);
    expect(json(engine.rows('SELECT * FROM windowed')), `offset ${offset} limit ${limit}`).toEqual(expected);
  }
  return total;
}

describe('a window of a scan (the explorer’s first rows without loading the table)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await testEngine();
  });

  test('files with deletion vectors: the same rows as the whole scan, by offset', async () => {
    const storage = new NodeStorage(join(FIXTURES, 'dv-spark-unpartitioned', 'delta'));
    const total = await expectWindowsEqualWholeScan(engine, storage, '', [
      [0, 3],
      [2, 5],
      [0, 1000],
      [4, 1],
      [9, 4],
      [50, 10],
    ]);
    expect(total).toBeGreaterThan(5);
  });

  test('a partitioned table: partition values and row order as the whole scan gives them', async () => {
    const storage = new NodeStorage(join(FIXTURES, 'spark-partitions', 'delta'));
    await expectWindowsEqualWholeScan(engine, storage, '', [
      [0, 2],
      [1, 3],
      [3, 100],
    ]);
  });

  test('a file of several row groups: a window reads its footer and the groups it falls in, not the whole file', async () => {
    const ranges: [string, number, number][] = [];
    const wholeReads: string[] = [];
    class Counting extends MemoryStorage {
      override read(path: string) {
        if (path.endsWith('.parquet')) wholeReads.push(path);
        return super.read(path);
      }
      override readRange(path: string, offset: number, length: number) {
        ranges.push([path, offset, length]);
        return super.readRange(path, offset, length);
      }
    }
    const storage = new Counting();
    const rows = 3 * ROW_GROUP_ROWS + 500;
    await writeTable(storage, 't', engine.query(`SELECT i::BIGINT AS id, 'row ' || i AS name, i % 13 AS k FROM range(${rows}) r(i)`), { mode: 'append' });
    const [file] = (await loadSnapshot(storage, 't')).files;
    await expectWindowsEqualWholeScan(engine, storage, 't', [
      [0, 100],
      [ROW_GROUP_ROWS - 10, 20],
      [2 * ROW_GROUP_ROWS + 7, 1000],
    ]);
    // The whole scan read the file once; each window read the tail, then one or two row groups.
    expect(wholeReads).toHaveLength(1);
    expect(ranges.map(([, , length]) => length < file!.size / 2)).toEqual(Array(7).fill(true));
    expect(ranges.filter(([, offset, length]) => offset + length === file!.size)).toHaveLength(3);
  });

  describe('the lakehouse API', () => {
    let lakehouse: Lakehouse;
    let dir: string;
    beforeAll(async () => {
      ({ lakehouse, dir } = await nodeLakehouse());
      // Two batches: two files in each table, so pages fall across a file boundary.
      await lakehouse.run({ events: 700, seed: 3, days: 20, invalidRate: 0.05 });
      await lakehouse.run({ events: 500, seed: 4, days: 20, invalidRate: 0.05 });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    test('first a page read by window, then the same page from the loaded table', async () => {
      const storage = new NodeStorage(dir);
      for (const path of ['bronze/events', 'silver/events', 'silver/rejects']) {
        const files = (await loadSnapshot(storage, path)).files;
        expect(files.length, path).toBeGreaterThanOrEqual(2);
        const boundary = numRecords(files[0]!)!;
        expect(boundary, path).toBeGreaterThan(0);
        const before = [
          await lakehouse.rows(path, undefined, 100, 0),
          await lakehouse.rows(path, undefined, 50, Math.max(0, boundary - 20)),
          await lakehouse.rows(path, undefined, 100, boundary + 3),
        ];
        await lakehouse.profile(path); // loads the whole latest version
        const after = [
          await lakehouse.rows(path, undefined, 100, 0),
          await lakehouse.rows(path, undefined, 50, Math.max(0, boundary - 20)),
          await lakehouse.rows(path, undefined, 100, boundary + 3),
        ];
        expect(before, path).toEqual(after);
        expect(before[0]!.rows.length, path).toBe(Math.min(100, before[0]!.total));
        expect(before[1]!.rows.length, path).toBe(Math.min(50, before[1]!.total - before[1]!.offset));
      }
    });
  });
});

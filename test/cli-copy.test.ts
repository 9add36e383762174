import { Float64, Table, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { copyLakehouse, DivergedError } from '../src/delta/copy.ts';
import { listLog, loadSnapshot } from '../src/delta/snapshot.ts';
import { writeTable } from '../src/delta/writer.ts';
import { initParquet } from '../src/parquet/node.ts';
import { MemoryStorage } from '../src/storage/memory.ts';

// push and pull on any two storages (on the object stores: test/object-storage/pipeline.test.ts).
initParquet();
const rows = (...n: number[]) => new Table({ n: vectorFromArray(n, new Float64()) });

describe('copying a lakehouse with its history', () => {
  it('copies every table and version, then only what is new; a diverged history is refused and left as it was', async () => {
    const from = new MemoryStorage('from');
    const to = new MemoryStorage('to');
    await writeTable(from, 'a/t', rows(1), { mode: 'append' });
    await writeTable(from, 'a/t', rows(2), { mode: 'append' });
    await writeTable(from, 'b', rows(3), { mode: 'overwrite' });
    expect(await copyLakehouse(from, to, 'from')).toEqual([
      { table: 'a/t', version: 1, commits: 2, files: 2, bytes: expect.any(Number) },
      { table: 'b', version: 0, commits: 1, files: 1, bytes: expect.any(Number) },
    ]);
    expect((await loadSnapshot(to, 'a/t')).files.map((f) => f.size)).toEqual((await loadSnapshot(from, 'a/t')).files.map((f) => f.size));
    await writeTable(from, 'a/t', rows(4), { mode: 'append' });
    expect((await copyLakehouse(from, to, 'from')).map((c) => [c.table, c.commits, c.files])).toEqual([
      ['a/t', 1, 1],
      ['b', 0, 0],
    ]);

    await writeTable(from, 'b', rows(5), { mode: 'append' });
    await writeTable(to, 'b', rows(6), { mode: 'append' });
    const theirs = await to.read('b/_delta_log/00000000000000000001.json');
    await expect(copyLakehouse(from, to, 'from')).rejects.toThrow(
      new DivergedError(
        'b/_delta_log/00000000000000000001.json differs between from and to: the two lakehouses went apart at version 1 of b, so its history there was left as it was',
      ),
    );
    expect(await to.read('b/_delta_log/00000000000000000001.json')).toEqual(theirs);
    expect((await listLog(to, 'b')).latest).toBe(1);
  });
});

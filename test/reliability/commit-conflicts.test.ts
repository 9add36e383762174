import { Float64, Table, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { CommitConflictError, openWriter } from '../../src/delta/writer.ts';
import { initParquet } from '../../src/parquet/node.ts';

/**
 * Found by the concurrent trials: two runs that both created a gold table (a fresh lakehouse)
 * both landed, the loser's overwrite rebased into an append, so gold held both computations.
 */

initParquet();
const rows = (...n: number[]) => new Table({ n: vectorFromArray(n, new Float64()) });

describe('an overwrite racing another writer', () => {
  it.each([['overwrite'], ['append']] as const)(
    'two writers create one table; the second, an %s after an overwrite, conflicts or appends',
    async (secondMode) => {
      const storage = new MemoryStorage();
      const first = await openWriter(storage, 't', { mode: 'overwrite' });
      const second = await openWriter(storage, 't', { mode: secondMode });
      await first.write(rows(1, 2));
      await second.write(rows(3));
      expect((await first.commit()).version).toBe(0);
      if (secondMode === 'overwrite') {
        await expect(second.commit()).rejects.toThrow(new CommitConflictError('t', 0, 'data was added concurrently to a table this commit overwrites'));
        expect((await loadSnapshot(storage, 't')).version).toBe(0);
      } else {
        // An append to a table created meanwhile with the same schema lands after it.
        expect((await second.commit()).version).toBe(1);
      }
    },
  );

  it('an overwrite of an existing table conflicts with an append committed meanwhile', async () => {
    const storage = new MemoryStorage();
    const base = await openWriter(storage, 't', { mode: 'append' });
    await base.write(rows(0));
    await base.commit();
    const overwrite = await openWriter(storage, 't', { mode: 'overwrite' });
    const append = await openWriter(storage, 't', { mode: 'append' });
    await overwrite.write(rows(9));
    await append.write(rows(5));
    await append.commit();
    await expect(overwrite.commit()).rejects.toThrow('data was added concurrently to a table this commit overwrites');
  });
});

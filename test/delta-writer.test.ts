import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Storage } from '../src/storage/types.ts';
import { writeTable, CommitConflictError } from '../src/delta/writer.ts';
import { loadSnapshot, loadHistory, listLog } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import type { Engine } from '../src/engine/types.ts';
import { testEngine } from './helpers/engine.ts';
import { validateDeltaTable } from './helpers/delta-validator.ts';

let engine: Engine;
const dirs: string[] = [];
beforeAll(async () => {
  engine = await testEngine();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempStorage(): NodeStorage {
  const dir = mkdtempSync(join(tmpdir(), 'delta-test-'));
  dirs.push(dir);
  return new NodeStorage(dir);
}

/** Rows for batch `b`: every column type the pipeline writes, with nulls. */
function batchSql(b: number, n = 50): string {
  return `SELECT (range + ${b * 1000})::BIGINT AS id, 'user-' || (range % 7) AS name,
    CASE WHEN range % 5 = 0 THEN NULL ELSE range * 1.5::DOUBLE END AS score,
    (range % 3 = 0) AS flag, (range % 4)::INTEGER AS small,
    (TIMESTAMP '2024-03-01 00:00:00' + to_microseconds(range * 3600000123 + ${b})) ::TIMESTAMPTZ AS ts,
    DATE '2024-03-01' + (range % 3)::INTEGER AS day
    FROM range(${n})`;
}

function same(actualTable: string, expectedSql: string): { missing: number; extra: number } {
  const count = (sql: string) => Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM (${sql})`)[0]!.n);
  return {
    missing: count(`(${expectedSql}) EXCEPT ALL SELECT * FROM ${actualTable}`),
    extra: count(`SELECT * FROM ${actualTable} EXCEPT ALL (${expectedSql})`),
  };
}

describe.each([
  ['memory', () => new MemoryStorage() as Storage],
  ['node filesystem', () => tempStorage() as Storage],
])('Delta round trip on %s storage', (_name, makeStorage) => {
  it('reads back every version exactly as written, and the log follows the protocol', async () => {
    const storage = makeStorage();
    const expectedAt: string[] = [];
    await writeTable(storage, 't', engine.query(batchSql(0)), { mode: 'append', name: 't', txn: { appId: 'job', version: 0 } });
    expectedAt.push(batchSql(0));
    for (let b = 1; b <= 8; b++) {
      await writeTable(storage, 't', engine.query(batchSql(b)), { mode: 'append', txn: { appId: 'job', version: b } });
      expectedAt.push(`${expectedAt.at(-1)!} UNION ALL ${batchSql(b)}`);
    }
    const r = await writeTable(storage, 't', engine.query(batchSql(100, 20)), { mode: 'overwrite' });
    expect(r.version).toBe(9);
    expect(r.removed).toHaveLength(9);
    expectedAt.push(batchSql(100, 20));
    for (let b = 101; b <= 103; b++) {
      await writeTable(storage, 't', engine.query(batchSql(b)), { mode: 'append' });
      expectedAt.push(`${expectedAt.at(-1)!} UNION ALL ${batchSql(b)}`);
    }
    const log = await listLog(storage, 't');
    expect(log.latest).toBe(12);
    expect([...log.checkpoints.keys()]).toEqual([10]);
    for (let v = 0; v <= 12; v++) {
      const snap = await loadSnapshot(storage, 't', v);
      await scanIntoEngine(engine, storage, snap, 'back');
      expect(same('back', expectedAt[v]!), `version ${v}`).toEqual({ missing: 0, extra: 0 });
    }
    const latest = await loadSnapshot(storage, 't');
    expect(latest.txns.get('job')?.version).toBe(8);
    expect(latest.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:long',
      'name:string',
      'score:double',
      'flag:boolean',
      'small:integer',
      'ts:timestamp',
      'day:date',
    ]);
    expect(await validateDeltaTable(storage, 't', engine)).toEqual([]);
    const history = await loadHistory(storage, 't');
    expect(history.map((h) => h.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(history.find((h) => h.version === 9)).toMatchObject({ operation: 'WRITE', filesRemoved: 9, rowsAdded: 20 });
  });

  it('writes partitioned tables with partitionValues and col=value folders', async () => {
    const storage = makeStorage();
    const sql = `SELECT * FROM (${batchSql(0, 30)}) ORDER BY day`;
    await writeTable(storage, 'p', engine.query(sql), { mode: 'append', partitionBy: ['day'] });
    const snap = await loadSnapshot(storage, 'p');
    expect(snap.metadata.partitionColumns).toEqual(['day']);
    expect(snap.files.map((f) => f.partitionValues.day).sort()).toEqual(['2024-03-01', '2024-03-02', '2024-03-03']);
    expect(snap.files.every((f) => f.path.startsWith(`day=${f.partitionValues.day}/`))).toBe(true);
    await scanIntoEngine(engine, storage, snap, 'back');
    expect(same('back', batchSql(0, 30))).toEqual({ missing: 0, extra: 0 });
    expect(await validateDeltaTable(storage, 'p', engine)).toEqual([]);
  });
});

/**
 * Makes writers race: the first attempt at a commit path waits until a second writer arrives at
 * the same path (or 200 ms pass), so both try to take one version at once.
 */
class RacingStorage extends MemoryStorage {
  private readonly waiting = new Map<string, () => void>();
  private readonly seen = new Set<string>();
  override async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    const other = this.waiting.get(path);
    if (other) {
      this.waiting.delete(path);
      other();
    } else if (!this.seen.has(path)) {
      this.seen.add(path);
      await new Promise<void>((resolve) => {
        this.waiting.set(path, resolve);
        setTimeout(resolve, 200);
      });
      this.waiting.delete(path);
    }
    return super.putIfAbsent(path, data);
  }
}

describe('concurrent writers', () => {
  it('two appends racing for one version both land, versions stay contiguous, no commit is overwritten', async () => {
    const storage = new RacingStorage();
    const first = engine.query(batchSql(0, 10));
    await Promise.all([writeTable(storage, 'r', first, { mode: 'append' }), writeTable(storage, 'r', engine.query(batchSql(1, 10)), { mode: 'append' })]);
    // v0 was created by one writer; the other's create became an append at v1.
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([
        writeTable(storage, 'r', engine.query(batchSql(10 + round, 10)), { mode: 'append' }),
        writeTable(storage, 'r', engine.query(batchSql(20 + round, 10)), { mode: 'append' }),
      ]);
      expect(results.map((x) => x.version).sort()).toEqual([2 + round * 2, 3 + round * 2]);
    }
    const snap = await loadSnapshot(storage, 'r');
    expect(snap.version).toBe(7);
    expect(await scanIntoEngine(engine, storage, snap, 'back')).toBe(80);
    const history = await loadHistory(storage, 'r');
    const rebased = history.filter((h) =>
      h.actions.some((a) => 'commitInfo' in a && (a.commitInfo as { readVersion?: number }).readVersion === h.version - 1 && h.version % 2 === 1),
    );
    expect(rebased.length).toBeGreaterThan(0);
    expect(await validateDeltaTable(storage, 'r', engine)).toEqual([]);
  });

  it('an overwrite that loses the race to an append is refused, not applied blindly', async () => {
    const racing = new RacingStorage();
    const base = new MemoryStorage();
    await writeTable(base, 'o', engine.query(batchSql(0, 5)), { mode: 'append' });
    for (const f of await base.list('o')) await racing.write(f.path, await base.read(f.path));
    // The overwrite reaches version 1 first and waits; the append arrives and takes version 1.
    const [overwrite, append] = await Promise.allSettled([
      writeTable(racing, 'o', engine.query(batchSql(2, 5)), { mode: 'overwrite' }),
      new Promise((r) => setTimeout(r, 20)).then(() => writeTable(racing, 'o', engine.query(batchSql(1, 5)), { mode: 'append' })),
    ]);
    expect(append.status).toBe('fulfilled');
    expect(overwrite.status).toBe('rejected');
    expect((overwrite as PromiseRejectedResult).reason).toBeInstanceOf(CommitConflictError);
    expect(((overwrite as PromiseRejectedResult).reason as Error).message).toBe(
      'delta: concurrent commit to o at version 1 conflicts with this write: data was added concurrently to a table this commit overwrites',
    );
    const snap = await loadSnapshot(racing, 'o');
    expect(snap.version).toBe(1);
    expect(await scanIntoEngine(engine, racing, snap, 'back')).toBe(10);
  });

  it('a second transaction of one application id conflicts', async () => {
    const storage = new RacingStorage();
    const results = await Promise.allSettled([
      writeTable(storage, 'x', engine.query(batchSql(0, 5)), { mode: 'append', txn: { appId: 'a', version: 1 } }),
      writeTable(storage, 'x', engine.query(batchSql(1, 5)), { mode: 'append', txn: { appId: 'a', version: 1 } }),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error).message).toMatch(
      /concurrent commit to x at version 0 conflicts with this write: the other commit changed the table metadata|application a committed/,
    );
  });
});

describe('a writer that dies before its commit', () => {
  it('leaves the table at the previous version; its data files are invisible', async () => {
    const storage = new MemoryStorage();
    await writeTable(storage, 'c', engine.query(batchSql(0, 10)), { mode: 'append' });
    const crashing = Object.create(storage) as MemoryStorage;
    crashing.putIfAbsent = async () => {
      throw new Error('killed');
    };
    await expect(writeTable(crashing, 'c', engine.query(batchSql(1, 10)), { mode: 'append' })).rejects.toThrow('killed');
    const files = await storage.list('c');
    expect(files.filter((f) => f.path.endsWith('.parquet'))).toHaveLength(2);
    const snap = await loadSnapshot(storage, 'c');
    expect(snap.version).toBe(0);
    expect(snap.files).toHaveLength(1);
    expect(await scanIntoEngine(engine, storage, snap, 'back')).toBe(10);
    const next = await writeTable(storage, 'c', engine.query(batchSql(2, 10)), { mode: 'append' });
    expect(next.version).toBe(1);
  });
});

import { Float64, Table, vectorFromArray } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { listLog, loadSnapshot } from '../../src/delta/snapshot.ts';
import { readCheckpointActions } from '../../src/delta/checkpoint.ts';
import { writeTable } from '../../src/delta/writer.ts';
import { testEngine } from '../helpers/engine.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';

/**
 * Found by the crash trials: the checkpoint of a table that never removed a file could not be
 * written (an all-null boolean column), so the 11th batch of every lakehouse failed after its
 * bronze commit; and a checkpoint lost to a crash was never written later.
 */

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const row = (n: number) => new Table({ n: vectorFromArray([n], new Float64()) });
const CP10 = 't/_delta_log/00000000000000000010.checkpoint.parquet';

describe('checkpoints', () => {
  it('an append-only table gets a checkpoint at version 10 that holds the same state as the JSON log', async () => {
    const storage = new MemoryStorage();
    for (let i = 0; i <= 10; i++) await writeTable(storage, 't', row(i), { mode: 'append', txn: { appId: 'job', version: i } });
    expect([...(await listLog(storage, 't')).checkpoints.keys()]).toEqual([10]);
    const actions = readCheckpointActions(await storage.read(CP10));
    expect(actions.filter((a) => 'add' in a)).toHaveLength(11);
    expect(actions.filter((a) => 'remove' in a)).toEqual([]);
    expect(actions.filter((a) => 'txn' in a).map((a) => (a as { txn: { version: number } }).txn.version)).toEqual([10]);
    // Read from the checkpoint (it exists) and from the JSON commits alone (without it).
    const fromCheckpoint = await loadSnapshot(storage, 't');
    await storage.delete(CP10);
    const fromLog = await loadSnapshot(storage, 't');
    expect(fromCheckpoint.files.map((f) => f.path).sort()).toEqual(fromLog.files.map((f) => f.path).sort());
  });

  it('a checkpoint that cannot be written does not fail the commit; the next commit writes it', async () => {
    const storage = new MemoryStorage();
    const failing = Object.create(storage) as MemoryStorage;
    failing.write = async (path, data) => {
      if (path.includes('.checkpoint.') || path.endsWith('_last_checkpoint'))
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return storage.write(path, data);
    };
    for (let i = 0; i <= 10; i++) await writeTable(failing, 't', row(i), { mode: 'append' });
    expect((await listLog(storage, 't')).checkpoints.size).toBe(0);
    expect(await storage.stat('t/_delta_log/_last_checkpoint')).toBeUndefined();
    const r = await writeTable(storage, 't', row(11), { mode: 'append' });
    expect(r.version).toBe(11);
    expect([...(await listLog(storage, 't')).checkpoints.keys()]).toEqual([10]);
    expect(await validateDeltaTable(storage, 't', engine)).toEqual([]);
  });
});

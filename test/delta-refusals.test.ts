import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { DeletionVectorError, UnsupportedFeatureError } from '../src/delta/protocol.ts';
import { FIXTURES } from './helpers/fixtures.ts';

const FIXTURE = join(FIXTURES, 'basic-with-inserts-updates/delta');

/** A copy of a reference table whose version 0 gets `edit` applied to its actions. */
async function tableWith(edit: (actions: Record<string, Record<string, unknown>>[]) => void): Promise<MemoryStorage> {
  const source = new NodeStorage(FIXTURE);
  const copy = new MemoryStorage();
  for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
  const path = '_delta_log/00000000000000000000.json';
  const actions = new TextDecoder().decode(await copy.read(path)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
  edit(actions);
  await copy.write(path, new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join('\n')));
  return copy;
}

describe('tables this reader must refuse rather than misread', () => {
  it.each([
    ['rowTracking2000', 'unknown feature'],
    ['typeWidening', 'files may hold narrower types than the schema'],
  ])('reader feature %s', async (feature, why) => {
    const storage = await tableWith((actions) => {
      const p = actions.find((a) => a.protocol)!;
      p.protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [feature], writerFeatures: [feature] };
    });
    const err = await loadSnapshot(storage, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect((err as Error).message).toBe(`delta: memory needs the reader feature "${feature}", which this reader does not support: ${why}`);
  });

  it('column mapping', async () => {
    const storage = await tableWith((actions) => {
      const m = actions.find((a) => a.metaData)!;
      m.metaData!.configuration = { 'delta.columnMapping.mode': 'name' };
    });
    await expect(loadSnapshot(storage, '')).rejects.toThrow(
      'delta: memory needs the reader feature "columnMapping", which this reader does not support: columns are mapped by name, so Parquet column names differ from the schema',
    );
  });

  it('a file with a deletion vector of an unknown storage type', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.add)!.add!.deletionVector = { storageType: 'x', pathOrInlineDv: 'abc', offset: 1, sizeInBytes: 36, cardinality: 2 };
    });
    const err = await loadSnapshot(storage, '', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeletionVectorError);
    expect((err as Error).message).toBe(
      'delta: version 0 of memory cannot be read: its data file part-00000-f9886fc2-20a0-42fe-8b30-c3abb5e3c720-c000.snappy.parquet ' +
        'has a deletion vector of storage type "x", which is none of u (a file named by a UUID), i (inline) and p (a path)',
    );
  });

  it('a reader version above 3', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.protocol)!.protocol = { minReaderVersion: 4, minWriterVersion: 7 };
    });
    await expect(loadSnapshot(storage, '')).rejects.toThrow('reader versions up to 3 are supported');
  });

  it('a log with a missing commit and no checkpoint', async () => {
    const storage = await tableWith(() => undefined);
    await storage.delete('_delta_log/00000000000000000000.json');
    await expect(loadSnapshot(storage, '')).rejects.toThrow('memory cannot be read at version 1: commit 0 is missing from the log and no usable checkpoint covers it');
  });

  it('a corrupt checkpoint falls back to the JSON commits', async () => {
    const source = new NodeStorage(join(FIXTURE, '../../basic-with-inserts-overwrite-restore/delta'));
    const copy = new MemoryStorage();
    for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
    await copy.write('_delta_log/00000000000000000003.checkpoint.parquet', new Uint8Array([1, 2, 3]));
    const snap = await loadSnapshot(copy, '');
    expect(snap.version).toBe(3);
    expect(snap.files).toHaveLength(4);
  });
});

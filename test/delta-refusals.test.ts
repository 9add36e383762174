import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { DeletionVectorError, UnsupportedFeatureError } from '../src/delta/protocol.ts';
import { ColumnMappingError, mappingMode } from '../src/delta/mapping.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { FIXTURES } from './helpers/fixtures.ts';
import { testEngine } from './helpers/engine.ts';

const FIXTURE = join(FIXTURES, 'basic-with-inserts-updates/delta');

/** A copy of a reference table whose version 0 gets `edit` applied to its actions. */
async function tableWith(edit: (actions: Record<string, Record<string, unknown>>[]) => void): Promise<MemoryStorage> {
  const source = new NodeStorage(FIXTURE);
  const copy = new MemoryStorage();
  for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
  const path = '_delta_log/00000000000000000000.json';
  const actions = new TextDecoder()
    .decode(await copy.read(path))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
  edit(actions);
  await copy.write(path, new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join('\n')));
  return copy;
}

describe('tables this reader must refuse rather than misread', () => {
  it.each([
    ['rowTracking2000', 'unknown feature'],
    ['variantType', 'its variant columns hold binary-encoded values this reader cannot decode'],
  ])('reader feature %s', async (feature, why) => {
    const storage = await tableWith((actions) => {
      const p = actions.find((a) => a.protocol)!;
      p.protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [feature], writerFeatures: [feature] };
    });
    const err = await loadSnapshot(storage, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect((err as Error).message).toBe(`delta: memory needs the reader feature "${feature}", which this reader does not support: ${why}`);
  });

  it('a column mapping mode the protocol does not define', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.protocol)!.protocol = { minReaderVersion: 2, minWriterVersion: 5 };
      actions.find((a) => a.metaData)!.metaData!.configuration = { 'delta.columnMapping.mode': 'fancy' };
    });
    await expect(loadSnapshot(storage, '')).rejects.toThrow(
      'delta: memory needs the reader feature "columnMapping", which this reader does not support: delta.columnMapping.mode is "fancy", not one of none, name or id',
    );
  });

  it('column mapping on a schema without physical names', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.protocol)!.protocol = { minReaderVersion: 2, minWriterVersion: 5 };
      actions.find((a) => a.metaData)!.metaData!.configuration = { 'delta.columnMapping.mode': 'name' };
    });
    const err = await loadSnapshot(storage, '', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ColumnMappingError);
    expect((err as Error).message).toBe(
      'delta: version 0 of memory cannot be read: its columns are mapped by name, but column id has no delta.columnMapping.physicalName in its metadata',
    );
  });

  it('the column mapping property without the protocol for it is not honoured', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.metaData)!.metaData!.configuration = { 'delta.columnMapping.mode': 'name' };
    });
    const snap = await loadSnapshot(storage, '', 0);
    expect(mappingMode(snap.protocol, snap.metadata)).toBe('none');
  });

  it('column mapping by id on files without Parquet field ids', async () => {
    const storage = await tableWith((actions) => {
      actions.find((a) => a.protocol)!.protocol = { minReaderVersion: 2, minWriterVersion: 5 };
      const m = actions.find((a) => a.metaData)!.metaData!;
      m.configuration = { 'delta.columnMapping.mode': 'id' };
      const schema = JSON.parse(m.schemaString as string) as { fields: { name: string; metadata: Record<string, unknown> }[] };
      schema.fields.forEach((f, i) => {
        f.metadata = { 'delta.columnMapping.id': i + 1, 'delta.columnMapping.physicalName': f.name };
      });
      m.schemaString = JSON.stringify(schema);
    });
    const snap = await loadSnapshot(storage, '', 0);
    const engine = await testEngine();
    const file = decodeURIComponent(snap.files[0]!.path);
    await expect(scanIntoEngine(engine, storage, snap, 't')).rejects.toThrow(
      `delta: version 0 of memory cannot be read: its data file ${file} does not fit its schema: the table maps columns by id but the file has no Parquet field ids`,
    );
  });

  it('a variant column (Spark 4.2)', async () => {
    const storage = new NodeStorage(join(FIXTURES, 'variant/delta'));
    const err = await loadSnapshot(storage, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect((err as Error).message).toBe(
      `delta: ${storage.description} needs the reader feature "variantType", which this reader does not support: its variant columns hold binary-encoded values this reader cannot decode`,
    );
  });

  it('a type change the protocol does not allow (byte to decimal(4,1), from a type widening preview; Spark refuses it too)', async () => {
    const storage = new NodeStorage(join(FIXTURES, 'type-widening-preview/delta'));
    expect((await loadSnapshot(storage, '', 1)).protocol.readerFeatures).toEqual(['timestampNtz', 'typeWidening-preview']);
    await expect(loadSnapshot(storage, '', 2)).rejects.toThrow(
      `delta: ${storage.description} needs the reader feature "typeWidening-preview", which this reader does not support: column byte_decimal was changed from byte to decimal(4,1), which is not a type widening the Delta protocol allows`,
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
    await expect(loadSnapshot(storage, '')).rejects.toThrow(
      'memory cannot be read at version 1: commit 0 is missing from the log and no usable checkpoint covers it',
    );
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

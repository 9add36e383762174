import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../src/delta/export.ts';
import { fileFieldId, logicalPartitionValues, mappingMode } from '../src/delta/mapping.ts';
import { optimizeTable } from '../src/delta/optimize.ts';
import { vacuumTable } from '../src/delta/vacuum.ts';
import { readRows } from '../src/delta/rows.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { pruneFiles } from '../src/delta/skipping.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { writeTable } from '../src/delta/writer.ts';
import { WriteRefusedError } from '../src/delta/write-protocol.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet } from '../src/parquet/codec.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Storage } from '../src/storage/types.ts';
import { testEngine } from './helpers/engine.ts';
import { FIXTURES } from './helpers/fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const fixture = (name: string): NodeStorage => new NodeStorage(join(FIXTURES, name, 'delta'));

async function lines(storage: Storage, version?: number): Promise<string[]> {
  const snap = await loadSnapshot(storage, '', version);
  await scanIntoEngine(engine, storage, snap, 'colmap');
  return [...jsonLines(engine, 'colmap', snap.schema)].sort();
}

async function copyOf(name: string): Promise<MemoryStorage> {
  const source = fixture(name);
  const copy = new MemoryStorage();
  for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
  return copy;
}

describe('column mapping', () => {
  it('mode name (reader 2, turned on after the first write): renames, a drop and a re-add, version by version', async () => {
    const storage = fixture('colmap-name');
    const snap = await loadSnapshot(storage, '', 8);
    expect([snap.protocol.minReaderVersion, mappingMode(snap.protocol, snap.metadata)]).toEqual([2, 'name']);
    expect(await lines(storage, 3)).toEqual([
      '{"id":1,"full name":"ann","score":1.5,"info":{"alpha":10,"b":"x"},"part":"p1"}',
      '{"id":2,"full name":"bob","score":null,"info":{"alpha":20,"b":null},"part":"p2"}',
      '{"id":3,"full name":null,"score":3.5,"info":null,"part":null}',
    ]);
    // `score` was dropped and added again (as a string): the old files' values do not come back.
    expect(await lines(storage, 8)).toEqual([
      '{"id":1,"full name":"ann","info":{"alpha":10,"b":"x","c":null},"region":"p1","score":null}',
      '{"id":2,"full name":"bob","info":{"alpha":20,"b":null,"c":null},"region":"p2","score":null}',
      '{"id":3,"full name":null,"info":null,"region":null,"score":null}',
      '{"id":4,"full name":"cy","info":{"alpha":40,"b":"w","c":null},"region":"p1","score":null}',
      '{"id":5,"full name":"dee","info":{"alpha":50,"b":"v","c":null},"region":"p3","score":null}',
      '{"id":6,"full name":"eve","info":{"alpha":60,"b":"u","c":"new"},"region":"p1","score":"high"}',
      '{"id":7,"full name":"fay","info":{"alpha":70,"b":null,"c":null},"region":"p4","score":null}',
    ]);
  });

  it('mode id (reader 3, the columnMapping feature): fields inside an array of structs and a map of structs renamed', async () => {
    const storage = fixture('colmap-id');
    const snap = await loadSnapshot(storage, '');
    expect([snap.protocol.readerFeatures, mappingMode(snap.protocol, snap.metadata)]).toEqual([['timestampNtz', 'columnMapping'], 'id']);
    expect(await lines(storage)).toEqual([
      '{"id":1,"tags":[{"key":"a","v":1},null],"props":{"x":{"count":1}},"event_day":"2024-01-01","name":null}',
      '{"id":2,"tags":null,"props":{"y":null},"event_day":"2024-01-02","name":null}',
      '{"id":3,"tags":[{"key":"c","v":3}],"props":{"z":{"count":3}},"event_day":"2024-01-01","name":null}',
      '{"id":4,"tags":[],"props":{},"event_day":"2024-01-03","name":44}',
      '{"id":5,"tags":null,"props":null,"event_day":null,"name":null}',
    ]);
  });

  it('skips files by partition values and statistics kept under physical names', async () => {
    const snap = await loadSnapshot(fixture('colmap-name'), '');
    const prune = (conditions: Parameters<typeof pruneFiles>[1]) => {
      const p = pruneFiles(snap, conditions);
      return [p.files.length, p.skippedByPartition, p.skippedByStats];
    };
    // `region` was `part`: its values are still under the physical name `part`.
    expect(prune([{ column: 'region', op: '=', value: 'p1' }])).toEqual([3, 4, 0]);
    expect(prune([{ column: 'full name', op: '=', value: 'eve' }])).toEqual([1, 0, 6]);
    // The re-added `score` has a new physical name: the old files' stats for `score` do not count.
    expect(prune([{ column: 'score', op: 'is not null' }])).toEqual([6, 0, 1]);

    const golden = await loadSnapshot(fixture('data-skipping-basic-stats-all-types-columnmapping-name'), '');
    const kept = (conditions: Parameters<typeof pruneFiles>[1]) => pruneFiles(golden, conditions).files.length;
    expect([kept([{ column: 'as_int', op: '=', value: 0 }]), kept([{ column: 'as_int', op: '=', value: 1 }])]).toEqual([1, 0]);
    expect([kept([{ column: 'as_string', op: '>', value: '0' }]), kept([{ column: 'as_date', op: '=', value: '2000-01-01' }])]).toEqual([0, 1]);
  });

  it('shows partition values under the columns’ names', async () => {
    const snap = await loadSnapshot(fixture('colmap-name'), '');
    expect(snap.files.map((a) => [a.partitionValues, logicalPartitionValues(snap, a)]).slice(0, 2)).toEqual([
      [{ part: 'p1' }, { region: 'p1' }],
      [{ part: null }, { region: null }],
    ]);
  });

  it('is read without the engine too (a flat table with mode name and type widening)', async () => {
    const storage = fixture('colmap-flat');
    expect(await readRows(storage, await loadSnapshot(storage, ''))).toEqual([
      { id: 1, label: 'ann', score: 1.5, ts: null },
      { id: 2, label: null, score: 'NaN', ts: null },
      { id: 9007199254740992, label: 'big', score: 0.1, ts: null },
      { id: 4, label: 'dee', score: -2.5, ts: '2024-02-29T23:59:59.999999' },
    ]);
    expect(await readRows(storage, await loadSnapshot(storage, '', 0))).toEqual([
      { id: 1, name: 'ann', ts: '2024-01-01T10:00:00.123456Z', score: 1.5 },
      { id: 2, name: null, ts: '1969-07-20T20:17:40.000000Z', score: 'NaN' },
    ]);
  });

  it('OPTIMIZE writes physical names and field ids, and the rows stay the same', async () => {
    const storage = await copyOf('colmap-id');
    const before = await lines(storage);
    const result = await optimizeTable(storage, '', { targetFileSize: 1 << 20 });
    expect([result.filesRemoved, result.filesAdded]).toEqual([2, 1]);
    expect(await lines(storage)).toEqual(before);
    const snap = await loadSnapshot(storage, '');
    const added = snap.files.find((a) => !a.dataChange)!;
    const partition = snap.schema.fields.find((f) => f.name === 'event_day')!;
    expect(added.partitionValues).toEqual({ [partition.metadata['delta.columnMapping.physicalName'] as string]: '2024-01-01' });
    const file = tableFromIPC(decodeParquet(await storage.read(decodeURIComponent(added.path))));
    // Every column of the schema but `name` (added after these rows) is in the file under its field id.
    expect(snap.schema.fields.map((f) => [f.name, file.schema.fields.some((x) => fileFieldId(x) === f.metadata['delta.columnMapping.id'])])).toEqual([
      ['id', true],
      ['tags', true],
      ['props', true],
      ['event_day', true],
      ['name', false],
    ]);
    const stats = JSON.parse(added.stats!) as { minValues: Record<string, unknown> };
    expect([stats.minValues[partition.metadata['delta.columnMapping.physicalName'] as string], stats.minValues.id]).toEqual([undefined, undefined]);
    expect(stats.minValues[snap.schema.fields[0]!.metadata['delta.columnMapping.physicalName'] as string]).toBe(1);
  });

  it('VACUUM after OPTIMIZE deletes only the compacted files of a mapped, partitioned table', async () => {
    const storage = await copyOf('colmap-name');
    const before = await lines(storage);
    const old = (await loadSnapshot(storage, '')).files.map((a) => decodeURIComponent(a.path));
    const optimized = await optimizeTable(storage, '', { targetFileSize: 1 << 20 });
    expect([optimized.filesRemoved, optimized.filesAdded]).toEqual([2, 1]);
    const result = await vacuumTable(storage, '', { retentionHours: 0, force: true, now: Date.now() + 60_000 });
    const live = new Set((await loadSnapshot(storage, '')).files.map((a) => decodeURIComponent(a.path)));
    expect(result.files.map((f) => f.path).sort()).toEqual(old.filter((p) => !live.has(p)).sort());
    expect(result.files).toHaveLength(2);
    expect(await lines(storage)).toEqual(before);
  });

  it('the writer refuses to append to a mapped table, with a sentence', async () => {
    const storage = await copyOf('colmap-name');
    const data = tableFromIPC(engine.queryIPC('SELECT 9 AS id'));
    const err = await writeTable(storage, '', data, { mode: 'append' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteRefusedError);
    expect((err as Error).message).toBe(
      'delta: cannot append to memory at version 8: the table maps its columns by name (writer feature "columnMapping"), and this writer does not write mapped column names',
    );
  });
});

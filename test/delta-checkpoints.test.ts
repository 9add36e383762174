import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  tableToIPC,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { encodeParquet } from '../src/parquet/codec.ts';
import { readCheckpointActions } from '../src/delta/checkpoint.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { listLog, loadSnapshot, type Snapshot } from '../src/delta/snapshot.ts';
import { writeCheckpoint } from '../src/delta/checkpoint-writer.ts';
import { commit } from '../src/delta/writer.ts';
import { initParquet } from '../src/parquet/node.ts';
import { FIXTURES } from './helpers/fixtures.ts';

initParquet();

/** A MemoryStorage that records which files were read, relative to `_delta_log/`. */
class RecordingStorage extends MemoryStorage {
  reads: string[] = [];
  override async read(path: string): Promise<Uint8Array> {
    this.reads.push(path.replace(/^_delta_log\//, ''));
    return super.read(path);
  }
}

async function copyOf(name: string): Promise<RecordingStorage> {
  const source = new NodeStorage(join(FIXTURES, name, 'delta'));
  const copy = new RecordingStorage();
  for (const f of await source.list('')) await copy.write(f.path, await source.read(f.path));
  return copy;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const commitName = (v: number) => `${String(v).padStart(20, '0')}.json`;
const commits = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => commitName(from + i));
const paths = (snap: Snapshot) => snap.files.map((f) => f.path).sort();

const MULTI = 'v1-multi-part-struct-stats-only';
const part = (o: number) => `00000000000000000005.checkpoint.${String(o).padStart(10, '0')}.0000000003.parquet`;
const V2_JSON = 'v2-json-sidecars-struct-stats-only';
const V2_JSON_TOP = '00000000000000000005.checkpoint.99cabe18-f541-4a52-b8fb-3f488d113032.json';
const V2_JSON_SIDECAR = '_sidecars/00000000000000000005.checkpoint.0000000001.0000000001.aec23d5c-e86d-4012-adcc-d4f08ad67230.parquet';

/** The snapshot of `name` rebuilt from its JSON commits alone, to compare a checkpoint's against. */
async function fromCommits(name: string, version?: number): Promise<Snapshot> {
  const copy = await copyOf(name);
  for (const f of await copy.list('_delta_log')) if (f.path.includes('.checkpoint.')) await copy.delete(f.path);
  return loadSnapshot(copy, '', version);
}

describe('multi-part checkpoints', () => {
  it('are read whole: every part, no commit at or before the checkpoint', async () => {
    const s = await copyOf(MULTI);
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual([part(1), part(2), part(3)]);
    expect(snap.version).toBe(5);
    expect(paths(snap)).toEqual(paths(await fromCommits(MULTI)));
  });

  it('without their JSON stats take them from stats_parsed, in the JSON form', async () => {
    const snap = await loadSnapshot(await copyOf(MULTI), '');
    const byPath = new Map((await fromCommits(MULTI)).files.map((f) => [f.path, f.stats]));
    expect(snap.files.map((f) => f.stats)).toEqual(snap.files.map((f) => byPath.get(f.path)));
    expect(snap.files.find((f) => f.path.includes('743ccd8e'))!.stats).toBe(
      '{"numRecords":1,"minValues":{"id":5,"value":"value_5"},"maxValues":{"id":5,"value":"value_5"},"nullCount":{"id":0,"value":0},"tightBounds":true}',
    );
  });

  it('with a part missing are not read at all: the commits are replayed', async () => {
    const s = await copyOf(MULTI);
    await s.delete(`_delta_log/${part(2)}`);
    const log = await listLog(s, '');
    expect([...log.checkpoints.keys()]).toEqual([]);
    expect(log.incomplete.map((r) => [r.version, r.files.length, r.parts])).toEqual([[5, 2, 3]]);
    const snap = await loadSnapshot(s, '', undefined, log);
    expect(s.reads).toEqual(commits(0, 5));
    expect(paths(snap)).toEqual(paths(await fromCommits(MULTI)));
  });

  it('with a corrupt part fall back to the commits', async () => {
    const s = await copyOf(MULTI);
    await s.write(`_delta_log/${part(3)}`, enc('not parquet'));
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual([part(1), part(2), part(3), ...commits(0, 5)]);
    expect(paths(snap)).toEqual(paths(await fromCommits(MULTI)));
  });

  it('with a corrupt part and the early commits cleaned up: refused, naming the part', async () => {
    const s = await copyOf(MULTI);
    await s.write(`_delta_log/${part(3)}`, enc('not parquet'));
    await s.delete(`_delta_log/${commitName(0)}`);
    await expect(loadSnapshot(s, '')).rejects.toThrow(
      `delta: memory cannot be read at version 5: commit 0 is missing from the log and no usable checkpoint covers it (checkpoint ${part(3)} cannot be read (parquet: cannot read file (`,
    );
  });

  it('with a part missing and the early commits cleaned up: refused, saying which parts are there', async () => {
    const s = await copyOf(MULTI);
    await s.delete(`_delta_log/${part(1)}`);
    await s.delete(`_delta_log/${commitName(0)}`);
    const err = (await loadSnapshot(s, '').catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('VersionUnreadableError');
    expect(err.message).toBe(
      'delta: memory cannot be read at version 5: commit 0 is missing from the log and no usable checkpoint covers it (checkpoint 5 has 2 of its 3 parts)',
    );
  });
});

describe('stats_parsed without JSON stats', () => {
  it('becomes the JSON stats Spark would read; values JSON cannot hold exactly are left out', () => {
    const f = (n: string, t: DataType) => new Field(n, t, true);
    const values = new Struct([
      f('d', new DateDay()),
      f('ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC')),
      f('ntz', new Timestamp(TimeUnit.MICROSECOND)),
      f('big', new Int64()),
      f('n', new Int64()),
      f('x', new Float64()),
      f('s', new Utf8()),
      f('nested', new Struct([f('i', new Int32())])),
    ]);
    const counts = new Struct([f('d', new Int64()), f('nested', new Struct([f('i', new Int64())]))]);
    const add = new Struct([
      f('path', new Utf8()),
      f('size', new Int64()),
      f('dataChange', new Bool()),
      f(
        'stats_parsed',
        new Struct([f('numRecords', new Int64()), f('minValues', values), f('maxValues', values), f('nullCount', counts), f('tightBounds', new Bool())]),
      ),
    ]);
    const v = {
      d: Date.UTC(2024, 2, 1),
      ts: Date.UTC(2024, 2, 1, 1, 2, 3, 456) + 0.789,
      ntz: Date.UTC(1969, 11, 31, 23, 59, 59, 999) + 0.5,
      big: 2n ** 60n,
      n: 7n,
      x: NaN,
      s: 'a',
      nested: { i: 3 },
    };
    const stats_parsed = {
      numRecords: 2n,
      minValues: v,
      maxValues: { ...v, x: 1.5, nested: null },
      nullCount: { d: 0n, nested: { i: 1n } },
      tightBounds: true,
    };
    const table = new Table({ add: vectorFromArray([{ path: 'p', size: 1n, dataChange: true, stats_parsed }], add) });
    expect(readCheckpointActions(encodeParquet(tableToIPC(table, 'stream')))).toEqual([
      {
        add: {
          path: 'p',
          size: 1,
          dataChange: true,
          stats:
            '{"numRecords":2,' +
            '"minValues":{"d":"2024-03-01","ts":"2024-03-01T01:02:03.456Z","ntz":"1969-12-31T23:59:59.999","n":7,"s":"a","nested":{"i":3}},' +
            '"maxValues":{"d":"2024-03-01","ts":"2024-03-01T01:02:03.456Z","ntz":"1969-12-31T23:59:59.999","n":7,"x":1.5,"s":"a"},' +
            '"nullCount":{"d":0,"nested":{"i":1}},"tightBounds":true}',
        },
      },
    ]);
  });
});

describe('V2 checkpoints', () => {
  it('UUID-named JSON: the top-level file, then its sidecar', async () => {
    const s = await copyOf(V2_JSON);
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual([V2_JSON_TOP, V2_JSON_SIDECAR]);
    expect(paths(snap)).toEqual(paths(await fromCommits(V2_JSON)));
    expect(snap.protocol.readerFeatures).toEqual(['deletionVectors', 'v2Checkpoint']);
  });

  it('with a sidecar missing fall back to the commits', async () => {
    const s = await copyOf(V2_JSON);
    await s.delete(`_delta_log/${V2_JSON_SIDECAR}`);
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual([V2_JSON_TOP, V2_JSON_SIDECAR, ...commits(0, 5)]);
    expect(paths(snap)).toEqual(paths(await fromCommits(V2_JSON)));
  });

  it('naming a sidecar outside _delta_log/_sidecars/ are not used', async () => {
    const s = await copyOf(V2_JSON);
    const top = `_delta_log/${V2_JSON_TOP}`;
    await s.write(top, enc(dec(await s.read(top)).replace(/"sidecar":\{"path":"[^"]+"/, '"sidecar":{"path":"..%2F..%2Fsecret.parquet"')));
    await s.delete(`_delta_log/${commitName(0)}`);
    await expect(loadSnapshot(s, '')).rejects.toThrow(
      `delta: memory cannot be read at version 5: commit 0 is missing from the log and no usable checkpoint covers it (checkpoint ${V2_JSON_TOP} names a sidecar ..%2F..%2Fsecret.parquet outside _delta_log/_sidecars/)`,
    );
  });

  it('whose checkpointMetadata names another version are not used', async () => {
    const s = await copyOf(V2_JSON);
    const top = `_delta_log/${V2_JSON_TOP}`;
    await s.write(top, enc(dec(await s.read(top)).replace('{"checkpointMetadata":{"version":5', '{"checkpointMetadata":{"version":4')));
    s.reads = [];
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual([V2_JSON_TOP, ...commits(0, 5)]);
    expect(snap.files).toHaveLength(5);
  });

  it('UUID-named without a checkpointMetadata action are not used', async () => {
    const s = await copyOf(V2_JSON);
    const top = `_delta_log/${V2_JSON_TOP}`;
    await s.write(
      top,
      enc(
        dec(await s.read(top))
          .split('\n')
          .filter((l) => !l.startsWith('{"checkpointMetadata"'))
          .join('\n'),
      ),
    );
    await s.delete(`_delta_log/${commitName(0)}`);
    await expect(loadSnapshot(s, '')).rejects.toThrow(`(checkpoint ${V2_JSON_TOP} is UUID-named but has no checkpointMetadata action)`);
  });

  it('classic-named with V2 content (a checkpointMetadata row, inline actions)', async () => {
    const s = await copyOf('v2-classic-parquet-struct-stats-only');
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual(['00000000000000000005.checkpoint.parquet']);
    expect(paths(snap)).toEqual(paths(await fromCommits('v2-classic-parquet-struct-stats-only')));
  });
});

describe('_last_checkpoint does not decide which checkpoint is read', () => {
  const STALE = 'spark-stale-last-checkpoint';
  const expectNewest = async (s: RecordingStorage) => {
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual(['00000000000000000010.checkpoint.parquet', ...commits(11, 12)]);
    expect(paths(snap)).toEqual(paths(await fromCommits(STALE)));
  };

  it('stale (it names version 5; 10 is newer)', async () => {
    const s = await copyOf(STALE);
    expect(JSON.parse(dec(await s.read('_delta_log/_last_checkpoint'))).version).toBe(5);
    s.reads = [];
    await expectNewest(s);
  });

  it('missing', async () => {
    const s = await copyOf(STALE);
    await s.delete('_delta_log/_last_checkpoint');
    await expectNewest(s);
  });

  it('corrupt', async () => {
    const s = await copyOf(STALE);
    await s.write('_delta_log/_last_checkpoint', enc('{"version": 1'));
    await expectNewest(s);
  });

  it('naming a checkpoint that is not there', async () => {
    const s = await copyOf(STALE);
    await s.write('_delta_log/_last_checkpoint', enc('{"version":12,"size":9,"parts":3}'));
    await expectNewest(s);
  });

  it('time travel uses the newest checkpoint at or below the version', async () => {
    const s = await copyOf(STALE);
    await loadSnapshot(s, '', 9);
    expect(s.reads).toEqual(['00000000000000000005.checkpoint.parquet', ...commits(6, 9)]);
  });

  it('a corrupt newest checkpoint falls back to the older one', async () => {
    const s = await copyOf(STALE);
    await s.write('_delta_log/00000000000000000010.checkpoint.parquet', enc('garbage'));
    const snap = await loadSnapshot(s, '');
    expect(s.reads).toEqual(['00000000000000000010.checkpoint.parquet', '00000000000000000005.checkpoint.parquet', ...commits(6, 12)]);
    expect(paths(snap)).toEqual(paths(await fromCommits(STALE)));
  });
});

describe('domain metadata', () => {
  it('is kept per domain, the latest wins, and removed: true drops it', async () => {
    const s = new MemoryStorage();
    const protocol = { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['domainMetadata'] };
    const metaData = {
      id: 'm',
      format: { provider: 'parquet', options: {} },
      partitionColumns: [],
      configuration: {},
      schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] }),
    };
    await commit(s, 't', -1, [{ protocol }, { metaData }, { domainMetadata: { domain: 'a', configuration: '{"x":1}', removed: false } }]);
    await commit(s, 't', 0, [{ domainMetadata: { domain: 'b', configuration: '{}', removed: false } }]);
    await commit(s, 't', 1, [{ domainMetadata: { domain: 'a', configuration: '{"x":2}', removed: false } }]);
    await commit(s, 't', 2, [{ domainMetadata: { domain: 'b', configuration: '{}', removed: true } }]);
    const at = async (v: number) => [...(await loadSnapshot(s, 't', v)).domainMetadata.values()];
    expect(await at(1)).toEqual([
      { domain: 'a', configuration: '{"x":1}', removed: false },
      { domain: 'b', configuration: '{}', removed: false },
    ]);
    expect(await at(3)).toEqual([{ domain: 'a', configuration: '{"x":2}', removed: false }]);
  });

  it('is read from a V2 checkpoint Spark wrote (clustering, row tracking)', async () => {
    const snap = await loadSnapshot(await copyOf('spark-v2-parquet-sidecars'), '');
    const viaCommits = await fromCommits('spark-v2-parquet-sidecars');
    expect([...snap.domainMetadata.keys()].sort()).toEqual(['delta.clustering', 'delta.rowTracking']);
    expect(snap.domainMetadata).toEqual(viaCommits.domainMetadata);
    expect(snap.domainMetadata.get('delta.clustering')!.configuration).toBe('{"clusteringColumns":[["id"]],"domainName":"delta.clustering"}');
    const rows = (ss: Snapshot) => ss.files.map((f) => [f.path, f.baseRowId, f.defaultRowCommitVersion]).sort();
    expect(rows(snap)).toEqual(rows(viaCommits));
    expect(snap.files.every((f) => typeof f.baseRowId === 'number' && typeof f.defaultRowCommitVersion === 'number')).toBe(true);
  });
});

describe('the checkpoint writer on foreign tables', () => {
  /** Replace the log of `s` at and below `version` by the checkpoint our writer makes there. */
  async function onlyOurCheckpoint(s: MemoryStorage, version: number): Promise<void> {
    for (const f of await s.list('_delta_log')) {
      const name = f.path.slice('_delta_log/'.length);
      const v = Number(name.slice(0, 20));
      if (name.startsWith('_sidecars/') || (/^\d{20}\./.test(name) && v <= version)) await s.delete(f.path);
    }
  }

  it('keeps every field, domain and tombstone of a row-tracking, clustered V2 table', async () => {
    const s = await copyOf('spark-v2-parquet-sidecars');
    const before = await loadSnapshot(s, '');
    await onlyOurCheckpoint(s, before.version);
    const outcome = await writeCheckpoint(s, '', before, before.files[0]!.modificationTime);
    expect(outcome).toEqual({ written: true, file: `${String(before.version).padStart(20, '0')}.checkpoint.parquet` });
    s.reads = [];
    const after = await loadSnapshot(s, '');
    expect(s.reads).toEqual([outcome.written && outcome.file]);
    expect(after.files).toEqual(before.files);
    expect(after.tombstones.map((r) => r.path).sort()).toEqual(before.tombstones.map((r) => r.path).sort());
    expect(after.domainMetadata).toEqual(before.domainMetadata);
    expect(after.protocol).toEqual(before.protocol);
    expect(after.metadata).toEqual(before.metadata);
    expect(JSON.parse(dec(await s.read('_delta_log/_last_checkpoint')))).toEqual({
      version: before.version,
      size: expect.any(Number),
      sizeInBytes: expect.any(Number),
      numOfAddFiles: before.files.length,
    });
  });

  it('writes no checkpoint when a file action has a field it has no column for', async () => {
    const s = await copyOf('spark-v2-json-sidecars');
    const snap = await loadSnapshot(s, '');
    snap.files[0] = { ...snap.files[0]!, futureField: 7 } as never;
    const before = (await s.list('_delta_log')).map((f) => f.path);
    expect(await writeCheckpoint(s, '', snap)).toEqual({
      written: false,
      reason: 'its add actions have a field futureField that this checkpoint writer does not know',
    });
    expect((await s.list('_delta_log')).map((f) => f.path)).toEqual(before);
  });

  it('does not move _last_checkpoint back to an older version', async () => {
    const s = await copyOf('spark-stale-last-checkpoint');
    await s.write('_delta_log/_last_checkpoint', enc('{"version":10,"size":20}'));
    await writeCheckpoint(s, '', await loadSnapshot(s, '', 5));
    expect(dec(await s.read('_delta_log/_last_checkpoint'))).toBe('{"version":10,"size":20}');
  });
});

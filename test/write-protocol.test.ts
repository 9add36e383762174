import { tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Action, Add, DomainMetadata, Protocol } from '../src/delta/actions.ts';
import { writeCheckpoint } from '../src/delta/checkpoint-writer.ts';
import { deletionVectorFile } from '../src/delta/deletion-vectors.ts';
import { optimizeTable } from '../src/delta/optimize.ts';
import { ConstraintViolationError } from '../src/delta/row-checks.ts';
import type { DeltaField } from '../src/delta/schema.ts';
import { loadSnapshot, readCommit, type Snapshot } from '../src/delta/snapshot.ts';
import { computeStats } from '../src/delta/stats.ts';
import { vacuumTable } from '../src/delta/vacuum.ts';
import { WriteRefusedError, checkWritable, writerFeaturesOf } from '../src/delta/write-protocol.ts';
import { openWriter, removeOf, writeTable } from '../src/delta/writer.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet, encodeParquet } from '../src/parquet/codec.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { testEngine } from './helpers/engine.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const field = (name: string, type: DeltaField['type'], extra: Partial<DeltaField> = {}): DeltaField => ({ name, type, nullable: true, metadata: {}, ...extra });
const ID_NAME = [field('id', 'long'), field('name', 'string')];

interface TableSpec {
  protocol: Protocol;
  configuration?: Record<string, string>;
  fields?: DeltaField[];
  domains?: DomainMetadata[];
  /** data files of version 1, each of `rows` rows (ids from 0 up); fields of their adds */
  files?: Partial<Add>[];
  rows?: number;
  /** the inCommitTimestamp of both commits */
  ict?: number;
}

/** A table as another engine would leave it: version 0 creates it, version 1 adds `files`, its log written directly. */
async function tableOf(spec: TableSpec): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const fields = spec.fields ?? ID_NAME;
  const info = (v: number) => ({
    commitInfo: {
      ...(spec.ict ? { inCommitTimestamp: spec.ict + v } : {}),
      timestamp: 1_700_000_000_000 + v,
      operation: 'WRITE',
      engineInfo: 'Apache-Spark/4.2.0 Delta-Lake/4.4.0',
    },
  });
  const v0: Action[] = [
    info(0),
    { protocol: spec.protocol },
    {
      metaData: {
        id: '5ffde581-42e2-48eb-a684-bb93c2b968eb',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify({ type: 'struct', fields }),
        partitionColumns: [],
        configuration: spec.configuration ?? {},
        createdTime: 1_700_000_000_000,
      },
    },
    ...(spec.domains ?? []).map((domainMetadata) => ({ domainMetadata })),
  ];
  await storage.write('t/_delta_log/00000000000000000000.json', new TextEncoder().encode(`${v0.map((a) => JSON.stringify(a)).join('\n')}\n`));
  const rows = spec.rows ?? 3;
  const v1: Action[] = [info(1)];
  for (const [i, extra] of (spec.files ?? []).entries()) {
    const data = engine.query(`SELECT (range + ${i * rows})::BIGINT AS id, 'n' || range AS name FROM range(${rows})`);
    const bytes = encodeParquet(tableToIPC(data, 'stream'));
    const path = `part-0000${i}-spark-c000.snappy.parquet`;
    await storage.write(`t/${path}`, bytes);
    v1.push({
      add: {
        path,
        partitionValues: {},
        size: bytes.byteLength,
        modificationTime: 1_700_000_000_000,
        dataChange: true,
        stats: JSON.stringify(computeStats(data)),
        ...extra,
      },
    });
  }
  await storage.write('t/_delta_log/00000000000000000001.json', new TextEncoder().encode(`${v1.map((a) => JSON.stringify(a)).join('\n')}\n`));
  return storage;
}

const rowsSql = (ids: string) =>
  `SELECT id::BIGINT AS id, 'x' || id AS name FROM (VALUES ${ids
    .split(',')
    .map((i) => `(${i})`)
    .join(', ')}) v(id)`;
const v7 = (writerFeatures: string[], readerFeatures?: string[]): Protocol =>
  readerFeatures ? { minReaderVersion: 3, minWriterVersion: 7, readerFeatures, writerFeatures } : { minReaderVersion: 1, minWriterVersion: 7, writerFeatures };

async function refusal(promise: Promise<unknown>): Promise<WriteRefusedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WriteRefusedError);
  return err as WriteRefusedError;
}

async function files(storage: MemoryStorage): Promise<string[]> {
  return (await storage.list('t')).map((f) => f.path);
}

async function log(storage: MemoryStorage, version: number): Promise<Action[]> {
  return readCommit(storage, 't', version);
}

describe('writer versions and features', () => {
  it('reads legacy writer versions as the features they stand for', () => {
    expect(writerFeaturesOf({ minReaderVersion: 1, minWriterVersion: 1 })).toEqual([]);
    expect(writerFeaturesOf({ minReaderVersion: 1, minWriterVersion: 2 })).toEqual(['appendOnly', 'invariants']);
    expect(writerFeaturesOf({ minReaderVersion: 1, minWriterVersion: 4 })).toEqual([
      'appendOnly',
      'invariants',
      'checkConstraints',
      'changeDataFeed',
      'generatedColumns',
    ]);
    expect(writerFeaturesOf({ minReaderVersion: 2, minWriterVersion: 6 })).toEqual([
      'appendOnly',
      'invariants',
      'checkConstraints',
      'changeDataFeed',
      'generatedColumns',
      'columnMapping',
      'identityColumns',
    ]);
    expect(writerFeaturesOf(v7(['rowTracking', 'domainMetadata']))).toEqual(['rowTracking', 'domainMetadata']);
  });

  it.each([
    [
      'an unknown writer feature',
      { protocol: v7(['appendOnly', 'fancyNewThing']) },
      'fancyNewThing',
      'the table needs the writer feature "fancyNewThing", which this writer does not implement',
    ],
    [
      'a writer version above 7',
      { protocol: { minReaderVersion: 1, minWriterVersion: 8 } },
      'writerVersion 8',
      'the table needs writer version 8, and this writer implements versions up to 7',
    ],
    [
      'a generated column',
      {
        protocol: { minReaderVersion: 1, minWriterVersion: 4 },
        fields: [field('id', 'long'), field('name', 'string', { metadata: { 'delta.generationExpression': 'upper(id)' } })],
      },
      'generatedColumns',
      'column name is generated as "upper(id)" (writer feature "generatedColumns"), and this writer does not compute generated columns',
    ],
    [
      'an identity column',
      {
        protocol: v7(['identityColumns', 'invariants', 'appendOnly']),
        fields: [
          field('id', 'long', { metadata: { 'delta.identity.start': 1, 'delta.identity.step': 1, 'delta.identity.allowExplicitInsert': false } }),
          field('name', 'string'),
        ],
      },
      'identityColumns',
      'column id is an identity column (writer feature "identityColumns"), and this writer does not assign identity values',
    ],
    [
      'a column default',
      { protocol: v7(['allowColumnDefaults']), fields: [field('id', 'long'), field('name', 'string', { metadata: { CURRENT_DEFAULT: "'anon'" } })] },
      'allowColumnDefaults',
      'column name has a default value (writer feature "allowColumnDefaults"), and this writer does not fill in defaults',
    ],
    [
      'a CHECK constraint it cannot evaluate',
      { protocol: { minReaderVersion: 1, minWriterVersion: 3 }, configuration: { 'delta.constraints.short_name': 'name RLIKE "^[a-z]+$"' } },
      'checkConstraints',
      'the CHECK constraint "short_name" (name RLIKE "^[a-z]+$") cannot be checked by this writer (writer feature "checkConstraints"): unexpected "RLIKE"',
    ],
    [
      'an invariant without an expression',
      {
        protocol: { minReaderVersion: 1, minWriterVersion: 2 },
        fields: [field('id', 'long', { metadata: { 'delta.invariants': '{"x":1}' } }), field('name', 'string')],
      },
      'invariants',
      'the invariant of column id cannot be checked by this writer (writer feature "invariants"): its delta.invariants metadata "{\\"x\\":1}" holds no expression',
    ],
    [
      'a clustering column without statistics',
      {
        protocol: v7(['clustering', 'domainMetadata']),
        fields: [field('id', 'long'), field('name', 'binary')],
        domains: [{ domain: 'delta.clustering', configuration: '{"clusteringColumns":[["name"]],"domainName":"delta.clustering"}', removed: false }],
      },
      'clustering',
      'its clustering column name would get no per-file statistics from this writer (writer feature "clustering"), which clustered tables require',
    ],
  ])('refuses to append to a table with %s, before writing any file', async (_what, spec, feature, reason) => {
    const storage = await tableOf({ ...spec, files: [{}] } as TableSpec);
    const before = await files(storage);
    const data = (spec as TableSpec).fields?.[1]?.type === 'binary' ? engine.query(`SELECT 1::BIGINT AS id, 'a'::BLOB AS name`) : engine.query(rowsSql('7'));
    const err = await refusal(writeTable(storage, 't', data, { mode: 'append', engine }));
    expect(err.message).toBe(`delta: cannot append to memory/t at version 1: ${reason}`);
    expect(err.feature).toBe(feature);
    expect(err.version).toBe(1);
    expect(await files(storage)).toEqual(before);
  });

  it('appends to a table whose features it implements, leaving the protocol and metadata alone', async () => {
    const storage = await tableOf({
      protocol: v7(
        [
          'appendOnly',
          'invariants',
          'checkConstraints',
          'changeDataFeed',
          'timestampNtz',
          'vacuumProtocolCheck',
          'typeWidening',
          'v2Checkpoint',
          'deletionVectors',
          'domainMetadata',
        ],
        ['timestampNtz', 'vacuumProtocolCheck'],
      ),
      configuration: { 'delta.enableChangeDataFeed': 'true', 'delta.appendOnly': 'true' },
      domains: [{ domain: 'com.example.app', configuration: '{"k":1}', removed: false }],
      files: [{}],
    });
    const r = await writeTable(storage, 't', engine.query(rowsSql('10,11')), { mode: 'append', engine });
    expect(r.version).toBe(2);
    const actions = await log(storage, 2);
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'add']);
    const snap = await loadSnapshot(storage, 't');
    expect(snap.files).toHaveLength(2);
    expect([...snap.domainMetadata.keys()]).toEqual(['com.example.app']);
  });
});

describe('append-only tables', () => {
  const appendOnly = { protocol: { minReaderVersion: 1, minWriterVersion: 2 }, configuration: { 'delta.appendOnly': 'true' } };

  it('take appends, and refuse an overwrite', async () => {
    const storage = await tableOf({ ...appendOnly, files: [{}] });
    expect((await writeTable(storage, 't', engine.query(rowsSql('5')), { mode: 'append', engine })).version).toBe(2);
    const before = await files(storage);
    const err = await refusal(writeTable(storage, 't', engine.query(rowsSql('6')), { mode: 'overwrite', engine }));
    expect(err.message).toBe(
      'delta: cannot overwrite memory/t at version 2: the table is append-only (writer feature "appendOnly", delta.appendOnly = true), so its rows may not be removed or replaced',
    );
    expect(await files(storage)).toEqual(before);
  });

  it('may be compacted: OPTIMIZE only rearranges rows (dataChange false)', async () => {
    const storage = await tableOf({ ...appendOnly, files: [{}, {}, {}] });
    const r = await optimizeTable(storage, 't');
    expect(r.version).toBe(2);
    expect((await log(storage, 2)).filter((a) => 'remove' in a).map((a) => (a as { remove: { dataChange: boolean } }).remove.dataChange)).toEqual([
      false,
      false,
      false,
    ]);
  });
});

describe("rows that break the table's rules", () => {
  const spec: TableSpec = {
    protocol: { minReaderVersion: 1, minWriterVersion: 3 },
    configuration: { 'delta.constraints.positive': 'id > 0' },
    fields: [
      field('id', 'long', { nullable: false }),
      field('name', 'string', { metadata: { 'delta.invariants': '{"expression":{"expression":"length(name) < 4"}}' } }),
    ],
    files: [{}],
  };

  it.each([
    [
      'a CHECK constraint',
      "SELECT * FROM (VALUES (1::BIGINT, 'a'), (-1, 'b'), (0, 'c')) v(id, name)",
      '2 of 3 rows violate the CHECK constraint "positive" (id > 0)',
    ],
    [
      'an invariant',
      `SELECT * FROM (VALUES (1::BIGINT, 'abcd'), (2, NULL)) v(id, name)`,
      '2 of 2 rows violate the invariant of column name (length(name) < 4)',
    ],
    ['NOT NULL', `SELECT * FROM (VALUES (NULL::BIGINT, 'a'), (2, 'b')) v(id, name)`, '1 of 2 rows violates the NOT NULL constraint of column id'],
  ])('refuse the write when a row breaks %s, and leave no file behind', async (_what, sql, reason) => {
    const storage = await tableOf(spec);
    const before = await files(storage);
    const err = await (async () => {
      const writer = await openWriter(storage, 't', { mode: 'append', engine });
      // A batch that passed is written first; it goes when a later one fails.
      await writer.write(engine.query(rowsSql('5')));
      await writer.write(engine.query(sql));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConstraintViolationError);
    expect((err as Error).message).toBe(`delta: cannot append to memory/t at version 1: ${reason}, so nothing was written`);
    expect(await files(storage)).toEqual(before);
  });

  it('take rows that meet them all', async () => {
    const storage = await tableOf(spec);
    expect(
      (await writeTable(storage, 't', engine.query(`SELECT * FROM (VALUES (1::BIGINT, 'abc'), (2, 'b')) v(id, name)`), { mode: 'append', engine })).version,
    ).toBe(2);
  });

  it('are not written without an engine to check them', async () => {
    const storage = await tableOf(spec);
    const err = await refusal(writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'append' }));
    expect(err.message).toBe('delta: cannot append to memory/t at version 1: the NOT NULL constraint of column id cannot be checked without a SQL engine');
  });

  it('check NOT NULL below a struct only where the struct is present', async () => {
    const inner = { type: 'struct' as const, fields: [field('zip', 'string', { nullable: false })] };
    const storage = await tableOf({ protocol: { minReaderVersion: 1, minWriterVersion: 2 }, fields: [field('id', 'long'), field('addr', inner)] });
    const ok = await writeTable(storage, 't', engine.query(`SELECT * FROM (VALUES (1::BIGINT, {'zip': '1'}), (2, NULL)) v(id, addr)`), {
      mode: 'append',
      engine,
    });
    expect(ok.version).toBe(2);
    await expect(writeTable(storage, 't', engine.query(`SELECT 3::BIGINT AS id, {'zip': NULL::VARCHAR} AS addr`), { mode: 'append', engine })).rejects.toThrow(
      'delta: cannot append to memory/t at version 2: 1 of 1 row violates the NOT NULL constraint of column addr.zip, so nothing was written',
    );
  });
});

describe('in-commit timestamps', () => {
  const ict = { protocol: v7(['inCommitTimestamp', 'invariants', 'appendOnly']), configuration: { 'delta.enableInCommitTimestamps': 'true' } };

  it("put commitInfo first, with a timestamp after the previous commit's even when the clock is behind", async () => {
    const future = Date.now() + 3_600_000;
    const storage = await tableOf({ ...ict, ict: future, files: [{}] });
    await writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'append', engine });
    const [first] = await log(storage, 2);
    const info = (first as { commitInfo: Record<string, unknown> }).commitInfo;
    expect(Object.keys(info)[0]).toBe('inCommitTimestamp');
    expect(info.inCommitTimestamp).toBe(future + 2);
    expect(info.timestamp).toBe(future + 2);
  });

  it('follow the clock when it is ahead', async () => {
    const storage = await tableOf({ ...ict, ict: 1_700_000_000_000, files: [{}] });
    const before = Date.now();
    await optimizeTable(storage, 't', { targetFileSize: 1 << 20 }); // one file: nothing to do, no commit
    await writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'append', engine });
    const stamp = ((await log(storage, 2))[0] as { commitInfo: { inCommitTimestamp: number } }).commitInfo.inCommitTimestamp;
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });

  it('are not written when the feature is listed but not enabled', async () => {
    const storage = await tableOf({ protocol: ict.protocol, files: [{}] });
    await writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'append', engine });
    expect('inCommitTimestamp' in ((await log(storage, 2))[0] as { commitInfo: object }).commitInfo).toBe(false);
  });

  it('stay later than the commit that took the version first', async () => {
    const storage = await tableOf({ ...ict, ict: 1_700_000_000_000, files: [{}] });
    const writer = await openWriter(storage, 't', { mode: 'append', engine });
    await writer.write(engine.query(rowsSql('1')));
    const theirs = Date.now() + 7_200_000;
    await storage.write(
      't/_delta_log/00000000000000000002.json',
      new TextEncoder().encode(`${JSON.stringify({ commitInfo: { inCommitTimestamp: theirs, timestamp: theirs, operation: 'WRITE' } })}\n`),
    );
    expect((await writer.commit()).version).toBe(3);
    expect(((await log(storage, 3))[0] as { commitInfo: { inCommitTimestamp: number; readVersion: number } }).commitInfo).toMatchObject({
      inCommitTimestamp: theirs + 1,
      readVersion: 2,
    });
  });
});

describe('row tracking', () => {
  const tracked = (enabled: boolean): TableSpec => ({
    protocol: v7(['domainMetadata', 'rowTracking', 'invariants', 'appendOnly']),
    configuration: enabled ? { 'delta.enableRowTracking': 'true', 'delta.rowTracking.materializedRowIdColumnName': '_row-id-col-x' } : {},
    domains: [{ domain: 'delta.rowTracking', configuration: '{"rowIdHighWaterMark":5,"domainName":"delta.rowTracking"}', removed: false }],
    files: [
      { baseRowId: 0, defaultRowCommitVersion: 1 },
      { baseRowId: 3, defaultRowCommitVersion: 1 },
    ],
  });
  const adds = (actions: Action[]) => actions.filter((a) => 'add' in a).map((a) => (a as { add: Add }).add);
  const mark = (actions: Action[]) => actions.filter((a) => 'domainMetadata' in a).map((a) => (a as { domainMetadata: DomainMetadata }).domainMetadata);

  it('gives new rows IDs above the high-water mark and the commit version, and raises the mark', async () => {
    const storage = await tableOf(tracked(true));
    await writeTable(storage, 't', engine.query(rowsSql('1,2,3,4')), { mode: 'append', engine, maxRowsPerFile: 3 });
    const actions = await log(storage, 2);
    expect(adds(actions).map((a) => [a.baseRowId, a.defaultRowCommitVersion])).toEqual([
      [6, 2],
      [9, 2],
    ]);
    expect(mark(actions)).toEqual([{ domain: 'delta.rowTracking', configuration: '{"rowIdHighWaterMark":9}', removed: false }]);
    expect((actions[0] as { commitInfo: { tags: object } }).commitInfo.tags).toEqual({ 'delta.rowTracking.preserved': 'true' });
    expect((await loadSnapshot(storage, 't')).domainMetadata.get('delta.rowTracking')?.configuration).toBe('{"rowIdHighWaterMark":9}');
  });

  it('keeps the row IDs of the files an overwrite removes, on their removes', async () => {
    const storage = await tableOf(tracked(true));
    await writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'overwrite', engine });
    const actions = await log(storage, 2);
    expect(
      actions
        .filter((a) => 'remove' in a)
        .map((a) => (a as { remove: { baseRowId: number; defaultRowCommitVersion: number } }).remove)
        .map((r) => [r.baseRowId, r.defaultRowCommitVersion]),
    ).toEqual([
      [0, 1],
      [3, 1],
    ]);
    expect(adds(actions).map((a) => a.baseRowId)).toEqual([6]);
  });

  it('assigns again after another writer took the version and raised the mark', async () => {
    const storage = await tableOf(tracked(false));
    const writer = await openWriter(storage, 't', { mode: 'append', engine });
    await writer.write(engine.query(rowsSql('1,2')));
    await storage.write(
      't/_delta_log/00000000000000000002.json',
      new TextEncoder().encode(
        `${[
          JSON.stringify({ commitInfo: { operation: 'WRITE' } }),
          JSON.stringify({
            add: {
              path: 'x.parquet',
              partitionValues: {},
              size: 1,
              modificationTime: 1,
              dataChange: true,
              stats: '{"numRecords":10}',
              baseRowId: 6,
              defaultRowCommitVersion: 2,
            },
          }),
          JSON.stringify({ domainMetadata: { domain: 'delta.rowTracking', configuration: '{"rowIdHighWaterMark":15}', removed: false } }),
        ].join('\n')}\n`,
      ),
    );
    expect((await writer.commit()).version).toBe(3);
    const actions = await log(storage, 3);
    expect(adds(actions).map((a) => [a.baseRowId, a.defaultRowCommitVersion])).toEqual([[16, 3]]);
    expect(mark(actions)[0]!.configuration).toBe('{"rowIdHighWaterMark":17}');
    expect('tags' in (actions[0] as { commitInfo: object }).commitInfo).toBe(false);
  });

  it('gives compacted files fresh IDs when IDs are only supported, and refuses OPTIMIZE when they must stay stable', async () => {
    const fresh = await tableOf(tracked(false));
    await optimizeTable(fresh, 't');
    expect(adds(await log(fresh, 2)).map((a) => [a.baseRowId, a.defaultRowCommitVersion, a.dataChange])).toEqual([[6, 2, false]]);
    const stable = await tableOf(tracked(true));
    const err = await refusal(optimizeTable(stable, 't'));
    expect(err.message).toBe(
      'delta: cannot OPTIMIZE memory/t at version 1: the table keeps stable row IDs (writer feature "rowTracking", delta.enableRowTracking = true), ' +
        'and OPTIMIZE here would move rows to new files without the materialized row ID columns that keep their IDs',
    );
  });

  it('assigns nothing while suspended', async () => {
    const storage = await tableOf({ ...tracked(false), configuration: { 'delta.rowTrackingSuspended': 'true' } });
    await writeTable(storage, 't', engine.query(rowsSql('1')), { mode: 'append', engine });
    const actions = await log(storage, 2);
    expect(adds(actions)[0]!.baseRowId).toBeUndefined();
    expect(mark(actions)).toEqual([]);
  });
});

describe('OPTIMIZE, VACUUM and checkpoints', () => {
  it('OPTIMIZE leaves files clustered by an engine as they are', async () => {
    const storage = await tableOf({
      protocol: v7(['domainMetadata', 'clustering']),
      domains: [{ domain: 'delta.clustering', configuration: '{"clusteringColumns":[["id"]]}', removed: false }],
      files: [{ clusteringProvider: 'liquid' }, { clusteringProvider: 'liquid' }, {}, {}],
    });
    const r = await optimizeTable(storage, 't');
    expect([r.filesRemoved, r.filesAdded]).toEqual([2, 1]);
    const removed = (await log(storage, 2)).filter((a) => 'remove' in a).map((a) => (a as { remove: { path: string } }).remove.path);
    expect(removed).toEqual(['part-00002-spark-c000.snappy.parquet', 'part-00003-spark-c000.snappy.parquet']);
  });

  it("OPTIMIZE writes timestamps as the schema's type, whatever unit the files had (Spark's INT96 reads as nanoseconds)", async () => {
    const storage = await tableOf({ protocol: { minReaderVersion: 1, minWriterVersion: 2 }, fields: [field('id', 'long'), field('ts', 'timestamp')] });
    const adds: Action[] = [];
    for (const [i, sql] of [
      `SELECT 1::BIGINT AS id, TIMESTAMP_NS '1969-12-31 23:59:59.999999' AS ts UNION ALL SELECT 2, NULL`,
      `SELECT 3::BIGINT AS id, TIMESTAMPTZ '2024-05-06 07:08:09.123456+00' AS ts`,
    ].entries()) {
      const bytes = encodeParquet(engine.queryIPC(sql));
      await storage.write(`t/f${i}.parquet`, bytes);
      adds.push({
        add: { path: `f${i}.parquet`, partitionValues: {}, size: bytes.byteLength, modificationTime: 1, dataChange: true, stats: `{"numRecords":${2 - i}}` },
      });
    }
    await storage.write('t/_delta_log/00000000000000000002.json', new TextEncoder().encode(`${adds.map((a) => JSON.stringify(a)).join('\n')}\n`));
    const r = await optimizeTable(storage, 't');
    expect([r.filesRemoved, r.filesAdded, r.rows]).toEqual([2, 1, 3]);
    const added = (await log(storage, 3)).find((a) => 'add' in a) as { add: Add };
    engine.insertIPC('compacted', decodeParquet(await storage.read(`t/${added.add.path}`)));
    expect(engine.rows(`SELECT column_name, column_type FROM (DESCRIBE compacted)`)).toEqual([
      { column_name: 'id', column_type: 'BIGINT' },
      { column_name: 'ts', column_type: 'TIMESTAMP WITH TIME ZONE' },
    ]);
    expect(engine.rows(`SELECT id, epoch_us(ts) AS us FROM compacted ORDER BY id`)).toEqual([
      { id: 1n, us: -1n },
      { id: 2n, us: null },
      { id: 3n, us: 1714979289123456n },
    ]);
  });

  it('VACUUM and OPTIMIZE refuse what they do not implement', async () => {
    const storage = await tableOf({ protocol: v7(['futureFeature']), files: [{}, {}] });
    expect((await refusal(vacuumTable(storage, 't'))).message).toBe(
      'delta: cannot VACUUM memory/t at version 1: the table needs the writer feature "futureFeature", which this writer does not implement',
    );
    expect((await refusal(optimizeTable(storage, 't'))).message).toBe(
      'delta: cannot OPTIMIZE memory/t at version 1: the table needs the writer feature "futureFeature", which this writer does not implement',
    );
  });

  it.each([
    [
      'statistics as structs',
      { protocol: { minReaderVersion: 1, minWriterVersion: 3 }, configuration: { 'delta.checkpoint.writeStatsAsStruct': 'true' } },
      'checkpoint statistics',
      'the table asks for statistics as structs in checkpoints (delta.checkpoint.writeStatsAsStruct = true), which this writer does not write',
    ],
  ])('a checkpoint is not written for a table with %s', async (_what, spec, feature, reason) => {
    const storage = await tableOf(spec as TableSpec);
    const err = await refusal(loadSnapshot(storage, 't').then((s) => writeCheckpoint(storage, 't', s)));
    expect(err.feature).toBe(feature);
    expect(err.message).toBe(`delta: cannot write a checkpoint of memory/t at version 1: ${reason}`);
    expect((await files(storage)).some((p) => p.includes('checkpoint'))).toBe(false);
  });
});

describe('features the reader cannot load yet, checked on the snapshot itself', () => {
  const snapshotOf = (over: Partial<Snapshot>): Snapshot => ({
    table: 't',
    name: 'memory/t',
    version: 4,
    protocol: { minReaderVersion: 1, minWriterVersion: 2 },
    metadata: { id: 'x', format: { provider: 'parquet', options: {} }, schemaString: '', partitionColumns: [], configuration: {} },
    schema: { type: 'struct', fields: ID_NAME },
    files: [],
    tombstones: [],
    txns: new Map(),
    domainMetadata: new Map(),
    ...over,
  });
  const dv = { storageType: 'u', pathOrInlineDv: 'WYbkwCTB$gH)J7t?$/sK', offset: 1, sizeInBytes: 36, cardinality: 2 };

  it('column mapping: no write until the writer writes mapped names', () => {
    const s = snapshotOf({
      protocol: { minReaderVersion: 2, minWriterVersion: 5 },
      metadata: { ...snapshotOf({}).metadata, configuration: { 'delta.columnMapping.mode': 'name' } },
    });
    expect(() => checkWritable(s, 'append', 'T')).toThrow(
      'delta: cannot append to T at version 4: the table maps its columns by name (writer feature "columnMapping"), and this writer does not write mapped column names',
    );
    expect(checkWritable(s, 'vacuum', 'T').rowChecks).toEqual([]);
  });

  it('deletion vectors: appends, overwrites and checkpoints fine, the remove names the vector', () => {
    const file: Add = { path: 'a.parquet', partitionValues: {}, size: 10, modificationTime: 1, dataChange: true, deletionVector: dv, baseRowId: 4 };
    const s = snapshotOf({ protocol: v7(['deletionVectors'], ['deletionVectors']), files: [file] });
    expect(checkWritable(s, 'append', 'T').rowTracking).toBe('none');
    expect(checkWritable(s, 'overwrite', 'T').inCommitTimestamp).toBe(false);
    expect(removeOf(file, 99, true)).toEqual({
      path: 'a.parquet',
      deletionTimestamp: 99,
      dataChange: true,
      extendedFileMetadata: true,
      partitionValues: {},
      size: 10,
      deletionVector: dv,
      baseRowId: 4,
    });
    expect(checkWritable(s, 'checkpoint', 'T').rowChecks).toEqual([]);
  });

  it('names the file of a deletion vector as Delta does', () => {
    // From Delta's own test table table-with-dv-small (the file is b6a98cdd-7843-470d-8897-708cdffa38c5).
    expect(deletionVectorFile(dv)).toBe('deletion_vector_b6a98cdd-7843-470d-8897-708cdffa38c5.bin');
    expect(deletionVectorFile({ ...dv, pathOrInlineDv: `ab${dv.pathOrInlineDv}` })).toBe('ab/deletion_vector_b6a98cdd-7843-470d-8897-708cdffa38c5.bin');
    expect(deletionVectorFile({ ...dv, storageType: 'i', pathOrInlineDv: '^Bg9^0rr910000000000iXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L' })).toBeUndefined();
    expect(() => deletionVectorFile({ ...dv, storageType: 'p', pathOrInlineDv: 's3://b/x.bin' })).toThrow(
      "it is a s3: URI, and only files inside the table's folder are read",
    );
  });
});

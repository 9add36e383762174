import { rm } from 'node:fs/promises';
import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyLakehouse, type CopyProgress } from '../src/delta/copy.ts';
import { writeTable } from '../src/delta/writer.ts';
import { initParquet } from '../src/parquet/node.ts';
import { azureConfig, connectionOrigin, connectionStorage } from '../src/storage/connection.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { StoreUnreachableError } from '../src/storage/object.ts';
import type { Lakehouse } from '../src/worker/lakehouse.ts';
import { ReadOnlyTableError, StoreTableStorage } from '../src/worker/opened.ts';
import { explainUnreachable } from '../src/worker/remote.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

initParquet();
// The page's side of object storage without a browser or a store (the emulators: test/e2e/object-storage.e2e.test.ts).
const rows = (batch: string, ...n: number[]) =>
  new Table({
    batch: vectorFromArray(
      n.map(() => batch),
      new Utf8(),
    ),
    n: vectorFromArray(n, new Float64()),
  });

describe('a connection from the page’s form', () => {
  test('an Azure container URL: Azurite’s path-style account, a host-style account, a SAS or a key', () => {
    expect(azureConfig({ kind: 'azure', containerUrl: 'http://127.0.0.1:10000/devstoreaccount1/lake?sv=2022-11-02&sr=c&sp=rl&sig=abc', prefix: '' })).toEqual({
      account: 'devstoreaccount1',
      container: 'lake',
      endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
      auth: { sas: 'sv=2022-11-02&sr=c&sp=rl&sig=abc' },
    });
    expect(azureConfig({ kind: 'azure', containerUrl: 'https://acct.blob.core.windows.net/data', prefix: 'x', accountKey: 'a2V5' })).toEqual({
      account: 'acct',
      container: 'data',
      endpoint: 'https://acct.blob.core.windows.net',
      auth: { key: 'a2V5' },
    });
    expect(() => azureConfig({ kind: 'azure', containerUrl: 'https://acct.blob.core.windows.net/data', prefix: '' })).toThrow(
      'storage: the container URL https://acct.blob.core.windows.net/data carries no SAS token (?sv=…&sig=…): give one, or the account key',
    );
    expect(() => azureConfig({ kind: 'azure', containerUrl: 'https://acct.blob.core.windows.net/data?sv=1', prefix: '' })).toThrow(
      'storage: the SAS token in the container URL has no signature (sig=…)',
    );
  });

  test('S3: the store’s address, prefix and credentials are checked; requests go to the endpoint’s origin', () => {
    const c = {
      kind: 's3' as const,
      endpoint: 'http://127.0.0.1:9000/',
      region: 'us-east-1',
      bucket: 'lake',
      prefix: '/team/lakehouse/',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
    };
    const storage = connectionStorage(c);
    expect(storage.description).toBe('s3://lake/team/lakehouse');
    expect(connectionOrigin(c)).toBe('http://127.0.0.1:9000');
    expect(() => connectionStorage({ ...c, endpoint: 'ftp://x' })).toThrow('storage: the endpoint URL ftp:// is not http or https');
    expect(() => connectionStorage({ ...c, endpoint: 'http://user:pw@127.0.0.1:9000' })).toThrow(
      'storage: the endpoint URL carries a user name or password: give the credentials in their own fields',
    );
    expect(() => connectionStorage({ ...c, bucket: 'Not_A_Bucket' })).toThrow('storage: "Not_A_Bucket" is not a bucket name');
    expect(() => connectionStorage({ ...c, prefix: 'a/../b' })).toThrow('storage: the prefix "a/../b" may not contain . or .. segments');
    expect(() => connectionStorage({ ...c, secretAccessKey: '' })).toThrow('storage: an S3 connection needs an access key id and its secret');
  });

  test('a store that does not answer: StoreUnreachableError without the SAS token, and the page’s reading of it names CORS', async () => {
    const storage = connectionStorage({ kind: 'azure', containerUrl: 'http://127.0.0.1:1/devstoreaccount1/lake?sv=2022-11-02&sig=SECRET', prefix: '' });
    const err = await explainUnreachable(storage.list('')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnreachableError);
    expect((err as StoreUnreachableError).origin).toBe('http://127.0.0.1:1');
    const message = (err as Error).message;
    expect(message).toMatch(
      /^storage: GET http:\/\/127\.0\.0\.1:1\/devstoreaccount1\/lake got no response \(fetch failed\)\. The likely cause is CORS: http:\/\/127\.0\.0\.1:1 must allow requests from this page \(allowed origin this page; methods GET, HEAD, PUT, DELETE; headers authorization, x-amz-\*, x-ms-\*, if-none-match, content-type, range; exposed header ETag\)\./,
    );
    expect(message).not.toContain('SECRET');
    expect(storage.client.requests).toBe(4);
  });
});

test('copying a lakehouse reports its progress and copies only the tables asked for', async () => {
  const from = new MemoryStorage('from');
  const to = new MemoryStorage('to');
  await writeTable(from, 'silver/events', rows('a', 1), { mode: 'append' });
  await writeTable(from, 'silver/events', rows('b', 2), { mode: 'append' });
  await writeTable(from, 'other/t', rows('c', 3), { mode: 'append' });
  const seen: CopyProgress[] = [];
  const copied = await copyLakehouse(from, to, 'from', { tables: (t) => t.startsWith('silver/'), onProgress: (p) => seen.push(p) });
  expect(copied.map((c) => [c.table, c.version, c.commits, c.files])).toEqual([['silver/events', 1, 2, 2]]);
  expect(seen.map((p) => [p.table, p.index, p.tables, p.done, p.total])).toEqual([
    ['silver/events', 0, 1, 0, 4],
    ['silver/events', 0, 1, 1, 4],
    ['silver/events', 0, 1, 2, 4],
    ['silver/events', 0, 1, 3, 4],
    ['silver/events', 0, 1, 4, 4],
  ]);
  expect(seen.at(-1)!.bytes).toBe(copied[0]!.bytes);
  expect((await to.list('')).some((f) => f.path.startsWith('other/'))).toBe(false);
});

describe('a bucket’s table opened in the lakehouse', () => {
  let lakehouse: Lakehouse;
  let dir: string;
  const fetched: string[] = [];
  const bucket = new (class extends MemoryStorage {
    override read(path: string): Promise<Uint8Array> {
      fetched.push(path);
      return super.read(path);
    }
  })('s3://lake/team');
  beforeAll(async () => {
    ({ lakehouse, dir } = await nodeLakehouse());
    await writeTable(bucket, 'silver/events', rows('a', 1, 2, 3), { mode: 'append' });
    await writeTable(bucket, 'silver/events', rows('b', 4, 5), { mode: 'append' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('read-only, lazily: a first page reads one data file, a filter the one that can match; writes are refused', async () => {
    fetched.length = 0;
    const store = new StoreTableStorage(bucket);
    const t = await lakehouse.open({ name: 'silver/events', kind: 'store', storage: store, root: 'silver/events' });
    expect([t.path, t.version, t.rows, t.files, t.openedFrom]).toEqual([
      'opened/silver_events',
      1,
      5,
      2,
      { kind: 'store', where: 's3://lake/team/silver/events' },
    ]);
    expect(await lakehouse.openedReads(t.path)).toEqual({ kind: 'store', read: [], requests: null });

    const first = await lakehouse.rows(t.path, undefined, 2);
    expect([first.total, first.rows]).toEqual([
      5,
      [
        ['a', '1.0'],
        ['a', '2.0'],
      ],
    ]);
    expect((await lakehouse.openedReads(t.path)).read).toHaveLength(1);
    const filtered = await lakehouse.rows(t.path, undefined, 10, 0, "batch = 'b'");
    expect([filtered.total, filtered.filter!.text]).toEqual([2, 'read 1 of 2 files (1 skipped: 1 by statistics)']);
    expect((await lakehouse.openedReads(t.path)).read).toHaveLength(2);
    // Each commit fetched once, however often the log is read (snapshot, history, the commit view).
    await lakehouse.table(t.path);
    await lakehouse.commit(t.path, 1);
    expect(fetched.filter((p) => p.includes('_delta_log/')).sort()).toEqual([
      'silver/events/_delta_log/00000000000000000000.json',
      'silver/events/_delta_log/00000000000000000001.json',
    ]);

    const readOnly =
      's3://lake/team/silver/events is opened read-only from object storage: the page does not write to it ' +
      '(to change it, pull the lakehouse into this browser, or run the CLI against the bucket)';
    await expect(lakehouse.optimize(t.path)).rejects.toThrow(new ReadOnlyTableError(readOnly));
    await expect(lakehouse.vacuumTable(t.path)).rejects.toThrow(readOnly);
    await expect(store.write('silver/events/x.parquet', new Uint8Array(1))).rejects.toThrow(
      's3://lake/team/silver/events/x.parquet is opened read-only from object storage',
    );
    expect((await bucket.list('')).length).toBe(4);

    lakehouse.close((s) => s.kind === 'store');
    await expect(lakehouse.table(t.path)).rejects.toThrow('there is no table "opened/silver_events"');
  });
});

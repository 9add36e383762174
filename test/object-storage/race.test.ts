import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { openLocation } from '../../src/cli/location.ts';
import { listLog, loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { UnsafeStoreError } from '../../src/storage/object.ts';
import { s3Storage } from '../../src/storage/s3.ts';
import { testEngine } from '../helpers/engine.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';

const env = inject('storageEnv');
const ROOT = join(import.meta.dirname, '../..');
const ROUNDS = 12;

interface Racer {
  writer: string;
  versions: number[];
  lostRaces: number;
  requests: number;
  seconds: number;
}

const racer = async (where: string, writer: string): Promise<Racer> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(import.meta.dirname, 'racer.ts'), where, 'race', writer, String(ROUNDS)],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
    },
  );
  return JSON.parse(stdout) as Racer;
};

let engine: Engine;
beforeAll(async () => {
  Object.assign(process.env, env);
  engine = await testEngine();
});

describe.each([
  ['S3 (moto)', 's3://lakehouse'],
  ['Azure Blob (Azurite)', 'az://lakehouse'],
])('two processes appending to one table on %s', (name, bucket) => {
  it(`${ROUNDS} commits each: every commit lands once, none lost or overwritten`, { timeout: 180_000 }, async () => {
    const where = `${bucket}/race-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([racer(where, 'a'), racer(where, 'b')]);
    const storage = openLocation(where);
    const log = await listLog(storage, 'race');
    // Each version was reported by exactly one writer, and the log holds exactly those.
    expect([...a.versions, ...b.versions].sort((x, y) => x - y)).toEqual([...Array(2 * ROUNDS).keys()]);
    expect([...log.commits.keys()].sort((x, y) => x - y)).toEqual([...Array(2 * ROUNDS).keys()]);
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, 'race'), 'race');
    const rows = engine.rows<{ writer: string; round: number }>('SELECT writer, round FROM race ORDER BY writer, round');
    expect(rows).toEqual(['a', 'b'].flatMap((writer) => Array.from({ length: ROUNDS }, (_, i) => ({ writer, round: i + 1 }))));
    expect(await validateDeltaTable(storage, 'race', engine)).toEqual([]);
    const commits = 2 * ROUNDS;
    const seconds = Math.max(a.seconds, b.seconds);
    console.log(
      `${name}: two racing writers, ${commits} commits in ${seconds.toFixed(1)} s = ${(commits / seconds).toFixed(1)} commits/s; ` +
        `${a.lostRaces + b.lostRaces} lost races retried; ${((a.requests + b.requests) / commits).toFixed(1)} requests per commit`,
    );
  });
});

describe('a store that ignores If-None-Match', () => {
  let proxy: Server;
  let port = 0;
  beforeAll(async () => {
    // In front of moto, dropping the header: what an S3-compatible store without conditional puts does.
    const target = new URL(env.AWS_ENDPOINT_URL!);
    proxy = createServer((req, res) => {
      const headers = { ...req.headers };
      delete headers['if-none-match'];
      const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    port = (proxy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it('is refused before the first commit, naming the store; reads still work', async () => {
    const prefix = `unsafe-${crypto.randomUUID()}`;
    const storage = s3Storage('lakehouse', prefix, { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    await storage.write('t/file', new TextEncoder().encode('data'));
    const err = await storage.putIfAbsent('t/_delta_log/00000000000000000000.json', new TextEncoder().encode('{}')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeStoreError);
    expect((err as Error).message).toBe(
      `storage: s3://lakehouse/${prefix} replaced an object although the put said If-None-Match: *, so two writers could overwrite each other's commits; ` +
        'use a store that supports conditional puts (If-None-Match: *), as S3, Azure Blob Storage, MinIO and the emulators in scripts/storage-servers.mjs do',
    );
    expect((await storage.list('')).map((f) => f.path)).toEqual(['t/file']);
    // The same bucket straight on moto: the probe passes and the commit lands.
    const direct = s3Storage('lakehouse', prefix, env);
    expect(await direct.putIfAbsent('t/_delta_log/00000000000000000000.json', new TextEncoder().encode('{}'))).toBe(true);
  });

  it('the CLI refuses to run a pipeline there, leaving no commit', async () => {
    const where = `s3://lakehouse/unsafe-${crypto.randomUUID()}`;
    const err = (await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), 'run', '--events', '100', '--out', where],
      {
        cwd: ROOT,
        env: { ...process.env, ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` },
      },
    ).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/^error: .*replaced an object although the put said If-None-Match: \*, so two writers could overwrite each other's commits/m);
    expect((await openLocation(where).list('')).filter((f) => f.path.includes('_delta_log/'))).toEqual([]);
  });
});

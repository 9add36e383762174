/**
 * `npm run bench:storage`: the lakehouse on the emulated object stores (moto for S3, Azurite for
 * Azure Blob; started on loopback by scripts/storage-servers.mjs), beside the local disk:
 *
 * - upload and read throughput: 16 objects of 8 MB through Storage.write / Storage.read, one at a
 *   time and 4 at a time;
 * - requests per commit: one `cli run` batch (--events, default 20,000) into a fresh prefix,
 *   every request counted, divided by the commits it made (15: bronze, 3 silver, 6 gold… each
 *   with its data files and log reads);
 * - the commit rate of one writer and of two racing writers appending to one table (the racer of
 *   test/object-storage/race.test.ts, as separate processes).
 *
 * Options: --events N (default 20000)  --rounds N (commits per writer, default 30)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
// @ts-expect-error: a plain .mjs script, without types
import { startServers } from '../scripts/storage-servers.mjs';
import { nodeContext } from '../src/cli/context.ts';
import { openLocation } from '../src/cli/location.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { AzureClient, azureConfigFromEnv } from '../src/storage/azure.ts';
import { ObjectStorage, parallel } from '../src/storage/object.ts';
import { S3Client, s3ConfigFromEnv } from '../src/storage/s3.ts';
import type { Storage } from '../src/storage/types.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const EVENTS = option('events', 20_000);
const ROUNDS = option('rounds', 30);
const ROOT = join(import.meta.dirname, '..');

const { env, stop } = (await startServers()) as { env: Record<string, string>; stop: () => void };
Object.assign(process.env, env, { LAKEHOUSE_CHECK_THREADS: '0' });
process.on('exit', stop);
await new S3Client(s3ConfigFromEnv('bench', env)).createBucket();
await new AzureClient(azureConfigFromEnv('bench', env)).createContainer();
initParquet();
const engine = await openNodeEngine();

const requests = (s: Storage) => (s instanceof ObjectStorage ? s.client.requests : 0);
const mbps = (bytes: number, ms: number) => (bytes / 2 ** 20 / (ms / 1000)).toFixed(0);

async function throughput(storage: Storage, concurrency: number): Promise<{ up: string; down: string }> {
  const size = 8 * 2 ** 20;
  const data = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  const names = Array.from({ length: 16 }, (_, i) => `throughput/${concurrency}/${i}.bin`);
  let t = performance.now();
  await parallel(names, concurrency, (n) => storage.write(n, data));
  const up = mbps(size * names.length, performance.now() - t);
  t = performance.now();
  await parallel(names, concurrency, async (n) => void (await storage.read(n)));
  const down = mbps(size * names.length, performance.now() - t);
  return { up, down };
}

async function pipeline(where: string): Promise<{ seconds: number; commits: number; requests: number }> {
  const ctx = nodeContext(engine, where);
  const before = requests(ctx.storage);
  const t = performance.now();
  const s = await runBatch(ctx, generateEvents({ events: EVENTS, seed: 42, days: 60, invalidRate: 0.01 }), 'generator', EVENTS);
  const seconds = (performance.now() - t) / 1000;
  const commits = 1 + s.silver.length * 3 + s.gold.length;
  return { seconds, commits, requests: requests(ctx.storage) - before };
}

interface Racer {
  versions: number[];
  lostRaces: number;
  requests: number;
  seconds: number;
}
const racer = async (where: string, writer: string): Promise<Racer> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'test/object-storage/racer.ts'), where, 'race', writer, String(ROUNDS)],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as Racer;
};

const stores = [
  ['local disk', mkdtempSync(join(tmpdir(), 'bench-storage-'))],
  ['S3 (moto 5.2.5)', `s3://bench/${Date.now()}`],
  ['Azure Blob (Azurite 3.37.0)', `az://bench/${Date.now()}`],
] as const;

// Warm up the engine and the code paths once, so the first store measured pays no start-up.
await pipeline(mkdtempSync(join(tmpdir(), 'bench-storage-warm-')));

const rows: string[] = [];
for (const [name, where] of stores) {
  const storage = openLocation(where);
  const one = await throughput(storage, 1);
  const four = await throughput(storage, 4);
  const p = await pipeline(`${where}/lakehouse`);
  const single = await racer(`${where}/single`, 'a');
  const [a, b] = await Promise.all([racer(`${where}/race`, 'a'), racer(`${where}/race`, 'b')]);
  const raceSeconds = Math.max(a.seconds, b.seconds);
  const perCommit = p.requests ? (p.requests / p.commits).toFixed(0) : '—';
  const appendRequests = single.requests ? (single.requests / ROUNDS).toFixed(1) : '—';
  rows.push(
    `| ${name} | ${one.up} / ${four.up} | ${one.down} / ${four.down} | ${p.seconds.toFixed(1)} s, ${p.commits} commits, ${perCommit} | ` +
      `${(ROUNDS / single.seconds).toFixed(1)} (${appendRequests} req.) | ${((2 * ROUNDS) / raceSeconds).toFixed(1)} (${a.lostRaces + b.lostRaces} lost races) |`,
  );
  console.error(`${name}: done`);
}
console.log(
  `| store | upload MB/s (1 / 4 at a time) | read MB/s (1 / 4) | cli run ${EVENTS.toLocaleString('en-US')} events: time, commits, requests per commit | one writer: commits/s (requests per commit) | two racing writers: commits/s together |`,
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
stop();
process.exit(0);

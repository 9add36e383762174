import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { runCommand } from '../../src/cli/run.ts';
import { logCommand } from '../../src/cli/log.ts';
import { readCommand } from '../../src/cli/read.ts';
import { copyCommand } from '../../src/cli/copy.ts';
import { openLocation } from '../../src/cli/location.ts';
import { optimizeCommand, vacuumCommand } from '../../src/cli/maintenance.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { GOLD_TABLES, TABLES } from '../../src/pipeline/tables.ts';
import type { Storage } from '../../src/storage/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';

const env = inject('storageEnv');
const ROOT = join(import.meta.dirname, '../..');
const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
  });

let engine: Engine;
let local: string;
const RUN = ['--events', '3000', '--seed', '7', '--days', '30', '--invalid-rate', '0.02'];

beforeAll(async () => {
  Object.assign(process.env, env);
  process.stderr.isTTY = false;
  engine = await testEngine();
  local = mkdtempSync(join(tmpdir(), 'object-storage-local-'));
  await runCommand([...RUN, '--out', local], engine, sink().stream);
});

async function history(table: string): Promise<string> {
  const out = sink();
  await logCommand([table, '--json'], out.stream);
  return out.text();
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write: (chunk, _enc, done) => {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** Every table's rows, sorted, as JSON: what must be the same wherever the lakehouse lives. */
async function contents(storage: Storage): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of [TABLES.silver, TABLES.rejects, ...GOLD_TABLES.map((k) => `gold/${k}`)]) {
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 't');
    const columns = engine
      .rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE t)`)
      .map((c) => c.column_name)
      .filter((c) => !['batch_id', 'processed_at', 'ingested_at', 'rejected_at'].includes(c));
    out[table] = engine
      .rows(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM t`)
      .map((r) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? String(v) : v)))
      .sort();
  }
  return out;
}

describe.each([
  ['S3 (moto)', 's3://lakehouse'],
  ['Azure Blob (Azurite)', 'az://lakehouse'],
])('the lakehouse on %s', (_name, bucket) => {
  it('the pipeline from the CLI gives the same tables as on disk; read, log, optimize, vacuum, push and pull work there', { timeout: 300_000 }, async () => {
    const url = `${bucket}/pipeline-${crypto.randomUUID()}`;
    const out = sink();
    await runCommand([...RUN, '--out', url], engine, out.stream);
    expect(out.text()).toContain('  bronze/events      version 0  +3000 rows');
    expect(out.text()).toContain(` into ${url}`);
    const storage = openLocation(url);
    const expected = await contents(openLocation(local));
    expect(await contents(storage)).toEqual(expected);
    expect(expected['gold/stage_bottlenecks']!.length).toBeGreaterThan(3);
    for (const t of [TABLES.bronze, TABLES.silver, TABLES.rejects, TABLES.quality, 'gold/stage_bottlenecks']) {
      expect(await validateDeltaTable(storage, t, engine), t).toEqual([]);
    }

    // read in a CLI process, with nothing but the variables to find the store; log in this one
    const read = await cli('read', `${url}/gold/engagement_bands`);
    const localRead = sink();
    await readCommand([join(local, 'gold/engagement_bands')], engine, localRead.stream);
    expect(read.stdout.split('\n').sort()).toEqual(localRead.text().split('\n').sort());
    expect(read.stdout.trim().split('\n')).toHaveLength(4);
    const log = await history(`${url}/silver/events`);
    expect(
      log
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).operation),
    ).toEqual(['WRITE']);

    // a second batch, then OPTIMIZE and VACUUM: rows unchanged
    await runCommand(['--events', '2000', '--seed', '8', '--days', '30', '--out', url], engine, sink().stream);
    const before = await contents(storage);
    const optimized = sink();
    await optimizeCommand([url], optimized.stream);
    expect(optimized.text()).toMatch(/bronze\/events\s+.*2 files/);
    const vacuumed = sink();
    await vacuumCommand([url, '--retention-hours', '0', '--force'], vacuumed.stream);
    expect(vacuumed.text()).toMatch(/total: deleted \d+ files/);
    expect(await contents(storage)).toEqual(before);
    for (const t of [TABLES.bronze, TABLES.silver]) expect(await validateDeltaTable(storage, t, engine), t).toEqual([]);

    // pull it down, push it to a fresh prefix: the same history and rows
    const pulled = mkdtempSync(join(tmpdir(), 'object-storage-pulled-'));
    const pull = sink();
    await copyCommand('pull', [url, pulled], pull.stream);
    expect(pull.text()).toMatch(/^bronze\/events\s+version 2 {2}3 commits, 1 file copied$/m);
    expect(await contents(openLocation(pulled))).toEqual(before);
    const again = sink();
    await copyCommand('pull', [url, pulled], again.stream);
    expect(again.text()).toMatch(/^bronze\/events\s+version 2 {2}0 commits, 0 files copied$/m);
    const pushed = `${bucket}/pushed-${crypto.randomUUID()}`;
    await copyCommand('push', [pulled, pushed], sink().stream);
    expect(await contents(openLocation(pushed))).toEqual(before);
    expect(await history(`${pushed}/bronze/events`)).toEqual(await history(`${url}/bronze/events`));
  });
});

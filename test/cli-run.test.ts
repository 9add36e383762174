import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { ingestCommand, runCommand } from '../src/cli/run.ts';
import { progressPrinter } from '../src/cli/context.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { GOLD_TABLES } from '../src/pipeline/tables.ts';
import { testEngine } from './helpers/engine.ts';

const ROOT = join(import.meta.dirname, '..');
const cliProcessWith = (env: Record<string, string>, ...args: string[]) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
const cliProcess = (...args: string[]) => cliProcessWith({}, ...args);

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
  process.stderr.isTTY = false;
});

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

const tmp = () => mkdtempSync(join(tmpdir(), 'cli-run-'));

async function goldRows(dir: string): Promise<Record<string, unknown[]>> {
  const storage = new NodeStorage(dir);
  const out: Record<string, unknown[]> = {};
  for (const name of GOLD_TABLES) {
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, `gold/${name}`), 'g');
    out[name] = engine.rows('SELECT * FROM g');
  }
  return out;
}

describe('cli run', () => {
  it('a CLI process with its producer and encoder threads runs to the end: every table, the same gold as in line', async () => {
    // The encoder's thread kept nothing alive while a run awaited its files: the process ended there, with exit 0.
    const [threads, inline] = [tmp(), tmp()];
    const args = ['run', '--events', '3000', '--seed', '77', '--days', '20', '--out'];
    const { stdout } = await cliProcessWith({ LAKEHOUSE_PRODUCER: '1', LAKEHOUSE_ENCODER: '1' }, ...args, threads);
    await cliProcessWith({ LAKEHOUSE_PRODUCER: '0', LAKEHOUSE_ENCODER: '0', LAKEHOUSE_CHECK_THREADS: '0' }, ...args, inline);
    expect(stdout).toMatch(/gold\/dropoff_rate\s+version 0\s+\d+ rows/);
    expect(await goldRows(threads)).toEqual(await goldRows(inline));
  });

  it('the same seed and options give identical gold tables in two fresh lakehouses', async () => {
    const [a, b] = [tmp(), tmp()];
    for (const dir of [a, b]) await runCommand(['--events', '3000', '--seed', '77', '--days', '20', '--out', dir], engine, sink().stream);
    const [ga, gb] = [await goldRows(a), await goldRows(b)];
    expect(ga).toEqual(gb);
    expect(ga.engagement_bands).toHaveLength(4);
    expect(ga.writing_velocity_daily!.length).toBeGreaterThan(10);
  });

  it('a second run appends a new batch and prints versions and rows per table', async () => {
    const dir = tmp();
    const first = sink();
    await runCommand(['--events', '1500', '--seed', '3', '--days', '10', '--out', dir], engine, first.stream);
    expect(first.text()).toMatch(/^batch batch-\S+: 1,500 records in [\d.]+ s \([\d,]+ events\/s\) into /);
    expect(first.text()).toContain('  bronze/events      version 0  +1500 rows');
    expect(first.text()).toMatch(/gold\/engagement_bands\s+version 0 {2}4 rows/);
    const second = sink();
    await runCommand(['--events', '1500', '--seed', '3', '--days', '10', '--out', dir], engine, second.stream);
    expect(second.text()).toContain('  bronze/events      version 1  +1500 rows');
    // The same seed re-delivers the same events: all are duplicates, gold is unchanged.
    expect(second.text()).toMatch(/silver \(bronze v1, batch-\S+\): 0 accepted, 1500 rejected \(parse \d+, schema \d+, expectation \d+, duplicate \d+\)/);
    expect(second.text()).toMatch(/gold\/engagement_bands\s+version 1 {2}4 rows/);
  });
});

describe('cli ingest', () => {
  it('takes a file with a BOM, CRLF line ends and bad lines; every line ends in silver or rejects', async () => {
    const dir = tmp();
    const file = join(dir, 'mine.jsonl');
    const ok = (id: string) =>
      `{"event_id":"${id}","event_type":"stage_entered","occurred_at":"2025-03-01T10:00:00Z","creator_id":"c1","work_id":"w1","schema_version":1,"stage":"draft"}`;
    writeFileSync(file, `\uFEFF${[ok('a'), '{"event_id":', ok('b'), ok('a'), '{"__proto__":{"x":1}}'].join('\r\n')}\r\n`);
    const out = sink();
    await ingestCommand([file, '--out', join(dir, 'lake')], engine, out.stream);
    expect(out.text()).toMatch(/silver \(bronze v0, batch-\S+\): 2 accepted, 3 rejected \(parse 1, schema 1, expectation 0, duplicate 1\)/);
    const storage = new NodeStorage(join(dir, 'lake'));
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, 'bronze/events'), 'b');
    expect(engine.rows('SELECT line_no, source FROM b ORDER BY line_no').map((r) => Object.values(r))).toEqual(
      [1n, 2n, 3n, 4n, 5n].map((n) => [n, 'upload:mine.jsonl']),
    );
    expect(engine.rows('SELECT raw FROM b WHERE line_no = 1')).toEqual([{ raw: ok('a') }]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it.each([
    ['empty.jsonl', new Uint8Array(0), 'is empty: there are no records to ingest'],
    ['blob.jsonl', new Uint8Array([0x7b, 0, 1, 2]), 'looks like a binary file (a NUL byte at offset 1), not JSON lines; nothing was ingested'],
  ])('refuses %s as a whole, leaving no table behind', async (name, bytes, message) => {
    const dir = tmp();
    const file = join(dir, name);
    writeFileSync(file, bytes);
    await expect(ingestCommand([file, '--out', join(dir, 'lake')], engine, sink().stream)).rejects.toThrow(`${file} ${message}`);
    await expect(loadSnapshot(new NodeStorage(join(dir, 'lake')), 'bronze/events')).rejects.toThrow('is not a Delta table');
  });

  it('exits non-zero with one sentence on stderr for a bad option', async () => {
    const err = (await cliProcess('run', '--events', 'many').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toBe('error: --events must be a whole number ≥ 0, got many\n');
  });
});

describe('the first five minutes on the command line', () => {
  it('--help gives every default', async () => {
    const { stdout } = await cliProcess('--help');
    expect(stdout).toContain('defaults: --events 10000 --seed 42 --days 60 --invalid-rate 0.01');
    expect(stdout).toContain('--out out/delta --engine wasm');
    expect(stdout).toContain('try examples/events.jsonl; the contract is contracts/event_schema.json');
    expect(stdout).toContain('(default --target-size-mb 32)');
    expect(stdout).toContain('(default --retention-hours 168, ');
  });

  it('the sample events file goes through ingest: 25 records, 23 accepted, 2 rejected', async () => {
    const out = sink();
    await ingestCommand([join(ROOT, 'examples/events.jsonl'), '--out', tmp()], engine, out.stream);
    expect(out.text()).toContain('  bronze/events      version 0  +25 rows');
    expect(out.text()).toMatch(/silver \(bronze v0, batch-\S+\): 23 accepted, 2 rejected \(parse 0, schema 1, expectation 0, duplicate 1\)/);
  });

  it('zero events: a clean line for silver', async () => {
    const out = sink();
    await runCommand(['--events', '0', '--out', tmp()], engine, out.stream);
    expect(out.text()).toContain('  silver (bronze v0): nothing to validate, the batch holds no records\n');
    expect(out.text()).not.toContain(', ):');
  });

  it('progress: one line for the stages under way, in pipeline order, never back and forth', () => {
    const lines = sink();
    const stream = Object.assign(lines.stream, { isTTY: false }) as unknown as NodeJS.WriteStream;
    const print = progressPrinter(stream, 3000);
    print({ stage: 'silver', done: 0, total: 100 });
    print({ stage: 'bronze', done: 10, total: 100 });
    print({ stage: 'silver', done: 10, total: 100 });
    print({ stage: 'bronze', done: 100, total: 100 });
    print({ stage: 'silver', done: 100, total: 100 });
    print({ stage: 'gold', done: 0, total: 6, message: 'writing_velocity_daily' });
    print({ stage: 'gold', done: 6, total: 6 });
    expect(lines.text().split('\n')).toEqual([
      'silver 0 / 100 rows',
      'bronze 10 / 100 rows · silver 0 / 100 rows',
      'bronze 100 / 100 rows · silver 10 / 100 rows',
      'silver 100 / 100 rows',
      'gold 0 / 6 tables, writing_velocity_daily',
      'gold 6 / 6 tables',
      '',
    ]);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { ingestCommand } from '../../src/cli/run.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { TABLES } from '../../src/pipeline/tables.ts';
import { testEngine } from '../helpers/engine.ts';
import { checkLakehouse } from './invariants.ts';

/**
 * Files nobody validated, through `cli ingest` (in-process: the same ingestCommand): every line
 * ends in silver or rejects, or the file is refused whole with a reason; no crash, no hang, no
 * prototype pollution, and memory that returns after the big ones.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let engine: Engine;
let dir: string;
let lake: string;
const figures: string[] = [];
const counts: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  process.stderr.isTTY = false;
  dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  lake = join(dir, 'lake');
});

afterAll(() => {
  console.log(`hostile input through cli ingest, per file:\n${counts.join('\n')}`);
  if (figures.length) console.log(`memory (heap after GC; peak sampled every 10 ms):\n${figures.join('\n')}`);
});

const enc = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

const base = (id: string) => `"event_id":"${id}","occurred_at":"2025-03-01T10:00:00Z","creator_id":"c1","work_id":"w1","schema_version":1`;
const stage = (id: string, extra = '') => `{${base(id)},"event_type":"stage_entered","stage":"draft"${extra}}`;
const session = (id: string, words: string, minutes = '30') => `{${base(id)},"event_type":"writing_session","words":${words},"duration_minutes":${minutes}}`;
const revision = (id: string, no: string) => `{${base(id)},"event_type":"revision","words_changed":10,"revision_no":${no}}`;
const nest = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write: (c, _e, done) => {
      text += String(c);
      done();
    },
  });
  return { stream, text: () => text };
}

interface Landed {
  bronze: number;
  accepted: number;
  rejected: number;
  stages: { parse: number; schema: number; expectation: number; duplicate: number };
}

/** Ingest one file; the counts the CLI printed, checked against each other. */
async function ingest(name: string, content: Uint8Array): Promise<Landed> {
  const file = join(dir, name);
  writeFileSync(file, content);
  const out = sink();
  await ingestCommand([file, '--out', lake], engine, out.stream);
  const text = out.text();
  const bronze = Number(/bronze\/events {6}version \d+ {2}\+(\d+) rows/.exec(text)![1]);
  const m = /: (\d+) accepted, (\d+) rejected \(parse (\d+), schema (\d+), expectation (\d+), duplicate (\d+)\)/.exec(text)!;
  const [accepted, rejected, parse, schema, expectation, duplicate] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  expect(accepted + rejected, `${name}: bronze = silver + rejects`).toBe(bronze);
  counts.push(
    `  ${name.padEnd(18)} ${String(bronze).padStart(6)} lines = ${accepted} in silver + ${rejected} rejected (parse ${parse}, schema ${schema}, expectation ${expectation}, duplicate ${duplicate})`,
  );
  return { bronze, accepted, rejected, stages: { parse, schema, expectation, duplicate } };
}

async function refused(name: string, content: Uint8Array, reason: string): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, content);
  const before = await loadSnapshot(new NodeStorage(lake), TABLES.bronze).then(
    (s) => s.version,
    () => -1,
  );
  await expect(ingestCommand([file, '--out', lake], engine, sink().stream)).rejects.toThrow(`${file} ${reason}`);
  counts.push(`  ${name.padEnd(18)} refused: ${reason}`);
  expect(
    await loadSnapshot(new NodeStorage(lake), TABLES.bronze).then(
      (s) => s.version,
      () => -1,
    ),
  ).toBe(before);
}

/** heap before, peak and after (after GC), in MB; and the peak of rss. */
async function measured<T>(what: string, fn: () => Promise<T>): Promise<{ value: T; retainedMB: number; peakMB: number }> {
  gc();
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakRss = before.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 10);
  const started = Date.now();
  try {
    const value = await fn();
    const seconds = (Date.now() - started) / 1000;
    gc();
    const after = process.memoryUsage();
    const mb = (n: number) => n / 2 ** 20;
    figures.push(
      `  ${what}: ${seconds.toFixed(1)} s; heap ${mb(before.heapUsed).toFixed(0)} MB before, peak ${mb(peakHeap).toFixed(0)} MB, ` +
        `${mb(after.heapUsed).toFixed(0)} MB after; rss peak ${mb(peakRss).toFixed(0)} MB`,
    );
    return { value, retainedMB: mb(after.heapUsed - before.heapUsed), peakMB: mb(peakHeap - before.heapUsed) };
  } finally {
    clearInterval(timer);
  }
}

describe('hostile files through cli ingest', () => {
  it('invalid UTF-8 is decoded with U+FFFD replacements; each line lands in silver or rejects', async () => {
    const r = await ingest(
      'invalid-utf8.jsonl',
      bytes(
        `{${base('u1')},"event_type":"stage_entered","stage":"draft","attributes":{"note":"caf`,
        [0xff],
        '"}}\n',
        [0xc3, 0x28],
        '\n',
        // a UTF-16 surrogate encoded as UTF-8, which UTF-8 forbids, as the whole event_id
        '{"event_id":"',
        [0xed, 0xa0, 0x80],
        `",${base('').slice('"event_id":"",'.length)},"event_type":"stage_entered","stage":"draft"}\n`,
        '{"',
        [0xc0, 0xaf],
        '":1}\n',
      ),
    );
    expect(r).toEqual({ bronze: 4, accepted: 2, rejected: 2, stages: { parse: 1, schema: 1, expectation: 0, duplicate: 0 } });
    await scanIntoEngine(engine, new NodeStorage(lake), await loadSnapshot(new NodeStorage(lake), TABLES.silver), 's');
    expect(engine.rows(`SELECT attributes FROM s WHERE event_id = 'u1'`)).toEqual([{ attributes: '{"note":"caf\uFFFD"}' }]);
    expect(engine.rows(`SELECT event_id FROM s WHERE event_id LIKE '%\uFFFD%'`)).toEqual([{ event_id: '\uFFFD\uFFFD\uFFFD' }]);
  });

  it('a BOM and CRLF line ends are taken off; blank lines are records that fail to parse', async () => {
    expect(await ingest('bom-crlf.jsonl', bytes('\uFEFF', [stage('b1'), stage('b2'), stage('b3')].join('\r\n'), '\r\n'))).toEqual({
      bronze: 3,
      accepted: 3,
      rejected: 0,
      stages: { parse: 0, schema: 0, expectation: 0, duplicate: 0 },
    });
    expect((await ingest('blank-lines.jsonl', bytes('\n\n\r\n'))).stages.parse).toBe(3);
  });

  it('an empty file and a binary file are refused whole, with nothing written', async () => {
    await refused('empty.jsonl', new Uint8Array(0), 'is empty: there are no records to ingest');
    const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
    await refused('image.png', png, 'looks like a binary file (a NUL byte at offset 8), not JSON lines; nothing was ingested');
    // Binary without a NUL in its first 64 KB is text to the splitter: every line is a reject.
    const noise = new Uint8Array(64 * 1024);
    for (let i = 0, x = 7; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      noise[i] = (x % 255) + 1;
    }
    const r = await ingest('noise.bin', noise);
    expect([r.accepted, r.rejected]).toEqual([0, r.bronze]);
    expect(r.bronze).toBeGreaterThan(200);
  });

  it('a 10 MB line is accepted whole, a broken 1 MB one rejected; memory is given back', async () => {
    const blob = 'x'.repeat(10 * 2 ** 20);
    const broken = `{"event_id":"broken","attributes":"${blob.slice(0, 2 ** 20)}`;
    const content = bytes(stage('big', `,"attributes":{"blob":"${blob}"}`), '\n', broken, '\n', stage('after-big'), '\n');
    const { value: r, retainedMB, peakMB } = await measured('3 lines: 10 MB valid, 1 MB broken, 1 small', () => ingest('10mb-line.jsonl', content));
    expect(r).toEqual({ bronze: 3, accepted: 2, rejected: 1, stages: { parse: 1, schema: 0, expectation: 0, duplicate: 0 } });
    await scanIntoEngine(engine, new NodeStorage(lake), await loadSnapshot(new NodeStorage(lake), TABLES.silver), 's');
    expect(engine.rows(`SELECT length(attributes) AS n FROM s WHERE event_id = 'big'`)).toEqual([{ n: BigInt(blob.length + 11) }]);
    expect(retainedMB).toBeLessThan(64);
    expect(peakMB).toBeLessThan(1024);
  });

  it('deep nesting is rejected without a stack overflow', async () => {
    const r = await ingest(
      'deep.jsonl',
      bytes(
        [
          stage('deep-64', `,"attributes":${nest(64)}`),
          stage('deep-65', `,"attributes":${nest(65)}`),
          stage('deep-100k', `,"attributes":${nest(100_000)}`),
          '['.repeat(100_000),
          `{"event_id":"x","creator_id":${nest(100_000)}}`,
        ].join('\n'),
      ),
    );
    expect(r).toEqual({ bronze: 5, accepted: 1, rejected: 4, stages: { parse: 1, schema: 3, expectation: 0, duplicate: 0 } });
  });

  it('__proto__ and constructor keys are data, never pollution', async () => {
    const r = await ingest(
      'proto.jsonl',
      bytes(
        [
          `{"__proto__":{"polluted":"yes"},${base('p1')},"event_type":"stage_entered","stage":"draft"}`,
          stage('p2', ',"attributes":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'),
          '{"constructor":{"prototype":{"polluted":"yes"}}}',
          `{${base('p4')},"event_type":"stage_entered","stage":"toString"}`,
        ].join('\n'),
      ),
    );
    expect(r).toEqual({ bronze: 4, accepted: 1, rejected: 3, stages: { parse: 0, schema: 3, expectation: 0, duplicate: 0 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    await scanIntoEngine(engine, new NodeStorage(lake), await loadSnapshot(new NodeStorage(lake), TABLES.silver), 's');
    expect(engine.rows(`SELECT attributes FROM s WHERE event_id = 'p2'`)).toEqual([
      { attributes: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}' },
    ]);
  });

  it('NaN, Infinity, numbers as strings and huge integers', async () => {
    const r = await ingest(
      'numbers.jsonl',
      bytes(
        [
          session('n-nan', 'NaN'),
          session('n-inf', 'Infinity'),
          session('n-1e999', '1e999'),
          session('n-string', '"100"'),
          session('n-1e30', '1e30'),
          session('n-minus-zero', '-0'),
          session('n-tiny', '1', '5e-324'),
          revision('n-2^53+1', '9007199254740993'),
          revision('n-float-int', '2.0'),
        ].join('\n'),
      ),
    );
    expect(r).toEqual({ bronze: 9, accepted: 4, rejected: 5, stages: { parse: 2, schema: 3, expectation: 0, duplicate: 0 } });
    await scanIntoEngine(engine, new NodeStorage(lake), await loadSnapshot(new NodeStorage(lake), TABLES.rejects), 'r');
    expect(
      engine
        .rows(`SELECT event_id, reasons FROM r WHERE event_id IN ('n-1e999', 'n-string', 'n-1e30') ORDER BY 1`)
        .map((x) => [x.event_id, [...(x.reasons as string[])]]),
    ).toEqual([
      ['n-1e30', ['maximum:words']],
      ['n-1e999', ['type:words']],
      ['n-string', ['type:words']],
    ]);
    await scanIntoEngine(engine, new NodeStorage(lake), await loadSnapshot(new NodeStorage(lake), TABLES.silver), 's');
    // JSON numbers are doubles: 2^53 + 1 arrives as 2^53, as in every JSON.parse.
    expect(engine.rows(`SELECT revision_no FROM s WHERE event_id = 'n-2^53+1'`)).toEqual([{ revision_no: 9007199254740992n }]);
  });

  it('100,000 lines: every line lands, memory is given back, and the lakehouse is whole afterwards', { timeout: 180_000 }, async () => {
    const lines = [...generateEvents({ events: 100_000, seed: 5, days: 30, invalidRate: 0.01 })].flat();
    writeFileSync(join(dir, '100k.jsonl'), `${lines.join('\n')}\n`);
    const file = join(dir, '100k.jsonl');
    const {
      value: out,
      retainedMB,
      peakMB,
    } = await measured('100,000 lines (generator, 1 % bad)', async () => {
      const o = sink();
      await ingestCommand([file, '--out', lake], engine, o.stream);
      return o.text();
    });
    const m = /: (\d+) accepted, (\d+) rejected \(parse (\d+), schema (\d+), expectation (\d+), duplicate (\d+)\)/.exec(out)!;
    expect(Number(m[1]) + Number(m[2])).toBe(100_000);
    counts.push(
      `  ${'100k.jsonl'.padEnd(18)} ${'100000'.padStart(6)} lines = ${m[1]} in silver + ${m[2]} rejected (parse ${m[3]}, schema ${m[4]}, expectation ${m[5]}, duplicate ${m[6]})`,
    );
    expect(Number(m[2])).toBeGreaterThan(500);
    expect(retainedMB).toBeLessThan(64);
    expect(peakMB).toBeLessThan(1024);
    const check = await checkLakehouse(new NodeStorage(lake), engine, { complete: true });
    expect(check.problems).toEqual([]);
    expect(check.batchesChecked).toBe(9);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

import { createRequire } from 'node:module';
import { tableToIPC, Table, vectorFromArray, Utf8, Int64, Float64, TimestampMicrosecond, DateDay, List, Field, Bool, Int32 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { requireNativePackage, NativeEngineUnavailableError } from '../src/engine/native.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { GOLD_TABLES } from '../src/pipeline/tables.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('@duckdb/node-api');
    return true;
  } catch {
    return false;
  }
})();

describe('the native engine (@duckdb/node-api)', () => {
  let wasm: Engine;
  let native: Engine;
  beforeAll(async () => {
    wasm = await testEngine();
    if (installed) native = await (await import('../src/engine/native.ts')).openNativeEngine();
  });
  afterAll(() => native?.close());

  it('without the package, says which package is missing and how to get it', () => {
    const missing = () => {
      throw new Error("Cannot find module '@duckdb/node-api'");
    };
    expect(() => requireNativePackage(missing)).toThrow(NativeEngineUnavailableError);
    expect(() => requireNativePackage(missing)).toThrow(
      'the native engine needs the package @duckdb/node-api, a development dependency that is not installed here ' +
        '(run `npm install` with dev dependencies, or `npm i -D -E @duckdb/node-api@1.4.3-r.3`)',
    );
  });

  it.skipIf(!installed)('runs DuckDB 1.4.3, the release DuckDB-WASM 1.32 is built from', () => {
    expect(native.rows<{ v: string }>('SELECT version() AS v')).toEqual(wasm.rows('SELECT version() AS v'));
  });

  it.skipIf(!installed)('hands back the Arrow types DuckDB-WASM hands back', () => {
    const sql = `SELECT 1::TINYINT a, 2::INTEGER b, 3::BIGINT c, 1.5::DOUBLE d, 'x' e, 'a string longer than twelve bytes' f, DATE '2025-01-02' g,
      TIMESTAMP '2025-01-02 03:04:05.123456' h, TIMESTAMPTZ '2025-01-02 03:04:05.123456' i, ['p', NULL, 'q'] j, true k, NULL::VARCHAR l,
      sum(7::BIGINT) m, 1.25::DECIMAL(10, 2) n`;
    const types = (e: Engine) => e.query(sql).schema.fields.map((f) => `${f.name} ${f.type}`);
    expect(types(native)).toEqual(types(wasm));
    const values = (e: Engine) => JSON.stringify(e.rows(sql), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    expect(values(native)).toEqual(values(wasm));
  });

  it.skipIf(!installed)('loads Arrow tables (insert and append) as DuckDB-WASM does', () => {
    const t = new Table({
      s: vectorFromArray(['a', null, 'a string longer than twelve bytes'], new Utf8()),
      n: vectorFromArray([1n, null, -3n], new Int64()),
      d: vectorFromArray([0.5, 1.5, null], new Float64()),
      i: vectorFromArray([1, 2, 3], new Int32()),
      b: vectorFromArray([true, null, false], new Bool()),
      ts: vectorFromArray([1_700_000_000_000, null, 0], new TimestampMicrosecond('UTC')),
      day: vectorFromArray([0, 19_000, null], new DateDay()),
      l: vectorFromArray([['x'], [], null], new List(new Field('element', new Utf8(), true))),
    });
    for (const e of [native, wasm]) {
      e.insertIPC('t_native_test', tableToIPC(t, 'stream'));
      e.appendIPC('t_native_test', tableToIPC(t.slice(2), 'stream'));
    }
    const read = (e: Engine) => JSON.stringify(e.rows('SELECT * FROM t_native_test'), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    expect(read(native)).toEqual(read(wasm));
    expect(native.rows('DESCRIBE t_native_test')).toEqual(wasm.rows('DESCRIBE t_native_test'));
  });

  it.skipIf(!installed)('gives the same gold tables as DuckDB-WASM for a fixed seed', async () => {
    const gold = async (engine: Engine): Promise<Record<string, unknown[]>> => {
      const storage = new MemoryStorage();
      const ctx = pipelineContext(engine, storage, { now: () => Date.parse('2025-03-15T12:00:00Z') });
      // Two runs: the second one dedups against the first one's silver.
      await runBatch(ctx, generateEvents({ events: 6_000, seed: 7, days: 30, invalidRate: 0.03 }), 'generator', 6_000);
      await runBatch(ctx, generateEvents({ events: 4_000, seed: 8, days: 30, invalidRate: 0.03 }), 'generator', 4_000);
      const out: Record<string, unknown[]> = {};
      for (const name of GOLD_TABLES) {
        await scanIntoEngine(wasm, storage, await loadSnapshot(storage, `gold/${name}`), 'g');
        out[name] = wasm.rows('SELECT * FROM g');
      }
      return out;
    };
    const fromNative = await gold(native);
    const fromWasm = await gold(wasm);
    expect(fromNative.engagement_bands).toHaveLength(4);
    expect(fromNative.stage_bottlenecks!.length).toBeGreaterThan(3);
    expect(fromNative).toEqual(fromWasm);
  });
});

import { join } from 'node:path';
import { DateDay, makeData, makeVector, Table, TimestampMicrosecond, tableToIPC } from 'apache-arrow';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { doubleText, pageText, readableAsText, timestampText } from '../src/delta/page-text.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot, numRecords } from '../src/delta/snapshot.ts';
import type { Engine } from '../src/engine/types.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Storage } from '../src/storage/types.ts';
import { gridOf } from '../src/worker/grid.ts';
import { testEngine } from './helpers/engine.ts';
import { FIXTURE_CASES, FIXTURES } from './helpers/fixtures.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

// The Explorer's first page read without DuckDB (src/delta/page-text.ts) must be the page the
// engine gives (a window scanned into DuckDB, then gridOf's ::VARCHAR): same columns, types, text.

const cases = FIXTURE_CASES;

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

async function throughEngine(storage: Storage, table: string, version: number | undefined, offset: number, limit: number) {
  const snap = await loadSnapshot(storage, table, version);
  await scanIntoEngine(engine, storage, snap, 'page_through_engine', { window: { offset, limit } });
  return gridOf(engine, 'page_through_engine', limit);
}

/** What DuckDB prints for each value of a one-column Arrow table. */
function printed(column: ReturnType<typeof makeVector>): string[] {
  engine.insertIPC('printed', tableToIPC(new Table({ v: column })));
  return engine.rows<{ s: string }>('SELECT v::VARCHAR AS s FROM printed').map((r) => r.s);
}

describe('values printed without the engine', () => {
  it('doubles: as DuckDB prints them, shortest digits, fixed or with an exponent', () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      0.1,
      1e-4,
      1e-5,
      9.999e-5,
      1e15,
      1e16,
      9999999999999998,
      1e21,
      1.5e300,
      5e-324,
      1.7976931348623157e308,
      Number.NaN,
      Infinity,
      -Infinity,
      123.456,
      100,
    ];
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 300 }), (values) => {
        const all = [...edges, ...values];
        expect(all.map(doubleText)).toEqual(printed(makeVector(Float64Array.from(all))));
      }),
      { numRuns: 40 },
    );
  });

  it('timestamps and dates of the years 1 to 9999, whole seconds and fractions', () => {
    const min = -62_135_596_800_000_000n; // 0001-01-01
    const max = 253_402_300_799_999_999n; // 9999-12-31 23:59:59.999999
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min, max }), { minLength: 1, maxLength: 300 }), (values) => {
        const all = BigInt64Array.from([
          0n,
          -1n,
          1n,
          1_000_000n,
          1_700_000_000_100_000n,
          min,
          max,
          ...values.map((v) => (v % 3n === 0n ? (v / 1_000_000n) * 1_000_000n : v)),
        ]);
        const ts = makeData({ type: new TimestampMicrosecond('UTC'), length: all.length, nullCount: 0, data: all });
        expect([...all].map((v) => `${timestampText(v)}+00`)).toEqual(printed(makeVector(ts)));
        const ntz = makeData({ type: new TimestampMicrosecond(), length: all.length, nullCount: 0, data: all });
        expect([...all].map(timestampText)).toEqual(printed(makeVector(ntz)));
        const days = Int32Array.from(all, (v) => Number(v / 86_400_000_000n));
        const dates = makeData({ type: new DateDay(), length: days.length, nullCount: 0, data: days });
        expect([...days].map((d) => timestampText(BigInt(d) * 86_400_000_000n).slice(0, 10))).toEqual(printed(makeVector(dates)));
      }),
      { numRuns: 30 },
    );
  });
});

describe('a page read without the engine', () => {
  it('equals the engine’s for every table of a run, first page and later ones', async () => {
    const { lakehouse, storage } = await nodeLakehouse();
    await lakehouse.run({ seed: 11, events: 4000, days: 30, invalidRate: 0.05 });
    const tables = (await lakehouse.tables()).map((t) => t.path);
    const read: string[] = [];
    for (const path of tables) {
      const snap = await loadSnapshot(storage, path);
      if (!readableAsText(snap)) {
        expect(await pageText(storage, snap, { offset: 0, limit: 100 }), path).toBeUndefined();
        continue;
      }
      read.push(path);
      const total = snap.files.reduce((n, f) => n + (numRecords(f) ?? 0), 0);
      for (const [offset, limit] of [
        [0, 100],
        [total > 150 ? 150 : 0, 7],
      ] as const) {
        const page = await pageText(storage, snap, { offset, limit });
        expect(page, path).toBeDefined();
        expect(page, `${path} rows ${offset}+${limit}`).toEqual(await throughEngine(storage, path, undefined, offset, limit));
      }
    }
    // silver/rejects holds lists: the engine prints those.
    expect(read.sort()).toEqual(tables.filter((t) => t !== 'silver/rejects').sort());
  }, 120_000);

  const readable = cases.flatMap((c) => c.versions.filter((v) => v.readable !== false).map((v) => ({ name: c.name, table: c.table, ...v })));
  it.each(readable)('equals the engine’s for $name v$version, or is left to the engine', async (c) => {
    const storage = new NodeStorage(join(FIXTURES, c.table));
    const snap = await loadSnapshot(storage, '', c.version);
    const page = await pageText(storage, snap, { offset: 0, limit: 100 });
    // Left to the engine: types or partitions it does not read, files without a row count or with a deletion vector.
    const left = !readableAsText(snap) || snap.files.some((f) => f.deletionVector || numRecords(f) === null);
    expect(page === undefined).toBe(left);
    if (left) return;
    expect(page).toEqual(await throughEngine(storage, '', c.version, 0, 100));
  });
});

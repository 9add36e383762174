import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../src/delta/export.ts';
import { isoTimestamp, readRows, readableWithoutEngine } from '../src/delta/rows.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import type { Engine } from '../src/engine/types.ts';
import { GOLD_TABLES, goldTable } from '../src/pipeline/tables.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Storage } from '../src/storage/types.ts';
import { testEngine } from './helpers/engine.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

// The rows the dashboard reads without DuckDB (src/delta/rows.ts) must be exactly the ones the
// engine gives (scan into DuckDB, then export.ts's jsonLines): same values, types and order.

import { FIXTURE_CASES, FIXTURES } from './helpers/fixtures.ts';
const cases = FIXTURE_CASES;

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

async function throughEngine(storage: Storage, table: string, version?: number): Promise<Record<string, unknown>[]> {
  const snap = await loadSnapshot(storage, table, version);
  await scanIntoEngine(engine, storage, snap, 'through_engine');
  return [...jsonLines(engine, 'through_engine', snap.schema)].map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('rows read without the engine', () => {
  it('equal the engine’s for the six gold tables of a run', async () => {
    const { lakehouse, storage } = await nodeLakehouse();
    await lakehouse.run({ seed: 11, events: 4000, days: 30, invalidRate: 0.02 });
    for (const kpi of GOLD_TABLES) {
      const snap = await loadSnapshot(storage, goldTable(kpi));
      const rows = await readRows(storage, snap);
      expect(rows, kpi).toBeDefined();
      expect(rows!.length, kpi).toBeGreaterThan(0);
      expect(rows, kpi).toEqual(await throughEngine(storage, goldTable(kpi)));
    }
  }, 120_000);

  const readable = cases.flatMap((c) => c.versions.filter((v) => v.readable !== false).map((v) => ({ name: c.name, table: c.table, ...v })));
  it.each(readable)('equal the engine’s for $name v$version, or are left to the engine', async (c) => {
    const storage = new NodeStorage(join(FIXTURES, c.table));
    const snap = await loadSnapshot(storage, '', c.version);
    const rows = await readRows(storage, snap);
    if (!readableWithoutEngine(snap)) {
      expect(rows).toBeUndefined();
      return;
    }
    expect(rows).toHaveLength(c.rows);
    expect(rows).toEqual(await throughEngine(storage, '', c.version));
  });

  it('partitioned tables and types it does not handle (binary, decimal) are left to the engine', async () => {
    const without = [];
    for (const c of cases) {
      const snap = await loadSnapshot(new NodeStorage(join(FIXTURES, c.table)), '');
      if (readableWithoutEngine(snap)) without.push(c.name);
    }
    expect(without).toEqual([
      'basic-with-inserts-overwrite-restore',
      'basic-with-inserts-updates',
      'simple_table',
      'snapshot-data0',
      'snapshot-data1',
      'v1-multi-part-struct-stats-only',
      'v2-json-sidecars-struct-stats-only',
      'v2-parquet-sidecars-struct-stats-only',
      'v2-classic-parquet-struct-stats-only',
      'v2-classic-checkpoint-json',
      'v2-classic-checkpoint-parquet',
      'spark-v2-json-sidecars',
      'spark-v2-parquet-sidecars',
      'spark-stale-last-checkpoint',
      'table-with-dv-small',
      'with-short-dv',
      'dv-spark-unpartitioned',
      'dv-spark-bitmap',
      'colmap-flat',
    ]);
  });

  it('formats timestamps as DuckDB’s strftime %f does, before 1970 too', () => {
    expect(isoTimestamp(0n)).toBe('1970-01-01T00:00:00.000000');
    expect(isoTimestamp(1_700_000_000_123_456n)).toBe('2023-11-14T22:13:20.123456');
    expect(isoTimestamp(-1n)).toBe('1969-12-31T23:59:59.999999');
    expect(isoTimestamp(-86_400_000_001n)).toBe('1969-12-30T23:59:59.999999');
  });
});

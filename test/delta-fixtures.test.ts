import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeParquet } from '../src/parquet/codec.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { loadSnapshot, loadHistory } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { quoteIdent } from '../src/engine/duckdb.ts';
import type { Engine } from '../src/engine/types.ts';
import { testEngine } from './helpers/engine.ts';

import { FIXTURE_CASES, FIXTURES } from './helpers/fixtures.ts';

const cases = FIXTURE_CASES;

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

/** Rows of `actual` and `expected` as multisets over the expected columns, compared in SQL on typed values. */
function multisetDiff(columns: string[]): { missing: number; extra: number } {
  const cols = columns.map(quoteIdent).join(', ');
  const count = (sql: string) => Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM (${sql})`)[0]!.n);
  return {
    missing: count(`SELECT ${cols} FROM expected EXCEPT ALL SELECT ${cols} FROM actual_cast`),
    extra: count(`SELECT ${cols} FROM actual_cast EXCEPT ALL SELECT ${cols} FROM expected`),
  };
}

describe.each(cases)('reading the reference table $name', (c) => {
  const storage = new NodeStorage(join(FIXTURES, c.table));

  it('finds the latest version', async () => {
    const snap = await loadSnapshot(storage, '');
    expect(snap.version).toBe(c.latest);
  });

  it.each(c.versions.filter((v) => v.readable !== false))('version $version equals the expected rows', async (v) => {
    const snap = await loadSnapshot(storage, '', v.version);
    expect(snap.files.length).toBe(v.files);
    const n = await scanIntoEngine(engine, storage, snap, 'actual');
    expect(n).toBe(v.rows);
    engine.insertIPC('expected', decodeParquet(readFileSync(join(FIXTURES, c.name, v.expected))));
    const expectedCols = engine.rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE expected)');
    // Cast our rows to the types the expected file carries, so values compare as typed values.
    engine.run(
      `CREATE OR REPLACE TABLE actual_cast AS SELECT ${expectedCols
        .map((col) => `CAST(${quoteIdent(col.column_name)} AS ${col.column_type}) AS ${quoteIdent(col.column_name)}`)
        .join(', ')} FROM actual`,
    );
    expect(Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM expected')[0]!.n)).toBe(v.rows);
    expect(multisetDiff(expectedCols.map((col) => col.column_name))).toEqual({ missing: 0, extra: 0 });
  });

  it('has a history entry for every commit', async () => {
    const history = await loadHistory(storage, '');
    expect(history[0]!.version).toBe(c.latest);
    expect(history.every((h) => typeof h.operation === 'string' && h.timestamp > 0)).toBe(true);
  });
});

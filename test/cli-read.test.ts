import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeParquet } from '../src/parquet/codec.ts';
import type { Engine } from '../src/engine/types.ts';
import { testEngine } from './helpers/engine.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test/fixtures/delta');

function cli(...args: string[]) {
  return run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
}

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('cli read and log', () => {
  it('prints a timestamp_ntz, partitioned Spark table as typed JSON lines', async () => {
    const { stdout } = await cli('read', join(FIXTURES, 'data-reader-timestamp_ntz/delta'));
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number });
    expect(rows).toHaveLength(9);
    expect(rows.find((r) => r.id === 0)).toEqual({ id: 0, tsNtz: '2021-11-18T02:30:00.123456', tsNtzPartition: '2021-11-18T02:30:00.123456' });
    expect(rows.find((r) => r.id === 8)).toEqual({ id: 8, tsNtz: null, tsNtzPartition: null });
  });

  it('writes one Parquet file whose columns carry the schema types, at a chosen version', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cli-read-')), 'v1.parquet');
    await cli('read', join(FIXTURES, 'basic-with-inserts-overwrite-restore/delta'), '--version', '1', '--out', out);
    engine.insertIPC('got', decodeParquet(new Uint8Array(readFileSync(out))));
    expect(engine.rows('SELECT column_name, column_type FROM (DESCRIBE got)')).toEqual([{ column_name: 'id', column_type: 'BIGINT' }]);
    expect(engine.rows('SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM got')).toEqual([{ n: 200n, lo: 0n, hi: 199n }]);
  });

  it('shows the history with rows added and removed', async () => {
    const { stdout } = await cli('log', join(FIXTURES, 'basic-with-inserts-overwrite-restore/delta'), '--json');
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.version, r.operation, r.rows_added, r.rows_removed])).toEqual([
      [3, 'RESTORE', 200, 500],
      [2, 'WRITE', 500, 200],
      [1, 'WRITE', 100, 0],
      [0, 'WRITE', 100, 0],
    ]);
  });

  it('names what was wrong and exits non-zero', async () => {
    const err = (await cli('read', join(FIXTURES, 'simple_table/delta'), '--version', '9').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(`error: ${join(FIXTURES, 'simple_table/delta')} has no version 9; the latest is 4\n`);
  });
});

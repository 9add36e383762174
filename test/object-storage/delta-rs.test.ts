import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { openLocation } from '../../src/cli/location.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { writeTable } from '../../src/delta/writer.ts';
import type { Storage } from '../../src/storage/types.ts';
import { testEngine } from '../helpers/engine.ts';

// delta-rs (python `deltalake`, pinned in scripts/storage/requirements.txt) as the peer on the emulated stores.
const env = inject('storageEnv');
const ROOT = join(import.meta.dirname, '../..');
const deltaRs = async (...args: string[]) =>
  (
    await promisify(execFile)(join(ROOT, 'scripts/storage/.venv/bin/python'), [join(ROOT, 'scripts/storage/delta_rs.py'), ...args], {
      env: { ...process.env, ...env },
    })
  ).stdout;

let engine: Engine;
beforeAll(async () => {
  Object.assign(process.env, env);
  engine = await testEngine();
});

const ROWS = (ids: number[]) => `
  SELECT i::BIGINT AS id, 'name ' || i AS name, (i * 1.5)::DOUBLE AS score, (DATE '2024-01-01' + (i % 3)::INTEGER) AS day,
    CAST(TIMESTAMP '2024-01-01 12:00:00' + to_minutes(i) AS TIMESTAMPTZ) AS at, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS kind
  FROM (VALUES ${ids.map((i) => `(${i})`).join(', ')}) v(i)`;

const expected = (ids: number[]) =>
  ids.map((i) => ({
    id: i,
    name: `name ${i}`,
    score: i * 1.5,
    day: `2024-01-0${1 + (i % 3)}`,
    at: `2024-01-01T12:0${i}:00+00:00`,
    kind: i % 2 === 0 ? 'even' : 'odd',
  }));

/** Our reader's rows, in the form delta_rs.py prints them. */
async function ours(storage: Storage, table: string): Promise<{ version: number; rows: unknown[] }> {
  const snapshot = await loadSnapshot(storage, table);
  await scanIntoEngine(engine, storage, snapshot, 'peer');
  const rows = engine.rows(
    `SELECT id, name, score, day::VARCHAR AS day, strftime("at"::TIMESTAMP, '%Y-%m-%dT%H:%M:%S') || '+00:00' AS "at", kind FROM peer ORDER BY id`,
  );
  return { version: snapshot.version, rows: rows.map((r) => ({ ...r, id: Number(r.id) })) };
}

describe.each([
  ['S3 (moto)', 's3://lakehouse'],
  ['Azure Blob (Azurite)', 'az://lakehouse'],
])('delta-rs on %s', (_name, bucket) => {
  it('reads the table we write there, and we read (and append to) the one it writes', { timeout: 180_000 }, async () => {
    const root = `${bucket}/delta-rs-${crypto.randomUUID()}`;
    const storage = openLocation(root);
    await writeTable(storage, 'ours', engine.query(ROWS([1, 2, 3])), { mode: 'append', partitionBy: ['kind'] });
    await writeTable(storage, 'ours', engine.query(ROWS([4, 5])), { mode: 'append' });
    expect(JSON.parse(await deltaRs('read', `${root}/ours`))).toEqual({ version: 1, rows: expected([1, 2, 3, 4, 5]) });

    await deltaRs('write', `${root}/theirs`);
    expect(await ours(storage, 'theirs')).toEqual({ version: 1, rows: expected([1, 2, 3, 4, 5]) });
    await writeTable(storage, 'theirs', engine.query(ROWS([6])), { mode: 'append' });
    expect(JSON.parse(await deltaRs('read', `${root}/theirs`))).toEqual({ version: 2, rows: expected([1, 2, 3, 4, 5, 6]) });
  });
});

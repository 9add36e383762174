import { mkdirSync, mkdtempSync, existsSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { writeTable } from '../src/delta/writer.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { TEMPORARY_MIN_AGE_HOURS, vacuumTable } from '../src/delta/vacuum.ts';
import { testEngine } from './helpers/engine.ts';
import { validateDeltaTable } from './helpers/delta-validator.ts';

/**
 * A write cut short (a killed process, a closed tab, a full disk) leaves its temporary file
 * (`.<uuid>.tmp`, hidden from `Storage.list`) in a data folder or in the `_delta_log`. VACUUM
 * removes those older than the retention and than a minimum age that protects writes in flight.
 */
let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const HOUR = 3_600_000;

function aged(path: string, text: string, ageMs: number): void {
  writeFileSync(path, text);
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
}

async function table(): Promise<{ dir: string; storage: NodeStorage }> {
  const dir = mkdtempSync(join(tmpdir(), 'vacuum-tmp-'));
  const storage = new NodeStorage(dir);
  for (const n of [1, 2])
    await writeTable(storage, 't', new Table({ day: vectorFromArray([`d${n}`], new Utf8()), n: vectorFromArray([n], new Float64()) }), {
      mode: 'append',
      partitionBy: ['day'],
    });
  return { dir, storage };
}

describe('VACUUM of temporary files', () => {
  it('lists them apart on the Node filesystem', async () => {
    const { dir, storage } = await table();
    aged(join(dir, 't/_delta_log/.0d4c5a.tmp'), '{"add":', 2 * HOUR);
    expect((await storage.list('t')).some((f) => f.path.endsWith('.tmp'))).toBe(false);
    expect((await storage.listTemporary('t')).map((f) => [f.path, f.size])).toEqual([['t/_delta_log/.0d4c5a.tmp', 7]]);
  });

  it('removes old ones in the log and in data folders, keeps young ones and everything committed', async () => {
    const { dir, storage } = await table();
    const before = await storage.list('t');
    aged(join(dir, 't/_delta_log/.11111111-log-8days.tmp'), '{"commitInfo":', 8 * 24 * HOUR); // 14 B
    aged(join(dir, 't/day=d1/.22222222-data-2h.tmp'), 'PAR1 half', 2 * HOUR); // 9 B
    aged(join(dir, 't/day=d2/part-00001-x.parquet.33333333.tmp'), 'PAR1', 8 * 24 * HOUR); // 4 B, Node's write beside
    aged(join(dir, 't/_delta_log/.44444444-young.tmp'), 'in flight', 10 * 60_000); // 10 minutes: may be a write in flight
    mkdirSync(join(dir, 't/day=d3'));
    aged(join(dir, 't/day=d3/.55555555-just-now.tmp'), 'x', 0);

    // The table's retention (7 days): only the 8-day-old ones go.
    const week = await vacuumTable(storage, 't');
    expect(week.files.map((f) => [f.path, f.size, f.reason]).sort()).toEqual([
      ['_delta_log/.11111111-log-8days.tmp', 14, 'untracked'],
      ['day=d2/part-00001-x.parquet.33333333.tmp', 4, 'untracked'],
    ]);
    expect(existsSync(join(dir, 't/_delta_log/.11111111-log-8days.tmp'))).toBe(false);
    expect(existsSync(join(dir, 't/day=d1/.22222222-data-2h.tmp'))).toBe(true);

    // A retention of 0 hours (forced): the 2-hour-old one goes; the young ones stay, being younger than the minimum age.
    expect(TEMPORARY_MIN_AGE_HOURS).toBe(1);
    const forced = await vacuumTable(storage, 't', { retentionHours: 0, force: true });
    expect(forced.files.map((f) => [f.path, f.size])).toEqual([['day=d1/.22222222-data-2h.tmp', 9]]);
    expect(forced.bytes).toBe(9);
    expect((await storage.listTemporary('t')).map((f) => f.path).sort()).toEqual(['t/_delta_log/.44444444-young.tmp', 't/day=d3/.55555555-just-now.tmp']);

    // A caller that knows no write is in flight (the crash trials) can take the young ones too.
    const all = await vacuumTable(storage, 't', { retentionHours: 0, force: true, temporaryMinAgeHours: 0 });
    expect(all.files.map((f) => f.path).sort()).toEqual(['_delta_log/.44444444-young.tmp', 'day=d3/.55555555-just-now.tmp']);
    expect(await storage.listTemporary('t')).toEqual([]);

    // Committed files and the log are as before; the table reads and validates.
    expect((await storage.list('t')).map((f) => f.path)).toEqual(before.map((f) => f.path));
    expect(await validateDeltaTable(storage, 't', engine)).toEqual([]);
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, 't'), 'vt');
    expect(engine.rows<{ n: number }>('SELECT n FROM vt ORDER BY n').map((r) => r.n)).toEqual([1, 2]);
  });

  it('refuses a negative minimum age', async () => {
    const { storage } = await table();
    await expect(vacuumTable(storage, 't', { temporaryMinAgeHours: -1 })).rejects.toThrow(
      'delta: a minimum age of temporary files is a number of hours ≥ 0, got -1',
    );
  });
});

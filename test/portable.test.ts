import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../src/pipeline/tables.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { unzip, ZipArchive } from '../src/unzip.ts';
import type { Lakehouse } from '../src/worker/lakehouse.ts';
import { zip } from '../src/zip.ts';
import { validateDeltaTable } from './helpers/delta-validator.ts';
import { testEngine } from './helpers/engine.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';
import { rawBytes } from './helpers/raw-zip.ts';

/**
 * Issue 7, items 2 and 3, through the worker's API on a temp folder: the whole lakehouse exported
 * as one .zip and imported into an empty one, every table with its whole history; OPTIMIZE and
 * VACUUM of one table.
 */
describe('export, import, optimize and vacuum through the lakehouse API', () => {
  const dirs: string[] = [];
  let a: Lakehouse;
  let exported: Uint8Array;

  const versions = async (l: Lakehouse) =>
    Object.fromEntries(await Promise.all((await l.tables()).map(async (t) => [t.path, (await l.table(t.path)).versions])));
  const gold = async (l: Lakehouse, version?: number) =>
    Object.fromEntries(await Promise.all(GOLD_TABLES.map(async (k) => [k, (await l.goldTable(k, version)).rows.map((r) => JSON.stringify(r)).sort()])));

  beforeAll(async () => {
    const made = await nodeLakehouse();
    dirs.push(made.dir);
    a = made.lakehouse;
    for (const seed of [1, 2, 3]) await a.run({ events: 300, seed, days: 10, invalidRate: 0.05 });
    exported = new Uint8Array(await (await a.exportLakehouse()).archive.arrayBuffer());
  });
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('the export holds every table folder with its whole log; each unzips to a valid Delta table', async () => {
    const out = await a.exportLakehouse();
    expect(out.fileName).toBe('creatorops-lakehouse.zip');
    const tables = await a.tables();
    expect(out.tables.map((t) => t.path)).toEqual(tables.map((t) => t.path));
    const bytes = new Uint8Array(await out.archive.arrayBuffer());
    expect(out.archive.type).toBe('application/zip');
    const names = (await unzip(bytes)).map((e) => e.name);
    for (const t of tables) {
      for (let v = 0; v <= t.version; v++) expect(names).toContain(`creatorops-lakehouse/${t.path}/_delta_log/${String(v).padStart(20, '0')}.json`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'lakehouse-export-'));
    dirs.push(dir);
    await writeFile(join(dir, 'l.zip'), bytes);
    execFileSync('unzip', ['-q', 'l.zip'], { cwd: dir });
    const storage = new NodeStorage(join(dir, 'creatorops-lakehouse'));
    const engine = await testEngine();
    for (const t of tables) expect(await validateDeltaTable(storage, t.path, engine), t.path).toEqual([]);
  });

  test('import into an empty lakehouse restores every version; refusals name what is wrong', async () => {
    const made = await nodeLakehouse();
    dirs.push(made.dir);
    const b = made.lakehouse;
    await expect(b.importLakehouse('empty.zip', zip([{ name: 'notes/readme.txt', data: new TextEncoder().encode('hi') }]))).rejects.toThrow(
      /empty\.zip holds no Delta table: no folder in it has a _delta_log/,
    );
    const foreign = zip([{ name: 'people/_delta_log/00000000000000000000.json', data: new TextEncoder().encode('{}\n') }]);
    await expect(b.importLakehouse('foreign.zip', foreign)).rejects.toThrow(/not tables of this lakehouse: people/);
    expect(await b.tables()).toEqual([]);

    const result = await b.importLakehouse('creatorops-lakehouse.zip', exported);
    expect(result.replaced).toEqual([]);
    expect(result.tables.map((t) => t.path)).toEqual((await a.tables()).map((t) => t.path));
    expect(await versions(b)).toEqual(await versions(a));
    expect(await gold(b)).toEqual(await gold(a));
    expect(await gold(b, 0)).toEqual(await gold(a, 0));
    expect((await b.rows('silver/events', 0, 1000)).rows).toEqual((await a.rows('silver/events', 0, 1000)).rows);

    // Not empty now: refused unless replacing is confirmed.
    // A check names what would come in and what it would replace, and writes nothing.
    const check = await b.importLakehouse('creatorops-lakehouse.zip', exported, 'check');
    expect(check.replaced).toEqual((await a.tables()).map((t) => t.path));
    expect(check.tables.map((t) => `${t.path}@${t.version}`)).toEqual((await a.tables()).map((t) => `${t.path}@${t.version}`));
    expect(await versions(b)).toEqual(await versions(a));
    await expect(b.importLakehouse('foreign.zip', foreign, 'check')).rejects.toThrow(/not tables of this lakehouse: people/);
    await expect(b.importLakehouse('creatorops-lakehouse.zip', exported)).rejects.toThrow(
      /the lakehouse is not empty \(bronze\/events, .*would replace all of it/,
    );
    // A damaged data file is found before anything is replaced: the lakehouse stays as it was.
    const archive = await ZipArchive.open('x', exported);
    const part = archive.entries.find((e) => e.name.startsWith('creatorops-lakehouse/silver/events/part-'))!;
    const damaged = exported.slice();
    damaged[part.offset + 30 + new TextEncoder().encode(part.name).byteLength + 100]! ^= 0xff;
    await expect(b.importLakehouse('damaged.zip', damaged, true)).rejects.toThrow(`damaged.zip is damaged: entry "${part.name}" fails its CRC-32 check`);
    await expect(b.importLakehouse('damaged.zip', damaged, 'check')).rejects.toThrow(`damaged.zip is damaged: entry "${part.name}" fails its CRC-32 check`);
    expect(await versions(b)).toEqual(await versions(a));
    // So is a name that would land outside the lakehouse, before anything is read.
    const evil = rawBytes([{ name: 'creatorops-lakehouse/silver/events/../../../x', stored: new Uint8Array(1) }]);
    await expect(b.importLakehouse('evil.zip', evil, true)).rejects.toThrow(
      'evil.zip: entry "creatorops-lakehouse/silver/events/../../../x" has a ".." part, which would put it outside the folder it is unpacked into',
    );
    expect(await versions(b)).toEqual(await versions(a));
    const again = await b.importLakehouse('creatorops-lakehouse.zip', exported, true);
    expect(again.replaced).toContain('silver/events');
    expect(await versions(b)).toEqual(await versions(a));
    // The pipeline goes on from the imported state.
    await b.run({ events: 300, seed: 4, days: 10, invalidRate: 0.05 });
    expect((await b.table('bronze/events')).version).toBe(3);
    expect((await b.tables()).find((t) => t.path === 'bronze/events')?.rows).toBe(1200);
  });

  test('one table’s .zip (Download as .zip) imports as that table, with its history', async () => {
    const made = await nodeLakehouse();
    dirs.push(made.dir);
    const one = await a.downloadZip('gold/engagement_bands');
    expect(one.fileName).toBe('gold_engagement_bands.zip');
    const r = await made.lakehouse.importLakehouse(one.fileName, one.archive);
    expect(r.tables.map((t) => [t.path, t.from, t.version, t.commits])).toEqual([['gold/engagement_bands', 'gold_engagement_bands', 2, 3]]);
    expect((await made.lakehouse.tables()).map((t) => t.path)).toEqual(['gold/engagement_bands']);
    for (const v of [0, 2]) expect((await made.lakehouse.goldTable('engagement_bands', v)).rows).toEqual((await a.goldTable('engagement_bands', v)).rows);
  });

  test('OPTIMIZE compacts one table with its rows unchanged; VACUUM with 0 hours needs force and keeps the latest version', async () => {
    const made = await nodeLakehouse();
    dirs.push(made.dir);
    const c = made.lakehouse;
    await c.importLakehouse('creatorops-lakehouse.zip', exported);
    const before = await c.table('silver/events');
    const rowsBefore = (await c.rows('silver/events', undefined, 1000)).rows.map((r) => JSON.stringify(r)).sort();
    const v1 = (await c.rows('silver/events', 1, 1000)).rows.map((r) => JSON.stringify(r)).sort();
    const r = await c.optimize('silver/events');
    expect(r.version).toBe(before.version + 1);
    expect(r.filesRemoved).toBe(before.files);
    expect(r.filesAdded).toBe(1);
    const after = await c.table('silver/events');
    expect(after.files).toBe(1);
    expect(after.history[0]!.operation).toBe('OPTIMIZE');
    expect((await c.rows('silver/events', undefined, 1000)).rows.map((x) => JSON.stringify(x)).sort()).toEqual(rowsBefore);
    expect((await c.rows('silver/events', 1, 1000)).rows.map((x) => JSON.stringify(x)).sort()).toEqual(v1);

    await expect(c.vacuumTable('silver/events', { retentionHours: 0 })).rejects.toThrow(/retention of 0 hours is shorter than the table's 168 hours/);
    const kept = await c.vacuumTable('silver/events');
    expect(kept.files).toEqual([]);
    expect((await c.table('silver/events')).unreadable).toEqual([]);
    const v = await c.vacuumTable('silver/events', { retentionHours: 0, force: true });
    expect(v.files.length).toBe(before.files);
    expect(v.bytes).toBe(before.bytes);
    expect((await c.rows('silver/events', undefined, 1000)).rows.map((x) => JSON.stringify(x)).sort()).toEqual(rowsBefore);
    await expect(c.rows('silver/events', 1, 1000)).rejects.toThrow();
    // Every version before OPTIMIZE needed the files VACUUM deleted: each is marked, the latest is not.
    const vacuumed = await c.table('silver/events');
    expect(vacuumed.unreadable).toEqual(vacuumed.versions.filter((n) => n < vacuumed.version));
    expect(vacuumed.unreadable.length).toBeGreaterThan(0);
    await expect(c.optimize('opened/x')).rejects.toThrow(/not a table of the lakehouse/);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { jsonLines } from '../src/delta/export.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot, readCommit, tryListLog } from '../src/delta/snapshot.ts';
import { decodeDataPath } from '../src/delta/actions.ts';
import { KNOWN_TABLES } from '../src/worker/catalog.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet } from '../src/parquet/codec.ts';
import type { RunSummary } from '../src/pipeline/lakehouse.ts';
import { GOLD_TABLES } from '../src/pipeline/tables.ts';
import { NodeStorage } from '../src/storage/node.ts';
import type { Lakehouse } from '../src/worker/lakehouse.ts';
import { testEngine } from './helpers/engine.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

/** Data files of the lakehouse's tables that no commit of their table adds. */
async function uncommitted(storage: NodeStorage): Promise<string[]> {
  const out: string[] = [];
  for (const table of KNOWN_TABLES) {
    const log = await tryListLog(storage, table);
    const referenced = new Set<string>();
    for (const v of log?.commits.keys() ?? [])
      for (const a of await readCommit(storage, table, v)) if ('add' in a) referenced.add(`${table}/${decodeDataPath((a.add as { path: string }).path)}`);
    for (const f of await storage.list(table)) if (!f.path.includes('/_delta_log/') && !referenced.has(f.path)) out.push(f.path);
  }
  return out;
}

/**
 * The worker's API, on a folder instead of OPFS: what the page sees of a lakehouse after two
 * generated batches and an upload.
 */
describe('the lakehouse API the page uses', () => {
  let lakehouse: Lakehouse;
  let dir: string;
  let engine: Engine;
  let first: RunSummary;
  let second: RunSummary;
  const progress: string[] = [];

  beforeAll(async () => {
    ({ lakehouse, dir } = await nodeLakehouse());
    engine = await testEngine();
    expect(await lakehouse.tables()).toEqual([]);
    first = await lakehouse.run({ events: 600, seed: 5, days: 20, invalidRate: 0.05 }, (p) => progress.push(p.stage));
    second = await lakehouse.run({ events: 400, seed: 6, days: 20, invalidRate: 0.05 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('reports progress through every stage', () => {
    expect(new Set(progress)).toEqual(new Set(['bronze', 'silver', 'gold']));
  });

  test('tables: versions, rows and files from the logs', async () => {
    const tables = await lakehouse.tables();
    expect(tables.map((t) => [t.path, t.view, t.layer, t.version])).toEqual([
      ['bronze/events', 'bronze_events', 'bronze', 1],
      ['silver/events', 'silver_events', 'silver', 1],
      ['silver/rejects', 'silver_rejects', 'silver', 1],
      ['silver/quality', 'silver_quality', 'silver', 1],
      ...GOLD_TABLES.map((k) => [`gold/${k}`, `gold_${k}`, 'gold', 1]),
    ]);
    const rows = Object.fromEntries(tables.map((t) => [t.path, t.rows]));
    expect(rows['bronze/events']).toBe(1000);
    expect(rows['silver/events']).toBe(first.silver[0]!.silverRows + second.silver[0]!.silverRows);
    expect(rows['silver/rejects']).toBe(first.silver[0]!.rejectedRows + second.silver[0]!.rejectedRows);
    for (const g of second.gold) expect(rows[g.table]).toBe(g.rows);
    expect(tables.every((t) => t.files > 0 && t.bytes > 0)).toBe(true);
  });

  test('table: schema, files, history and reachable versions', async () => {
    const t = await lakehouse.table('gold/engagement_bands');
    expect(t.schema).toEqual([
      { name: 'band', type: 'string', nullable: true },
      { name: 'sessions', type: 'long', nullable: true },
      { name: 'share', type: 'double', nullable: true },
      { name: 'avg_progress_pct', type: 'double', nullable: true },
    ]);
    expect(t.history.map((h) => [h.version, h.operation, h.rowsAdded, h.rowsRemoved])).toEqual([
      [1, 'CREATE OR REPLACE TABLE AS SELECT', 4, 4],
      [0, 'CREATE OR REPLACE TABLE AS SELECT', 4, 0],
    ]);
    expect(t.versions).toEqual([1, 0]);
    expect(t.dataFiles).toHaveLength(1);
    expect(t.dataFiles[0]!.rows).toBe(4);
    expect(t.history[0]!.parameters.source).toBe('sql/gold/engagement_bands.sql');
  });

  test('commit: the raw actions of one commit, readable', async () => {
    const c = await lakehouse.commit('bronze/events', 0);
    expect(c.file).toBe('bronze/events/_delta_log/00000000000000000000.json');
    expect(c.actions.map((a) => a.kind)).toEqual(['commitInfo', 'protocol', 'metaData', 'add']);
    expect(JSON.parse(c.actions[3]!.json).add.dataChange).toBe(true);
    expect(c.actions[0]!.json).toContain('\n  "commitInfo": {\n');
    await expect(lakehouse.commit('bronze/events', 7)).rejects.toThrow('table bronze/events has no commit file for version 7 in its log; the latest is 1');
    await expect(lakehouse.commit('bronze', 0)).rejects.toThrow('there is no table "bronze"; the tables are bronze/events, silver/events');
  });

  test('rows: time travel shows the rows as they were', async () => {
    const v0 = await lakehouse.rows('silver/events', 0, 5);
    const latest = await lakehouse.rows('silver/events');
    expect(v0.total).toBe(first.silver[0]!.silverRows);
    expect(latest.total).toBe(first.silver[0]!.silverRows + second.silver[0]!.silverRows);
    expect(v0.rows).toHaveLength(5);
    expect(v0.columns.map((c) => c.name).slice(0, 3)).toEqual(['event_id', 'event_type', 'occurred_at']);
    const page = await lakehouse.rows('silver/events', 0, 2, 3);
    expect(page.rows).toEqual(v0.rows.slice(3, 5));
    await expect(lakehouse.rows('silver/events', 9)).rejects.toThrow('has no version 9; the latest is 1');
  });

  test('profile: nulls, distinct values, range and histogram per column', async () => {
    const p = await lakehouse.profile('gold/engagement_bands');
    expect(p.rows).toBe(4);
    const band = p.columns.find((c) => c.name === 'band')!;
    expect(band).toMatchObject({ kind: 'categorical', nulls: 0, distinct: 4, min: 'bounce', max: 'skim' });
    expect(band.histogram.map((h) => h.count)).toEqual([1, 1, 1, 1]);
    const sessions = p.columns.find((c) => c.name === 'sessions')!;
    expect(sessions.kind).toBe('numeric');
    expect(sessions.histogram.reduce((s, h) => s + h.count, 0)).toBe(4);
    const silver = await lakehouse.profile('silver/events', 0);
    const words = silver.columns.find((c) => c.name === 'words')!;
    expect(words.nulls + words.histogram.reduce((s, h) => s + h.count, 0)).toBe(silver.rows);
    expect(silver.columns.find((c) => c.name === 'occurred_at')!.kind).toBe('temporal');
  });

  test('goldTable: the rows as `cli read` prints them', async () => {
    for (const kpi of GOLD_TABLES) {
      const g = await lakehouse.goldTable(kpi);
      const storage = new NodeStorage(dir);
      const snap = await loadSnapshot(storage, `gold/${kpi}`);
      await scanIntoEngine(engine, storage, snap, 'expected');
      expect(g.version).toBe(1);
      expect(g.rows).toEqual([...jsonLines(engine, 'expected', snap.schema)].map((l) => JSON.parse(l)));
    }
    await expect(lakehouse.goldTable('nope')).rejects.toThrow('there is no gold table "nope"; the gold tables are writing_velocity_daily');
  });

  test('downloadParquet: one file equal to the gold table', async () => {
    const d = await lakehouse.downloadParquet('gold_stage_bottlenecks');
    expect(d.fileName).toBe('stage_bottlenecks.parquet');
    engine.insertIPC('downloaded', decodeParquet(d.bytes));
    const storage = new NodeStorage(dir);
    const snap = await loadSnapshot(storage, 'gold/stage_bottlenecks');
    await scanIntoEngine(engine, storage, snap, 'expected');
    expect([...jsonLines(engine, 'downloaded', snap.schema)]).toEqual([...jsonLines(engine, 'expected', snap.schema)]);
    expect(engine.rows('SELECT column_name, column_type FROM (DESCRIBE downloaded)')).toEqual(
      engine.rows('SELECT column_name, column_type FROM (DESCRIBE expected)'),
    );
  });

  test('downloadZip: unzips to a Delta table with every version', async () => {
    const d = await lakehouse.downloadZip('silver/events');
    expect(d.fileName).toBe('silver_events.zip');
    const out = await mkdtemp(join(tmpdir(), 'unzipped-'));
    try {
      await writeFile(join(out, d.fileName), new Uint8Array(await d.archive.arrayBuffer()));
      execFileSync('unzip', ['-q', join(out, d.fileName), '-d', out]);
      const storage = new NodeStorage(join(out, 'silver_events'));
      expect((await loadSnapshot(storage, '')).version).toBe(1);
      expect(await scanIntoEngine(engine, storage, await loadSnapshot(storage, '', 0), 'unzipped')).toBe(first.silver[0]!.silverRows);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  test('query: views of the latest versions, time travel, and nothing that writes', async () => {
    const n = async (sql: string) => (await lakehouse.query(sql)).rows[0]![0];
    expect(await n('SELECT count(*) FROM silver_events')).toBe(String(first.silver[0]!.silverRows + second.silver[0]!.silverRows));
    expect(await n('SELECT count(*) FROM silver_events@v0')).toBe(String(first.silver[0]!.silverRows));
    expect(await n('SELECT count(*) FROM silver_events VERSION AS OF 0')).toBe(String(first.silver[0]!.silverRows));
    const r = await lakehouse.query('SELECT band, sessions FROM gold_engagement_bands@v0 ORDER BY sessions DESC');
    expect(r.tables).toEqual(['gold_engagement_bands@v0']);
    expect(r.sql).toBe('SELECT band, sessions FROM "gold_engagement_bands@v0" ORDER BY sessions DESC');
    expect(r.rowCount).toBe(4);
    const big = await lakehouse.query('SELECT * FROM bronze_events');
    expect([big.rowCount, big.rows.length, big.truncated]).toEqual([1000, 500, true]);
    await expect(lakehouse.query('DELETE FROM silver_events')).rejects.toThrow('the console is read-only');
    await expect(lakehouse.query('SELECT nope FROM silver_events')).rejects.toThrow('Binder Error: Referenced column "nope" not found in FROM clause!');
    await expect(lakehouse.query('SELECT * FROM silver_events@v5')).rejects.toThrow('has no version 5; the latest is 1');
    // The console's copies are not the tables: after all that, silver is as it was.
    expect((await lakehouse.tables()).find((t) => t.path === 'silver/events')!.version).toBe(1);
  });

  test('console: several statements, paging and sorting any result, downloads, and a catalog of the lakehouse only', async () => {
    const batch = await lakehouse.queries('SELECT 1 AS one; SELECT raw FROM bronze_events@v0 ORDER BY line_no; SELECT count(*) FROM silver_evnts; SELECT 2');
    expect([batch.statements, batch.results.length, batch.error?.index, batch.error?.statement]).toEqual([4, 2, 2, 'SELECT count(*) FROM silver_evnts']);
    expect(batch.error!.message).toContain('Table with name silver_evnts does not exist!\nDid you mean "silver_events"?');
    const [one, ids] = batch.results;
    expect([one!.statement, one!.rows]).toEqual(['SELECT 1 AS one', [['1']]]);
    // a check refuses before anything runs
    const refused = await lakehouse.queries('SELECT 1; DELETE FROM silver_events');
    expect([refused.results.length, refused.error?.index, refused.error?.code]).toEqual([0, 1, 'CONSOLE_REFUSED']);
    expect((await lakehouse.queries('selec 1')).error?.code).toBe('CONSOLE_SYNTAX');

    // every row, a page at a time, in any order
    expect([ids!.rowCount, ids!.rows.length]).toEqual([600, 500]);
    const rest = await lakehouse.consolePage(ids!.id, 500, 1000);
    expect([rest.offset, rest.rowCount, rest.rows.length]).toEqual([500, 600, 100]);
    const all = [...ids!.rows, ...rest.rows].map((r) => r[0] ?? null);
    const sorted = await lakehouse.consolePage(ids!.id, 0, 1000, { column: 0, descending: true });
    const nonNull = all
      .filter((x): x is string => x !== null)
      .sort()
      .reverse();
    expect(sorted.rows.map((r) => r[0])).toEqual([...nonNull, ...all.filter((x) => x === null)]);
    const csv = new TextDecoder().decode((await lakehouse.consoleDownload(ids!.id, 'csv')).bytes).split('\r\n');
    expect([csv[0], csv.length]).toEqual(['raw', 602]);
    expect(csv.slice(1, 4)).toEqual(all.slice(0, 3).map((x) => (x === null ? '' : /[",]/.test(x) ? `"${x.replaceAll('"', '""')}"` : x)));
    const parquet = await lakehouse.consoleDownload(ids!.id, 'parquet', { column: 0, descending: true });
    expect(parquet.fileName).toBe(`result-${ids!.id}.parquet`);
    engine.insertIPC('downloaded', decodeParquet(parquet.bytes));
    expect(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM downloaded')[0]!.n).toBe(600n);

    // the catalog: the lakehouse's tables, nothing internal
    const show = await lakehouse.query('SHOW TABLES');
    const tables = (await lakehouse.tables()).map((t) => t.view);
    expect(show.columns.map((c) => c.name)).toEqual(['name', 'path', 'layer', 'version', 'rows']);
    expect(show.rows.map((r) => r[0])).toEqual(tables);
    const info = await lakehouse.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'silver%' ORDER BY 1");
    expect(info.rows).toEqual([['silver_events'], ['silver_quality'], ['silver_rejects']]);
    const columns = await lakehouse.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'gold_engagement_bands' ORDER BY ordinal_position",
    );
    expect(columns.rows).toEqual([
      ['band', 'string'],
      ['sessions', 'long'],
      ['share', 'double'],
      ['avg_progress_pct', 'double'],
    ]);
  });

  test('console: CSV, JSON and Parquet files become tables to query', async () => {
    const enc = new TextEncoder();
    const csv = await lakehouse.consoleFile('Sales 2024.csv', enc.encode('\uFEFFid,name,price,ok\r\n1,"Smith, ""Jo""",2.5,true\r\n2,,3,false\r\n'));
    expect(csv).toEqual({
      view: 'file_sales_2024',
      file: 'Sales 2024.csv',
      rows: 2,
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'name', type: 'VARCHAR' },
        { name: 'price', type: 'DOUBLE' },
        { name: 'ok', type: 'BOOLEAN' },
      ],
    });
    expect((await lakehouse.query('SELECT name, price * 2 FROM file_sales_2024 ORDER BY id')).rows).toEqual([
      ['Smith, "Jo"', '5.0'],
      [null, '6.0'],
    ]);
    const json = await lakehouse.consoleFile('notes.jsonl', enc.encode('{"a":1,"b":{"c":[1,2]}}\n\n{"a":2,"d":"x"}\n'));
    expect(json.columns).toEqual([
      { name: 'a', type: 'BIGINT' },
      { name: 'b', type: 'VARCHAR' },
      { name: 'd', type: 'VARCHAR' },
    ]);
    expect((await lakehouse.query('SELECT * FROM file_notes ORDER BY a')).rows).toEqual([
      ['1', '{"c":[1,2]}', null],
      ['2', null, 'x'],
    ]);
    const bands = await lakehouse.query('SELECT * FROM gold_engagement_bands');
    const parquet = await lakehouse.consoleDownload(bands.id, 'parquet');
    const file = await lakehouse.consoleFile('bands.parquet', parquet.bytes);
    expect([file.view, file.rows]).toEqual(['file_bands', 4]);
    expect((await lakehouse.query('SELECT band FROM file_bands ORDER BY sessions DESC, band')).rows).toEqual(
      (await lakehouse.query('SELECT band FROM gold_engagement_bands ORDER BY sessions DESC, band')).rows,
    );
    const shown = await lakehouse.query('SHOW TABLES');
    expect(shown.rows.filter((r) => r[2] === 'file').map((r) => [r[0], r[1]])).toEqual([
      ['file_sales_2024', 'Sales 2024.csv'],
      ['file_notes', 'notes.jsonl'],
      ['file_bands', 'bands.parquet'],
    ]);
    await expect(lakehouse.consoleFile('bad.csv', enc.encode('a,b\n1\n'))).rejects.toThrow('bad.csv: line 2 has 1 fields, the header has 2');
    await expect(lakehouse.consoleFile('x.txt', enc.encode('x'))).rejects.toThrow('x.txt: the console queries .csv, .parquet, .json, .jsonl and .ndjson files');
  });

  test('quality, then an upload with bad lines shows up in it', async () => {
    const before = await lakehouse.quality();
    expect(before.rejects).toBe(first.silver[0]!.rejectedRows + second.silver[0]!.rejectedRows);
    expect(before.batches.map((b) => [b.bronzeVersion, b.source, b.records])).toEqual([
      [1, 'generator', 400],
      [0, 'generator', 600],
    ]);
    expect(before.batches[0]!.expectations.map((e) => e.name)).toContain('occurred_at_not_in_future');

    const good =
      '{"event_id":"up-1","event_type":"reader_dropoff","occurred_at":"2025-01-05T10:00:00Z","creator_id":"c1","work_id":"w1","schema_version":1,"reader_id":"r1","progress_pct":40}';
    const file = [
      `\uFEFF${good}`,
      '{"event_id": "up-2", oops',
      '{"event_id":"up-3","event_type":"reader_dropoff","occurred_at":"2025-01-05T10:00:00Z","creator_id":"c1","work_id":"w1","schema_version":1,"reader_id":"r1","progress_pct":140}',
      good,
      '',
    ].join('\r\n');
    const summary = await lakehouse.ingest('C:\\Users\\me\\my events.jsonl', new TextEncoder().encode(file));
    expect(summary.bronze.rows).toBe(4);
    expect(summary.silver[0]!.rejectsByStage).toEqual({ parse: 1, schema: 1, expectation: 0, duplicate: 1 });

    const after = await lakehouse.quality();
    expect(after.batches[0]).toMatchObject({ source: 'upload:my events.jsonl', bronzeVersion: 2, records: 4, stoppedBy: null });
    expect(after.samples.slice(0, 3).map((s) => [s.stage, s.raw, s.reasons])).toEqual([
      ['parse', '{"event_id": "up-2", oops', ['invalid_json']],
      ['schema', expect.stringContaining('"progress_pct":140'), ['maximum:progress_pct']],
      ['duplicate', good, ['duplicate_event_id']],
    ]);
    expect(after.samples[1]!.errors[0]).toMatch(/^\/progress_pct: /);
    await expect(lakehouse.ingest('empty.jsonl', new Uint8Array(0))).rejects.toThrow('empty.jsonl is empty: there are no records to ingest');
  });

  test('a cancelled run leaves every table at its last committed version', async () => {
    const before = await lakehouse.tables();
    const run = lakehouse.run({ events: 50_000, seed: 8, days: 20, invalidRate: 0.01 });
    expect(await lakehouse.running()).toBe(true);
    await expect(lakehouse.run({ events: 10, seed: 1, days: 1, invalidRate: 0 })).rejects.toThrow('a run is already in progress');
    expect(await lakehouse.cancel()).toBe(true);
    await expect(run).rejects.toThrow('the run was cancelled; every table is still at its last committed version');
    expect(await lakehouse.tables()).toEqual(before);
    expect(await lakehouse.cancel()).toBe(false);

    // A file the cancelled run wrote that no commit took in is deleted; what was there before the run stays.
    const storage = new NodeStorage(dir);
    expect(await uncommitted(storage)).toEqual([]);
    await storage.write('gold/dropoff_rate/part-before-the-run.parquet', new Uint8Array(8));
    let cancelled = false;
    const stopped = lakehouse.run({ events: 3_000, seed: 9, days: 20, invalidRate: 0.01 }, () => {
      if (cancelled) return;
      cancelled = true;
      // as a write cut short by the cancel leaves it: written, never committed
      void storage.write('silver/events/part-written-by-the-run.parquet', new Uint8Array(8)).then(() => lakehouse.cancel());
    });
    await expect(stopped).rejects.toThrow('the run was cancelled');
    expect(await uncommitted(storage)).toEqual(['gold/dropoff_rate/part-before-the-run.parquet']);
    await storage.delete('gold/dropoff_rate/part-before-the-run.parquet');
  });

  test('options are checked like the command line checks them', async () => {
    await expect(lakehouse.run({ events: -1, seed: 1, days: 1, invalidRate: 0 })).rejects.toThrow('events must be a whole number ≥ 0, got -1');
    await expect(lakehouse.run({ events: 1, seed: 1, days: 0, invalidRate: 0 })).rejects.toThrow('days must be a whole number ≥ 1, got 0');
    await expect(lakehouse.run({ events: 1, seed: 1, days: 1, invalidRate: 2 })).rejects.toThrow('invalid rate must be a number from 0 to 1, got 2');
  });

  test('reset deletes every table', async () => {
    await lakehouse.reset();
    expect(await lakehouse.tables()).toEqual([]);
    await expect(lakehouse.rows('silver/events')).rejects.toThrow('table silver/events does not exist yet: run the pipeline first');
    expect((await lakehouse.quality()).rejects).toBe(0);
  });
});

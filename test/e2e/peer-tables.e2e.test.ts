import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { duckdbType } from '../../src/delta/schema.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { quoteIdent } from '../../src/engine/duckdb.ts';
import type { Engine } from '../../src/engine/types.ts';
import { decodeParquet } from '../../src/parquet/codec.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { testEngine } from '../helpers/engine.ts';
import { DIST, grid, ROOT, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Issue 14 item 6: tables written fresh by Spark 4.2 / delta-spark 4.4 and by delta-rs 1.6.6
 * (interop/fixtures/peer_tables.py, into test/fixtures/delta/<case>/), zipped and opened in the
 * Explorer: the history lists every commit with its operation, and the rows at two versions (time
 * travel) are Spark's rows of those versions (expected-versions/vN.parquet, Spark's read through Arrow).
 */
const FIXTURES = join(ROOT, 'test', 'fixtures', 'delta');

interface PeerCase {
  name: string;
  writer: string;
  feature: string;
  table: string;
  latest: number;
  versions: { version: number; rows: number; operation: string; expected?: string }[];
}
const cases = (JSON.parse(await readFile(join(FIXTURES, 'peer-cases.json'), 'utf8')) as { cases: PeerCase[] }).cases;

const sortRows = (rows: (string | null)[][]) => rows.map((r) => JSON.stringify(r)).sort();
let engine: Engine;

/** Spark's rows of a case at a version, each value typed as the table's Delta schema says and printed by DuckDB. */
async function sparkRows(c: PeerCase, version: number): Promise<string[]> {
  const v = c.versions.find((x) => x.version === version)!;
  const snap = await loadSnapshot(new NodeStorage(join(FIXTURES, c.table)), '', version);
  engine.insertIPC('spark_rows', decodeParquet(await readFile(join(FIXTURES, c.name, v.expected!))));
  try {
    const cols = snap.schema.fields.map((f) => `CAST(${quoteIdent(f.name)} AS ${duckdbType(f.type)})::VARCHAR AS ${quoteIdent(f.name)}`);
    const rows = engine.rows<Record<string, string | null>>(`SELECT ${cols.join(', ')} FROM spark_rows`);
    expect(rows.length).toBe(v.rows);
    return sortRows(rows.map((r) => snap.schema.fields.map((f) => r[f.name] ?? null)));
  } finally {
    engine.run('DROP TABLE spark_rows');
  }
}

describe('tables written by Spark and delta-rs, opened from a .zip', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let dir: string;
  let page: Page;
  beforeAll(async () => {
    [server, session, dir, engine] = await Promise.all([serveStatic(DIST), launchBrowser(), mkdtemp(join(tmpdir(), 'peer-tables-')), testEngine()]);
    page = session.page;
    await page.goto(`${server.url}#explorer`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the fixtures are the two peers' tables", () => {
    expect(cases.map((c) => [c.name, c.writer])).toEqual([
      ['spark-partitions', 'Spark 4.2.0 / delta-spark 4.4.0'],
      ['delta-rs-checkpoint-classic', 'delta-rs (deltalake 1.6.6)'],
    ]);
  });

  for (const c of cases) {
    test(`${c.name}: history, and Spark's rows at two versions`, async () => {
      const file = join(dir, `${c.name}.zip`);
      execFileSync('zip', ['-r', '-q', file, 'delta'], { cwd: join(FIXTURES, c.name) });
      const path = `opened/${c.name.replace(/[^a-z0-9_]+/g, '_')}`;
      const region = (version: number) => page.getByRole('region', { name: `${path} at version ${version}`, exact: true });

      await page.getByLabel('Open a .zip of a Delta table').setInputFiles(file);
      await expect.poll(() => page.getByTestId('opened-table').innerText(), { timeout: 60_000 }).toContain(path);
      await region(c.latest).waitFor({ timeout: 60_000 });

      // History: one line per commit, newest first, with the writer's operation.
      const history = page.locator('table.history tbody tr');
      await expect.poll(() => history.count()).toBe(c.versions.length);
      const lines = await history.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent!.trim())));
      expect(lines.map(([v, , op]) => [Number(v), op])).toEqual([...c.versions].reverse().map((v) => [v.version, v.operation]));

      // Time travel to each checked version: the page's rows are Spark's.
      const checked = c.versions.filter((v) => v.expected);
      expect(checked.length).toBe(2);
      for (const v of checked) {
        await page.getByLabel('Version', { exact: true }).selectOption(String(v.version));
        await region(v.version).waitFor({ timeout: 60_000 });
        await expect
          .poll(() => page.getByTestId('row-count').innerText(), { timeout: 30_000 })
          .toBe(`${v.rows} rows at version ${v.version}; showing 1–${v.rows}.`);
        expect(sortRows(await grid(region(v.version))), `${c.name} v${v.version}`).toEqual(await sparkRows(c, v.version));
      }
    });
  }

  test('no errors in the page', () => {
    expect(session.errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
  });
});

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendCommand } from '../src/cli/append.ts';
import { optimizeCommand, vacuumCommand } from '../src/cli/maintenance.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { writeTable } from '../src/delta/writer.ts';
import type { Engine } from '../src/engine/types.ts';
import { encodeParquet } from '../src/parquet/codec.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { testEngine } from './helpers/engine.ts';

let engine: Engine;
const dirs: string[] = [];
beforeAll(async () => {
  engine = await testEngine();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-append-'));
  dirs.push(dir);
  return dir;
}

/** A partitioned table of ours with one row, and a folder for input files. */
async function table(): Promise<{ dir: string; inputs: string }> {
  const root = temp();
  const dir = join(root, 'sales');
  await writeTable(
    new NodeStorage(dir),
    '',
    engine.query(`SELECT 1::BIGINT AS id, 'ann' AS name, TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS ts,
    DATE '2024-01-02' AS day, 9.99::DECIMAL(10,2) AS amount`),
    { mode: 'append', partitionBy: ['day'] },
  );
  return { dir, inputs: root };
}

async function append(...argv: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  await appendCommand(argv, engine, out);
  return text;
}

function rows(dir: string): Promise<Record<string, unknown>[]> {
  const storage = new NodeStorage(dir);
  return loadSnapshot(storage, '').then(async (snap) => {
    await scanIntoEngine(engine, storage, snap, 'back');
    return engine.rows(
      `SELECT id, name, strftime(ts::TIMESTAMP, '%Y-%m-%d %H:%M:%S.%f') AS ts, day::VARCHAR AS day, amount::VARCHAR AS amount FROM back ORDER BY id`,
    );
  });
}

describe('cli append', () => {
  it('adds the rows of a Parquet file, widening narrower types, one file per partition, as one commit', async () => {
    const { dir, inputs } = await table();
    const file = join(inputs, 'more.parquet');
    writeFileSync(
      file,
      encodeParquet(
        engine.queryIPC(`SELECT * FROM (VALUES
      (3::INTEGER, DATE '2024-01-03', 'cy', TIMESTAMPTZ '2024-01-03 00:00:00+00', 1.5::DECIMAL(8,2)),
      (2, DATE '2024-01-02', NULL, NULL, NULL),
      (4, DATE '2024-01-03', 'di', TIMESTAMPTZ '2024-01-03 12:00:00.000001+00', -2.25)) v("ID", day, name, ts, amount)`),
      ),
    );
    expect(await append(dir, file)).toBe(`version 1: appended 3 rows in 2 files to ${dir}\n`);
    expect(await rows(dir)).toEqual([
      { id: 1n, name: 'ann', ts: '2024-01-02 03:04:05.123456', day: '2024-01-02', amount: '9.99' },
      { id: 2n, name: null, ts: null, day: '2024-01-02', amount: null },
      { id: 3n, name: 'cy', ts: '2024-01-03 00:00:00.000000', day: '2024-01-03', amount: '1.50' },
      { id: 4n, name: 'di', ts: '2024-01-03 12:00:00.000001', day: '2024-01-03', amount: '-2.25' },
    ]);
    expect(readdirSync(dir).sort()).toEqual(['_delta_log', 'day=2024-01-02', 'day=2024-01-03']);
  });

  it('adds JSON lines, each value read strictly by its column type', async () => {
    const { dir, inputs } = await table();
    const file = join(inputs, 'more.jsonl');
    writeFileSync(
      file,
      [
        '{"id": 5, "name": "ed", "ts": "2024-02-01T10:00:00.5+01:00", "day": "2024-02-01", "amount": "12.30"}',
        '',
        '{"id": 6, "Day": "2024-02-01", "amount": 0.1}',
      ].join('\r\n'),
    );
    expect(await append(dir, file)).toBe(`version 1: appended 2 rows in 1 file to ${dir}\n`);
    expect((await rows(dir)).slice(1)).toEqual([
      { id: 5n, name: 'ed', ts: '2024-02-01 09:00:00.500000', day: '2024-02-01', amount: '12.30' },
      { id: 6n, name: null, ts: null, day: '2024-02-01', amount: '0.10' },
    ]);
  });

  it.each([
    ['more.jsonl', '{"id": 1, "colour": "red"}', 'more.jsonl line 1 has the key "colour", which is not a column of the table (id, name, ts, day, amount)'],
    ['more.jsonl', '{"id": "7"}', 'more.jsonl line 1: column id is long, and "7" is not a whole number this reader takes exactly'],
    [
      'more.jsonl',
      '{"id": 7, "ts": "2024-01-01T00:00:00"}',
      'more.jsonl line 1: column ts is timestamp, and "2024-01-01T00:00:00" is not a timestamp with a time zone offset (e.g. 2024-01-31T12:00:00Z)',
    ],
    [
      'more.jsonl',
      '{"id": 7, "amount": 1.234}',
      'more.jsonl line 1: column amount is decimal(10,2), and 1.234 is not a number with at most 8 integer and 2 fraction digits',
    ],
    ['more.jsonl', '{"id": 7}\nnot json', 'more.jsonl line 2 is not valid JSON (Unexpected token \'o\', "not json" is not valid JSON)'],
    ['more.csv', 'id\n1', 'more.csv is neither Parquet (.parquet) nor JSON lines (.jsonl, .ndjson): say which by its extension'],
  ])('refuses %s holding %j', async (name, content, message) => {
    const { dir, inputs } = await table();
    const file = join(inputs, name);
    writeFileSync(file, content);
    await expect(append(dir, file)).rejects.toThrow(message.replace(/^more/, join(inputs, 'more')));
    expect((await loadSnapshot(new NodeStorage(dir), '')).version).toBe(0);
  });

  it("refuses Parquet columns whose type would not widen to the table's", async () => {
    const { dir, inputs } = await table();
    const file = join(inputs, 'more.parquet');
    writeFileSync(file, encodeParquet(engine.queryIPC(`SELECT 1.5::DOUBLE AS id, DATE '2024-01-01' AS day`)));
    await expect(append(dir, file)).rejects.toThrow(`column id of ${file} is double, and the table's column id is long`);
  });

  it('refuses a folder that is not a Delta table, and creates none', async () => {
    const root = temp();
    writeFileSync(join(root, 'x.jsonl'), '{"a": 1}');
    await expect(append(join(root, 'nothing'), join(root, 'x.jsonl'))).rejects.toThrow(
      `${join(root, 'nothing')} is not a Delta table (it has no _delta_log commits)`,
    );
    expect(readdirSync(root)).toEqual(['x.jsonl']);
  });

  it('checks NOT NULL on the rows, a column the file lacks included', async () => {
    const root = temp();
    const dir = join(root, 't');
    const storage = new NodeStorage(dir);
    await writeTable(storage, '', engine.query(`SELECT 1::BIGINT AS id, 'a' AS name`), { mode: 'append' });
    // Make id NOT NULL, as Spark's CREATE TABLE (id BIGINT NOT NULL, ...) would have.
    const snap = await loadSnapshot(storage, '');
    const schema = JSON.parse(snap.metadata.schemaString) as { fields: { nullable: boolean }[] };
    schema.fields[0]!.nullable = false;
    writeFileSync(
      join(dir, '_delta_log/00000000000000000001.json'),
      `${JSON.stringify({ metaData: { ...snap.metadata, schemaString: JSON.stringify(schema) } })}\n`,
    );
    writeFileSync(join(root, 'x.jsonl'), '{"name": "b"}\n{"name": "c"}\n');
    await expect(append(dir, join(root, 'x.jsonl'))).rejects.toThrow(
      `delta: cannot append to ${dir} at version 1: 2 of 2 rows violate the NOT NULL constraint of column id, so nothing was written`,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
  });
});

describe('cli optimize and vacuum', () => {
  it('check every table of a lakehouse first, and touch none when one is refused', async () => {
    const root = temp();
    for (const name of ['a', 'b']) {
      for (let i = 0; i < 2; i++) await writeTable(new NodeStorage(join(root, name)), '', engine.query(`SELECT ${i}::BIGINT AS id`), { mode: 'append' });
    }
    // Table b gains a writer feature from the future, as a newer engine would add it.
    writeFileSync(
      join(root, 'b/_delta_log/00000000000000000002.json'),
      `${JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['futureFeature'] } })}\n`,
    );
    const listing = () => ['a', 'b'].map((t) => readdirSync(join(root, t)).sort());
    const before = listing();
    const sink = new PassThrough();
    const reason = 'at version 2: the table needs the writer feature "futureFeature", which this writer does not implement';
    await expect(optimizeCommand([root], sink)).rejects.toThrow(`delta: cannot OPTIMIZE ${join(root, 'b')} ${reason}`);
    await expect(vacuumCommand([root, '--retention-hours', '0', '--force'], sink)).rejects.toThrow(`delta: cannot VACUUM ${join(root, 'b')} ${reason}`);
    expect(listing()).toEqual(before);
    expect(readdirSync(join(root, 'a/_delta_log'))).toEqual(['00000000000000000000.json', '00000000000000000001.json']);
  });
});

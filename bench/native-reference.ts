/**
 * The reference: the work of one pipeline run done by native DuckDB alone (`@duckdb/node-api`,
 * DuckDB 1.4.3 like DuckDB-WASM), the physical limit this machine can show. The same events (read
 * from a JSONL file, written once), the same contract (contracts/event_schema.json, checked in SQL
 * with the json extension, built into native DuckDB), the same expectations and the same
 * sql/gold models; bronze, silver/events, silver/rejects, silver/quality and the six gold tables
 * written as ZSTD Parquet files. No Delta log (a few small JSON files).
 *
 *   tsx bench/native-reference.ts --file events.jsonl --out DIR [--threads N]
 *
 * prints one JSON line: seconds per stage, rows, Parquet bytes, peak RSS.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseExpectations } from '../src/pipeline/expectations.ts';
import { loadSql } from '../src/pipeline/sql-node.ts';

const ROOT = join(import.meta.dirname, '..');

interface Property {
  type: 'string' | 'integer' | 'number' | 'object';
  enum?: string[];
  const?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

interface Schema {
  properties: Record<string, Property>;
  required: string[];
  allOf: { if: { properties: { event_type: { const: string } } }; then: { required: string[]; properties: Record<string, false> } }[];
}

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** SQL for the reasons a parsed line breaks the contract: a list of rule names, as contract.ts names them. */
function contractSql(schema: Schema): { fields: string[]; reasons: string } {
  const fields = Object.keys(schema.properties);
  const t = (f: string) => `"t_${f}"`;
  const v = (f: string) => `"v_${f}"`;
  const checks: string[] = [];
  for (const f of schema.required) checks.push(`CASE WHEN ${t(f)} IS NULL THEN 'required:${f}' END`);
  for (const rule of schema.allOf) {
    const type = rule.if.properties.event_type.const;
    for (const f of rule.then.required) checks.push(`CASE WHEN ${v('event_type')} = ${lit(type)} AND ${t(f)} IS NULL THEN 'required:${f}' END`);
    for (const f of Object.keys(rule.then.properties))
      checks.push(`CASE WHEN ${v('event_type')} = ${lit(type)} AND ${t(f)} IS NOT NULL THEN 'forbidden:${f}' END`);
  }
  for (const [f, p] of Object.entries(schema.properties)) {
    const typeOk = {
      string: `${t(f)} = 'VARCHAR'`,
      integer: `(${t(f)} IN ('UBIGINT', 'BIGINT') OR (${t(f)} = 'DOUBLE' AND ${v(f)}::DOUBLE = floor(${v(f)}::DOUBLE)))`,
      number: `${t(f)} IN ('UBIGINT', 'BIGINT', 'DOUBLE')`,
      object: `${t(f)} = 'OBJECT'`,
    }[p.type];
    checks.push(`CASE WHEN ${t(f)} IS NOT NULL AND NOT ${typeOk} THEN 'type:${f}' END`);
    const when = (cond: string, reason: string) => checks.push(`CASE WHEN ${t(f)} IS NOT NULL AND ${typeOk} AND ${cond} THEN '${reason}:${f}' END`);
    if (p.enum) when(`${v(f)} NOT IN (${p.enum.map(lit).join(', ')})`, 'enum');
    if (p.const !== undefined) when(`${v(f)}::DOUBLE <> ${p.const}`, 'const');
    if (p.minimum !== undefined) when(`${v(f)}::DOUBLE < ${p.minimum}`, 'minimum');
    if (p.maximum !== undefined) when(`${v(f)}::DOUBLE > ${p.maximum}`, 'maximum');
    if (p.minLength !== undefined) when(`length(${v(f)}) < ${p.minLength}`, 'minLength');
    if (p.maxLength !== undefined) when(`length(${v(f)}) > ${p.maxLength}`, 'maxLength');
    if (p.pattern) when(`(NOT regexp_full_match(${v(f)}, ${lit(p.pattern)}) OR try_cast(${v(f)} AS TIMESTAMPTZ) IS NULL)`, 'format');
  }
  checks.push(`CASE WHEN len(list_filter(keys, k -> k NOT IN (${fields.map(lit).join(', ')}))) > 0 THEN 'additionalProperties' END`);
  return { fields, reasons: `list_filter([${checks.join(',\n      ')}], x -> x IS NOT NULL)` };
}

async function timed(label: string, seconds: Record<string, number>, fn: () => Promise<void>): Promise<void> {
  const t = performance.now();
  await fn();
  seconds[label] = (performance.now() - t) / 1000;
}

export async function nativeReference(file: string, out: string, threads?: number): Promise<Record<string, unknown>> {
  rmSync(out, { recursive: true, force: true });
  for (const d of ['bronze', 'silver/events', 'silver/rejects', 'silver/quality', 'gold']) mkdirSync(join(out, d), { recursive: true });
  const schema = JSON.parse(readFileSync(join(ROOT, 'contracts/event_schema.json'), 'utf8')) as Schema;
  const expectations = parseExpectations(readFileSync(join(ROOT, 'contracts/expectations.yml'), 'utf8'));
  const gold = loadSql('gold');
  const db = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
  const c0: DuckDBConnection = await db.connect();
  const c = process.env.REF_TRACE
    ? ({
        run: async (sql: string) => {
          const t = performance.now();
          const r = await c0.run(sql);
          console.error(((performance.now() - t) / 1000).toFixed(3), sql.replace(/\s+/g, ' ').slice(0, 80));
          return r;
        },
        runAndReadAll: (sql: string) => c0.runAndReadAll(sql),
        closeSync: () => c0.closeSync(),
      } as unknown as DuckDBConnection)
    : c0;
  await c.run("SET TimeZone = 'UTC'");
  const usedThreads = Number((await c.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjectsJS()[0]!.t);
  const parquet = (table: string, path: string, order = '') =>
    `COPY (SELECT * FROM ${table} ${order}) TO ${lit(join(out, path))} (FORMAT parquet, COMPRESSION zstd)`;
  const seconds: Record<string, number> = {};
  const started = performance.now();

  const batch = lit('batch-native-reference');
  await timed('bronze', seconds, async () => {
    // Insertion order is kept: line_no is rowid + 1 (no window over the whole file).
    await c.run(`CREATE TABLE lines AS
      SELECT raw FROM read_csv(${lit(file)}, columns = {'raw': 'VARCHAR'}, header = false, delim = E'\\x1f', quote = '', escape = '', auto_detect = false, new_line = '\\n')`);
    await c.run(
      `CREATE VIEW bronze AS SELECT raw, ${batch} AS batch_id, 'generator' AS source, rowid + 1 AS line_no, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS ingested_at FROM lines`,
    );
    await c.run(parquet('bronze', 'bronze/part-00000.zstd.parquet'));
  });

  const { fields, reasons } = contractSql(schema);
  const paths = `[${fields.map((f) => lit(`$.${f}`)).join(', ')}]`;
  const typed = (f: string, type: string) => `try_cast("v_${f}" AS ${type}) AS ${f}`;
  const cols =
    'event_id, event_type, occurred_at, creator_id, work_id, stage, words, duration_minutes, words_changed, revision_no, reader_id, engagement_seconds, progress_pct, attributes, batch_id, ingested_at, event_date';
  await timed('silver', seconds, async () => {
    // The types and the text of every field in one JSON parse each (list-of-paths forms), then the contract.
    await c.run(`CREATE TABLE checked AS
      WITH objects AS (
        SELECT line_no, ingested_at, raw FROM bronze WHERE json_valid(raw) AND json_type(raw) = 'OBJECT'
      ), lists AS (
        SELECT line_no, ingested_at, json_keys(raw) AS keys, json_type(raw, ${paths}) AS t, json_extract_string(raw, ${paths}) AS v,
               json_extract(raw, '$.attributes')::VARCHAR AS attributes
        FROM objects
      ), fields AS (
        SELECT line_no, ingested_at, keys, attributes,
               ${fields.map((f, i) => `t[${i + 1}] AS "t_${f}", v[${i + 1}] AS "v_${f}"`).join(', ')}
        FROM lists
      )
      SELECT line_no, ingested_at, ${reasons} AS reasons, "v_event_id" AS event_id_text,
             ${typed('event_id', 'VARCHAR')}, ${typed('event_type', 'VARCHAR')}, ${typed('occurred_at', 'TIMESTAMPTZ')},
             ${typed('creator_id', 'VARCHAR')}, ${typed('work_id', 'VARCHAR')}, ${typed('stage', 'VARCHAR')}, ${typed('words', 'BIGINT')},
             ${typed('duration_minutes', 'DOUBLE')}, ${typed('words_changed', 'BIGINT')}, ${typed('revision_no', 'BIGINT')},
             ${typed('reader_id', 'VARCHAR')}, ${typed('engagement_seconds', 'DOUBLE')}, ${typed('progress_pct', 'DOUBLE')}, attributes
      FROM fields`);
    await c.run(`CREATE VIEW typed AS
      SELECT * EXCLUDE (reasons, event_id_text), ${batch} AS batch_id, occurred_at::TIMESTAMP::DATE AS event_date FROM checked WHERE len(reasons) = 0`);
    const flags = expectations.map((e, i) => `coalesce((${e.expr}), false) AS __exp_${i}`);
    await c.run(`CREATE TABLE flags AS SELECT line_no, event_id, ${flags.join(', ')} FROM typed`);
    const drops = expectations.map((e, i) => ({ e, i })).filter(({ e }) => e.action === 'drop');
    const dropped = drops.length ? drops.map(({ i }) => `NOT __exp_${i}`).join(' OR ') : 'false';
    await c.run(`CREATE TABLE silver_events (
      event_id VARCHAR, event_type VARCHAR, occurred_at TIMESTAMPTZ, creator_id VARCHAR, work_id VARCHAR, stage VARCHAR, words BIGINT,
      duration_minutes DOUBLE, words_changed BIGINT, revision_no BIGINT, reader_id VARCHAR, engagement_seconds DOUBLE, progress_pct DOUBLE,
      attributes VARCHAR, batch_id VARCHAR, ingested_at TIMESTAMPTZ, event_date DATE)`);
    // Dedup on (line_no, event_id) only: against silver's other batches, then within the batch.
    await c.run(`CREATE TABLE late AS
      WITH kept AS (SELECT line_no, event_id FROM flags WHERE NOT (${dropped}))
      SELECT line_no, event_id, 'expectation' AS stage FROM flags WHERE ${dropped}
      UNION ALL
      SELECT line_no, event_id, 'duplicate' FROM (
        SELECT k.line_no, k.event_id, p.batch_id AS prior_batch, row_number() OVER (PARTITION BY k.event_id ORDER BY k.line_no) AS occurrence
        FROM kept k LEFT JOIN (SELECT event_id, batch_id FROM silver_events WHERE batch_id <> ${batch}) p USING (event_id)
        WHERE k.event_id IN (SELECT event_id FROM kept GROUP BY event_id HAVING count(*) > 1) OR p.batch_id IS NOT NULL)
      WHERE prior_batch IS NOT NULL OR occurrence > 1`);
    await c.run(`INSERT INTO silver_events SELECT ${cols} FROM typed WHERE line_no NOT IN (SELECT line_no FROM late) ORDER BY occurred_at, event_id`);
    await c.run(`CREATE TABLE rejects AS
      SELECT line_no, NULL::VARCHAR AS event_id, 'parse' AS stage, ['invalid_json'] AS reasons FROM bronze WHERE NOT json_valid(raw)
      UNION ALL SELECT line_no, NULL, 'schema', ['not_object'] FROM bronze WHERE json_valid(raw) AND json_type(raw) <> 'OBJECT'
      UNION ALL SELECT line_no, event_id_text, 'schema', reasons FROM checked WHERE len(reasons) > 0
      UNION ALL SELECT line_no, event_id, stage, [stage] FROM late`);
    await c.run(
      `CREATE TABLE quality AS ${expectations
        .map(
          (e, i) => `SELECT ${batch} AS batch_id, ${lit(e.name)} AS expectation, ${lit(e.action)} AS action,
      count(*) FILTER (WHERE __exp_${i}) AS passed, count(*) FILTER (WHERE NOT __exp_${i}) AS failed FROM flags`,
        )
        .join(' UNION ALL ')}`,
    );
    await c.run(parquet('silver_events', 'silver/events/part-00000.zstd.parquet'));
    await c.run(`COPY (SELECT b.raw, r.event_id, r.stage, r.reasons, b.batch_id, b.ingested_at, now() AS rejected_at FROM rejects r JOIN bronze b USING (line_no) ORDER BY line_no)
      TO ${lit(join(out, 'silver/rejects/part-00000.zstd.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
    await c.run(parquet('quality', 'silver/quality/part-00000.zstd.parquet'));
  });

  await timed('gold', seconds, async () => {
    for (const [name, sql] of Object.entries(gold)) {
      const body = sql.replace(/;\s*$/, '');
      await c.run(`COPY (${body}) TO ${lit(join(out, 'gold', `${name}.zstd.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
    }
  });
  seconds.total = (performance.now() - started) / 1000;
  const count = async (t: string) => Number((await c.runAndReadAll(`SELECT count(*) AS n FROM ${t}`)).getRowObjectsJS()[0]!.n);
  const rows = { bronze: await count('lines'), silver: await count('silver_events'), rejects: await count('rejects') };
  c.closeSync();
  db.closeSync();
  return {
    mode: 'native-reference',
    events: rows.bronze,
    threads: usedThreads,
    seconds,
    rows,
    parquetBytes: parquetBytes(out),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** Bytes of every .parquet file below `dir`. */
export function parquetBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet') && !entry.name.includes('.checkpoint.')) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const file = arg('file');
  const out = arg('out');
  if (!file || !out) throw new Error('usage: tsx bench/native-reference.ts --file events.jsonl --out DIR [--threads N]');
  const threads = arg('threads');
  console.log(JSON.stringify(await nativeReference(file, out, threads ? Number(threads) : undefined)));
}

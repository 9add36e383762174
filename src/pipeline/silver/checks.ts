import type { Vector } from 'apache-arrow';
import { reasonOf } from '../../delta/errors.ts';
import { quoteString } from '../../engine/duckdb.ts';
import { bigintAt } from '../columns.ts';
import type { PipelineContext } from '../context.ts';
import type { Expectation } from '../expectations.ts';
import { EVENT_FIELDS, SQL_TYPES, silverColumns, silverFields, type RejectStage } from '../schema.ts';
import type { TypedRows } from '../typed-rows.ts';
import { scratchOf } from '../scratch.ts';

/**
 * The checks of a batch that run in the engine: the expectations of contracts/expectations.yml,
 * evaluated as SQL over the typed rows, and dedup against silver and within the batch. The SQL is
 * in sql/silver/ (batch_checked.sql, late_rejects.sql); what depends on the expectations or the
 * schema is filled in here.
 */

export interface QualityRow {
  expectation: string;
  action: Expectation['action'];
  passed: number;
  failed: number;
  /** its boolean column in batch_checked */
  column: string;
}

export interface LateReject {
  /** the row's index in the batch's TypedRows */
  row: number;
  line: number;
  eventId: string | null;
  stage: RejectStage;
  reasons: string[];
  errors: string[];
  ingestedAt: bigint;
}

/** The SQL files of sql/silver/ that silver runs. */
export const SILVER_SQL = ['batch_checked', 'late_rejects'] as const;
export type SilverSqlName = (typeof SILVER_SQL)[number];

/**
 * The text of sql/silver/<name>.sql with each `{{key}}` replaced by `values[key]`. A file that is
 * missing, or a placeholder without a value or a value without a placeholder, is an error.
 */
export function silverSqlText(sql: Readonly<Record<string, string>>, name: SilverSqlName, values: Record<string, string>): string {
  const text = sql[name];
  if (typeof text !== 'string') throw new Error(`silver: SQL file sql/silver/${name}.sql is missing (have: ${Object.keys(sql).join(', ') || 'none'})`);
  const used = new Set<string>();
  const out = text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`silver: sql/silver/${name}.sql has a placeholder {{${key}}} that nothing fills`);
    used.add(key);
    return value;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0)
    throw new Error(`silver: sql/silver/${name}.sql lacks the placeholder${unused.length === 1 ? '' : 's'} ${unused.map((k) => `{{${k}}}`).join(', ')}`);
  return out;
}

/** Whether SQL text `expr` names column `name` (case-insensitively, as DuckDB resolves names). */
export function mentions(expr: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}($|[^A-Za-z0-9_])`, 'i').test(expr);
}

/** Every column an expectation may name, typed as in silver/events (plus line_no and raw). */
export const EXPECTATION_COLUMNS: readonly [string, string][] = [
  ...silverColumns(EVENT_FIELDS).map((c): [string, string] => [c.name, SQL_TYPES[c.type]]),
  ['line_no', 'BIGINT'],
  ['raw', 'VARCHAR'],
];

/** Whole numbers reach the engine as DOUBLE (TypedRows.checkTable); the checks see them as in silver. */
const WHOLE_NUMBERS = silverFields(EVENT_FIELDS)
  .filter((f) => f.column === 'long')
  .map((f) => `${f.name}::BIGINT AS ${f.name}`)
  .join(', ');

/**
 * Load the typed rows into DuckDB as `batch_typed` (only the columns the expectations name, plus
 * those dedup needs) and build `batch_checked` (sql/silver/batch_checked.sql). Returns the pass
 * and fail counts per expectation.
 */
export function evaluateExpectations(ctx: PipelineContext, typed: TypedRows, batchId: string): QualityRow[] {
  const { engine, expectations } = ctx;
  const empty = `(SELECT ${EXPECTATION_COLUMNS.map(([name, type]) => `NULL::${type} AS ${name}`).join(', ')})`;
  for (const e of expectations) {
    try {
      engine.run(`SELECT (${e.expr}) FROM ${empty} LIMIT 0`); // a typo fails here, named, not mid-batch
    } catch (err) {
      throw new Error(`expectation ${e.name} is not a valid SQL expression over silver rows: ${reasonOf(err)}`, { cause: err });
    }
  }
  const named = EXPECTATION_COLUMNS.map(([name]) => name).filter((name) => expectations.some((e) => mentions(e.expr, name)));
  engine.insertIPC('batch_typed', scratchOf(engine).write(typed.checkTable(named)));
  const flags = expectations.map((e, i) => `, coalesce((${e.expr}), false) AS "__exp_${i}"`).join('');
  engine.run(silverSqlText(ctx.silverSql, 'batch_checked', { flags, whole_numbers: WHOLE_NUMBERS, batch_id: quoteString(batchId) }));
  if (expectations.length === 0) return [];
  const counts = engine.rows<Record<string, bigint>>(
    `SELECT ${expectations.map((_, i) => `count(*) FILTER (WHERE "__exp_${i}") AS p${i}, count(*) FILTER (WHERE NOT "__exp_${i}") AS f${i}`).join(', ')} FROM batch_checked`,
  )[0]!;
  return expectations.map((e, i) => ({
    expectation: e.name,
    action: e.action,
    passed: Number(counts[`p${i}`]),
    failed: Number(counts[`f${i}`]),
    column: `__exp_${i}`,
  }));
}

/** The line number of the first row of `batch_checked` that broke the expectation of `column`. */
export function firstViolation(ctx: PipelineContext, column: string): number {
  return Number(ctx.engine.rows<{ line_no: bigint }>(`SELECT line_no FROM batch_checked WHERE NOT "${column}" ORDER BY line_no LIMIT 1`)[0]!.line_no);
}

/**
 * Rows of `batch_checked` that broke a `drop` rule or repeat an event_id (of silver's other batches,
 * or of an earlier line of this batch), in line order (sql/silver/late_rejects.sql).
 */
export function lateRejects(ctx: PipelineContext, batchId: string): LateReject[] {
  const drops = ctx.expectations.map((e, i) => ({ e, col: `__exp_${i}` })).filter((x) => x.e.action === 'drop');
  const reasons = drops.length
    ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(d.e.name)} END`).join(', ')}], x -> x IS NOT NULL)`
    : '[]::VARCHAR[]';
  const errors = drops.length
    ? `list_filter([${drops.map((d) => `CASE WHEN NOT "${d.col}" THEN ${quoteString(`expectation ${d.e.name} failed: requires ${d.e.expr}`)} || ' (event ' || event_id || ', occurred_at ' || strftime(occurred_at::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') || ')' END`).join(', ')}], x -> x IS NOT NULL)`
    : '[]::VARCHAR[]';
  const dropped = drops.length ? drops.map((d) => `NOT "${d.col}"`).join(' OR ') : 'false';
  const table = ctx.engine.query(silverSqlText(ctx.silverSql, 'late_rejects', { dropped, reasons, errors, batch_id: quoteString(batchId) }));
  const col = (name: string): Vector => table.getChild(name)!;
  const [row, line, eventId, stage, reasonList, errorList, ingested] = ['row_idx', 'line_no', 'event_id', 'stage', 'reasons', 'errors', 'ingested_at'].map(
    col,
  ) as Vector[];
  const out: LateReject[] = [];
  for (let i = 0; i < table.numRows; i++) {
    out.push({
      row: row!.get(i) as number,
      line: Number(bigintAt(line!, i)),
      eventId: eventId!.get(i) as string | null,
      stage: stage!.get(i) as RejectStage,
      reasons: [...(reasonList!.get(i) as Iterable<string>)],
      errors: [...(errorList!.get(i) as Iterable<string>)],
      ingestedAt: bigintAt(ingested!, i),
    });
  }
  return out;
}

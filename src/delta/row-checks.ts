import { DeltaError } from './errors.ts';
import { tableToIPC, type Table } from 'apache-arrow';
import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { translateCondition, UntranslatableError } from './check-expressions.ts';
import { duckdbType, type DeltaField, type DeltaSchema, type DeltaType } from './schema.ts';

/** A condition every row written to a table must meet: a CHECK constraint, a column invariant, a NOT NULL column. */
export interface RowCheck {
  /** the writer feature that asks for it */
  feature: 'checkConstraints' | 'invariants';
  /** what it is, for messages: `the CHECK constraint "positive" (id > 0)` */
  label: string;
  /** DuckDB SQL that is TRUE for a row that meets it (FALSE or NULL: the row violates it) */
  sql: string;
}

/** A check of the table this writer cannot evaluate: the write is refused. */
export interface UncheckableRule {
  feature: RowCheck['feature'];
  label: string;
  reason: string;
}

export class ConstraintViolationError extends DeltaError {
  static override readonly code = 'CONSTRAINT_VIOLATION';
  override name = 'ConstraintViolationError';
  readonly check: RowCheck;
  constructor(table: string, version: number, verb: string, violations: number, rows: number, check: RowCheck) {
    super(
      `cannot ${verb} ${table} at version ${version}: ${violations} of ${rows} row${rows === 1 ? '' : 's'} ` +
        `${violations === 1 ? 'violates' : 'violate'} ${check.label}, so nothing was written`,
    );
    this.check = check;
  }
}

/**
 * The checks rows written to a table with `schema` and `configuration` must pass: CHECK
 * constraints (`delta.constraints.*`), column invariants (`delta.invariants` in a field's
 * metadata) and non-nullable columns and struct fields. Conditions outside the Spark SQL this
 * writer can translate are returned as uncheckable.
 */
export function rowChecksOf(schema: DeltaSchema, configuration: Record<string, string>): { checks: RowCheck[]; uncheckable: UncheckableRule[] } {
  const checks: RowCheck[] = [];
  const uncheckable: UncheckableRule[] = [];
  const add = (feature: RowCheck['feature'], label: string, expression: string): void => {
    try {
      checks.push({ feature, label, sql: translateCondition(expression, schema) });
    } catch (err) {
      if (!(err instanceof UntranslatableError)) throw err;
      uncheckable.push({ feature, label, reason: err.message });
    }
  };
  // NOT NULL first: a missing value is named as such rather than as a condition it fails.
  notNullChecks(schema.fields, undefined, [], [], checks, uncheckable);
  for (const { path, field } of allFields(schema.fields, [])) {
    const raw = field.metadata?.['delta.invariants'];
    if (raw === undefined) continue;
    const label = `the invariant of column ${path.join('.')}`;
    const expression = invariantExpression(raw);
    if (expression === undefined)
      uncheckable.push({ feature: 'invariants', label, reason: `its delta.invariants metadata ${JSON.stringify(raw)} holds no expression` });
    else add('invariants', `${label} (${expression})`, expression);
  }
  for (const [key, expression] of Object.entries(configuration)) {
    if (!key.startsWith('delta.constraints.')) continue;
    add('checkConstraints', `the CHECK constraint "${key.slice('delta.constraints.'.length)}" (${expression})`, expression);
  }
  return { checks, uncheckable };
}

function* allFields(fields: DeltaField[], parent: string[]): Generator<{ path: string[]; field: DeltaField }> {
  for (const field of fields) {
    const path = [...parent, field.name];
    yield { path, field };
    if (typeof field.type !== 'string' && field.type.type === 'struct') yield* allFields(field.type.fields, path);
  }
}

/** `{"expression": {"expression": "x > 3"}}`, as a string or already parsed. */
function invariantExpression(raw: unknown): string | undefined {
  try {
    const value = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { expression?: { expression?: unknown } };
    const e = value?.expression?.expression;
    return typeof e === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

/**
 * NOT NULL as Delta enforces it: on columns and, below a struct that is present, on its
 * fields; an array or map that may not hold nulls holds none. Non-nullable fields inside the
 * elements of arrays or maps are not checked by this writer (nor by Spark, which refuses such
 * schemas), so a table that has them is refused.
 */
function notNullChecks(
  fields: DeltaField[],
  parentSql: string | undefined,
  parentPath: string[],
  guards: string[],
  checks: RowCheck[],
  uncheckable: UncheckableRule[],
): void {
  for (const f of fields) {
    const sql = parentSql === undefined ? quoteIdent(f.name) : `${parentSql}.${quoteIdent(f.name)}`;
    const path = [...parentPath, f.name];
    const absent = guards.map((g) => `${g} IS NULL`);
    if (!f.nullable) {
      checks.push({
        feature: 'invariants',
        label: `the NOT NULL constraint of column ${path.join('.')}`,
        sql: `(${[...absent, `${sql} IS NOT NULL`].join(' OR ')})`,
      });
    }
    const type = f.type;
    if (typeof type === 'string') continue;
    if (type.type === 'struct') {
      notNullChecks(type.fields, sql, path, [...guards, sql], checks, uncheckable);
      continue;
    }
    const inner = type.type === 'array' ? type.elementType : type.valueType;
    const strict = type.type === 'array' ? !type.containsNull : !type.valueContainsNull;
    const values = type.type === 'array' ? sql : `map_values(${sql})`;
    if (strict) {
      checks.push({
        feature: 'invariants',
        label: `the NOT NULL constraint of the ${type.type === 'array' ? 'elements' : 'values'} of column ${path.join('.')}`,
        sql: `(${[...absent, `${sql} IS NULL`, `list_count(${values}) = len(${values})`].join(' OR ')})`,
      });
    }
    if (requiresNonNull(inner) || (type.type === 'map' && requiresNonNull(type.keyType))) {
      uncheckable.push({
        feature: 'invariants',
        label: `the NOT NULL constraints inside column ${path.join('.')}`,
        reason: 'non-nullable fields inside arrays or maps are not checked by this writer',
      });
    }
  }
}

function requiresNonNull(type: DeltaType): boolean {
  if (typeof type === 'string') return false;
  if (type.type === 'struct') return type.fields.some((f) => !f.nullable || requiresNonNull(f.type));
  if (type.type === 'array') return !type.containsNull || requiresNonNull(type.elementType);
  return !type.valueContainsNull || requiresNonNull(type.keyType) || requiresNonNull(type.valueType);
}

const ROWS = '__delta_write_rows';
const VIEW = '__delta_write_check';

/**
 * Evaluate `checks` on `data` with DuckDB; the first check some row fails is thrown as a
 * ConstraintViolationError. `schema` is the table's: columns the data leaves out are NULL.
 */
export function checkRows(
  engine: Engine,
  data: Table,
  schema: DeltaSchema,
  checks: RowCheck[],
  context: { table: string; version: number; verb: string },
): void {
  if (checks.length === 0 || data.numRows === 0) return;
  engine.insertIPC(ROWS, tableToIPC(data, 'stream'));
  try {
    const present = new Map(data.schema.fields.map((f) => [f.name.toLowerCase(), f.name]));
    const columns = schema.fields.map((f) => {
      const source = present.get(f.name.toLowerCase());
      return source === undefined ? `NULL::${duckdbType(f.type)} AS ${quoteIdent(f.name)}` : `${quoteIdent(source)} AS ${quoteIdent(f.name)}`;
    });
    engine.run(`CREATE OR REPLACE TEMP VIEW ${VIEW} AS SELECT ${columns.join(', ')} FROM ${ROWS}`);
    const counts = checks.map((c, i) => `count(*) FILTER (WHERE (${c.sql}) IS NOT TRUE) AS v${i}`);
    const row = engine.rows<Record<string, bigint>>(`SELECT ${counts.join(', ')} FROM ${VIEW}`)[0]!;
    checks.forEach((check, i) => {
      const violations = Number(row[`v${i}`]);
      if (violations > 0) throw new ConstraintViolationError(context.table, context.version, context.verb, violations, data.numRows, check);
    });
  } finally {
    engine.run(`DROP VIEW IF EXISTS ${VIEW}; DROP TABLE IF EXISTS ${ROWS}`);
  }
}

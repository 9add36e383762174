import type { Add } from './actions.ts';
import { physicalName, mappingMode } from './mapping.ts';
import type { DeltaField } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * File skipping: which data files of a snapshot can hold rows that satisfy a conjunction of
 * simple conditions (`column op literal`), decided from the log alone — the file's
 * `partitionValues` and the `minValues`/`maxValues`/`nullCount` of its `stats`. A file is kept
 * whenever it is not certain that no row of it matches, so skipping never changes a result.
 *
 * Statistics are used for integer, string, date and boolean columns. Floating-point columns are
 * left alone (NaN sorts above every number in DuckDB but is not in min/max stats), and so are
 * timestamps (writers round their stats to milliseconds in ways that differ); their partition
 * values still skip files.
 *
 * A file with a deletion vector keeps the stats of all its rows, deleted ones included
 * (`tightBounds: false`): min/max are then bounds, not values present, and `numRecords` and
 * `nullCount` count deleted rows. Every test below only uses them as bounds, so they stay sound.
 */

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = string | number | boolean;

export type Condition =
  | { column: string; op: CompareOp; value: Literal }
  | { column: string; op: 'in'; values: Literal[] }
  | { column: string; op: 'is null' | 'is not null' };

export interface FilePruning {
  /** the files that can match, in log order */
  files: Add[];
  total: number;
  /** files left out because of their partition values */
  skippedByPartition: number;
  /** files left out because of their min/max/null-count statistics */
  skippedByStats: number;
}

type Verdict = 'keep' | 'partition' | 'stats';

/** The files of `snapshot` that can hold rows satisfying every one of `conditions`. */
export function pruneFiles(snapshot: Snapshot, conditions: readonly Condition[]): FilePruning {
  const out: FilePruning = { files: [], total: snapshot.files.length, skippedByPartition: 0, skippedByStats: 0 };
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  const fields = new Map(snapshot.schema.fields.map((f) => [f.name, { field: f, key: physicalName(f, mode) }]));
  const partitions = new Set(snapshot.metadata.partitionColumns);
  for (const add of snapshot.files) {
    const verdict = judge(add, conditions, fields, partitions);
    if (verdict === 'keep') out.files.push(add);
    else if (verdict === 'partition') out.skippedByPartition++;
    else out.skippedByStats++;
  }
  return out;
}

/** "read 2 of 9 files (7 skipped by partition values/statistics)" */
export function describePruning(p: Pick<FilePruning, 'total' | 'skippedByPartition' | 'skippedByStats'>): string {
  const read = p.total - p.skippedByPartition - p.skippedByStats;
  const reasons = [
    p.skippedByPartition > 0 && `${p.skippedByPartition} by partition values`,
    p.skippedByStats > 0 && `${p.skippedByStats} by statistics`,
  ].filter(Boolean);
  const skipped = p.skippedByPartition + p.skippedByStats;
  return `read ${read} of ${p.total} ${p.total === 1 ? 'file' : 'files'}${skipped > 0 ? ` (${skipped} skipped: ${reasons.join(', ')})` : ''}`;
}

/** `key`: the column's name in `partitionValues` and `stats` */
function judge(add: Add, conditions: readonly Condition[], fields: Map<string, { field: DeltaField; key: string }>, partitions: Set<string>): Verdict {
  let stats: Stats | null | undefined;
  if (conditions.length > 0 && add.deletionVector) {
    stats = parseStats(add.stats);
    // Every row deleted: nothing in the file can match.
    if (stats && typeof stats.numRecords === 'number' && stats.numRecords === add.deletionVector.cardinality) return 'stats';
  }
  for (const c of conditions) {
    const found = fields.get(c.column);
    if (!found || typeof found.field.type !== 'string') continue;
    const { field, key } = found;
    const type = field.type as string;
    if (partitions.has(c.column)) {
      if (Object.hasOwn(add.partitionValues, key) && !partitionCanMatch(add.partitionValues[key] ?? null, type, c)) return 'partition';
      continue;
    }
    stats ??= parseStats(add.stats);
    if (stats && !statsCanMatch(stats, key, type, c)) return 'stats';
  }
  return 'keep';
}

interface Stats {
  numRecords?: number;
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
  nullCount?: Record<string, unknown>;
}

function parseStats(text: string | null | undefined): Stats | null {
  if (!text) return null;
  try {
    const s = JSON.parse(text) as unknown;
    return s && typeof s === 'object' ? (s as Stats) : null;
  } catch {
    return null;
  }
}

/** A value comparable within one column type: numbers, UTF-8 byte strings, dates as YYYY-MM-DD, booleans. */
type Comparable = { kind: 'number'; v: number } | { kind: 'bytes'; v: Uint8Array } | { kind: 'bool'; v: boolean };

const INTEGERS = new Set(['byte', 'short', 'integer', 'long']);
const encoder = new TextEncoder();

/** A literal as a value of the column's type, or undefined when this code does not know how it compares. */
function typed(type: string, value: unknown): Comparable | undefined {
  if (INTEGERS.has(type)) {
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    return typeof n === 'number' && Number.isSafeInteger(n) ? { kind: 'number', v: n } : undefined;
  }
  if (type === 'string') return typeof value === 'string' ? { kind: 'bytes', v: encoder.encode(value) } : undefined;
  if (type === 'date') return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? { kind: 'bytes', v: encoder.encode(value) } : undefined;
  if (type === 'boolean') {
    if (typeof value === 'boolean') return { kind: 'bool', v: value };
    if (value === 'true' || value === 'false') return { kind: 'bool', v: value === 'true' };
  }
  return undefined;
}

/** The literal of a condition, only when its kind fits the column (a number for an integer column, …). */
function literal(type: string, value: Literal): Comparable | undefined {
  if (INTEGERS.has(type) && typeof value !== 'number') return undefined;
  if ((type === 'string' || type === 'date') && typeof value !== 'string') return undefined;
  if (type === 'boolean' && typeof value !== 'boolean') return undefined;
  return typed(type, value);
}

function compare(a: Comparable, b: Comparable): number {
  if (a.kind === 'number' && b.kind === 'number') return a.v - b.v;
  if (a.kind === 'bool' && b.kind === 'bool') return Number(a.v) - Number(b.v);
  if (a.kind === 'bytes' && b.kind === 'bytes') {
    const n = Math.min(a.v.length, b.v.length);
    for (let i = 0; i < n; i++) if (a.v[i] !== b.v[i]) return a.v[i]! - b.v[i]!;
    return a.v.length - b.v.length;
  }
  return NaN;
}

function holds(op: CompareOp, cmp: number): boolean {
  switch (op) {
    case '=':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
  }
}

/** Whether a file whose every row has `raw` (a partition value) in the column can satisfy `c`. */
function partitionCanMatch(raw: string | null, type: string, c: Condition): boolean {
  const isNull = raw === null || raw === '__HIVE_DEFAULT_PARTITION__' || (raw === '' && type !== 'string');
  if (c.op === 'is null') return isNull;
  if (c.op === 'is not null') return !isNull;
  if (isNull) return false; // a comparison with NULL is never true
  const v = typed(type, raw);
  if (!v) return true;
  const lits = valuesOf(c).map((x) => literal(type, x));
  if (lits.some((l) => l === undefined)) return true;
  return c.op === 'in' ? lits.some((l) => compare(v, l!) === 0) : holds(c.op, compare(v, lits[0]!));
}

/** Whether a file with these statistics (of the column under `key`) can hold a row satisfying `c`. */
function statsCanMatch(stats: Stats, key: string, type: string, c: Condition): boolean {
  const rows = typeof stats.numRecords === 'number' ? stats.numRecords : undefined;
  const nulls = typeof stats.nullCount?.[key] === 'number' ? (stats.nullCount[key] as number) : undefined;
  if (rows === 0) return false;
  if (c.op === 'is null') return nulls === undefined || nulls > 0;
  const allNull = rows !== undefined && nulls !== undefined && nulls === rows;
  if (c.op === 'is not null') return !allNull;
  if (allNull) return false;
  if (!INTEGERS.has(type) && type !== 'string' && type !== 'date') return true;
  const min = statValue(type, stats.minValues?.[key]);
  let max = statValue(type, stats.maxValues?.[key]);
  // Writers cut long strings in stats to a prefix; a max that may be cut bounds nothing.
  if (type === 'string' && typeof stats.maxValues?.[key] === 'string' && [...(stats.maxValues[key] as string)].length >= 32) max = undefined;
  const lits = valuesOf(c).map((x) => literal(type, x));
  if (lits.some((l) => l === undefined)) return true;
  const inRange = (l: Comparable): boolean => (min === undefined || compare(l, min) >= 0) && (max === undefined || compare(l, max) <= 0);
  switch (c.op) {
    case 'in':
      return lits.some((l) => inRange(l!));
    case '=':
      return inRange(lits[0]!);
    case '!=':
      return !(min !== undefined && max !== undefined && compare(min, max) === 0 && compare(min, lits[0]!) === 0);
    case '<':
      return min === undefined || compare(min, lits[0]!) < 0;
    case '<=':
      return min === undefined || compare(min, lits[0]!) <= 0;
    case '>':
      return max === undefined || compare(max, lits[0]!) > 0;
    case '>=':
      return max === undefined || compare(max, lits[0]!) >= 0;
  }
}

function statValue(type: string, raw: unknown): Comparable | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (INTEGERS.has(type)) return typeof raw === 'number' && Number.isSafeInteger(raw) ? { kind: 'number', v: raw } : undefined;
  if (type === 'date' && typeof raw === 'string') return typed(type, raw.slice(0, 10));
  return typed(type, raw);
}

function valuesOf(c: Condition): Literal[] {
  return c.op === 'in' ? c.values : 'value' in c ? [c.value] : [];
}

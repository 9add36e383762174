import { quoteIdent, quoteString } from '../engine/duckdb.ts';
import type { CompareOp, Condition, Literal } from '../delta/skipping.ts';
import { ConsoleError, tokenize, type Token } from './sql-text.ts';

/**
 * The conditions file skipping can use, read from SQL text: a row filter typed in the explorer
 * (`year = '2021' AND month >= '4'`), or the WHERE clause of a console query over one table.
 * Only `column op literal`, `column IN (literals)` and `column IS [NOT] NULL`, joined by AND
 * at the top level, are understood.
 */

const significant = (t: Token) => t.kind !== 'space' && t.kind !== 'comment';
const OPS: Record<string, CompareOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Symbols of one or two characters (`<=`, `<>`, `!=`, `>=`, `==`) as one token. */
function merged(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const t of tokens.filter(significant)) {
    const prev = out[out.length - 1];
    if (
      prev &&
      t.kind === 'symbol' &&
      prev.kind === 'symbol' &&
      prev.start + prev.text.length === t.start &&
      ['<=', '>=', '<>', '!=', '=='].includes(prev.text + t.text)
    ) {
      out[out.length - 1] = { ...prev, text: prev.text + t.text };
    } else out.push(t);
  }
  return out;
}

const word = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w;

/**
 * One conjunct, or undefined. `column(tokens)` resolves a column reference (1 or 3 tokens)
 * to a schema column name.
 */
function condition(ts: Token[], column: (ts: Token[]) => string | undefined): Condition | undefined {
  const lit = (from: number): { value: Literal; next: number } | undefined => {
    const t = ts[from];
    if (!t) return undefined;
    if (t.kind === 'string') return { value: t.text.slice(1, -1).replaceAll("''", "'"), next: from + 1 };
    if (t.kind === 'number' && /^\d+$/.test(t.text)) return { value: Number(t.text), next: from + 1 };
    if (t.kind === 'symbol' && t.text === '-' && ts[from + 1]?.kind === 'number' && /^\d+$/.test(ts[from + 1]!.text))
      return { value: -Number(ts[from + 1]!.text), next: from + 2 };
    if (word(t, 'true') || word(t, 'false')) return { value: t.text.toLowerCase() === 'true', next: from + 1 };
    if (word(t, 'date') && ts[from + 1]?.kind === 'string') return { value: ts[from + 1]!.text.slice(1, -1), next: from + 2 };
    return undefined;
  };
  const col = (from: number): { name: string; next: number } | undefined => {
    for (const n of [3, 1]) {
      if (from + n > ts.length) continue;
      const name = column(ts.slice(from, from + n));
      if (name !== undefined) return { name, next: from + n };
    }
    return undefined;
  };
  const c = col(0);
  if (c) {
    const rest = ts.slice(c.next);
    // column IS [NOT] NULL
    if (word(rest[0], 'is') && word(rest[1], 'null') && rest.length === 2) return { column: c.name, op: 'is null' };
    if (word(rest[0], 'is') && word(rest[1], 'not') && word(rest[2], 'null') && rest.length === 3) return { column: c.name, op: 'is not null' };
    // column IN (a, b, …)
    if (word(rest[0], 'in') && rest[1]?.text === '(' && rest[rest.length - 1]?.text === ')') {
      const values: Literal[] = [];
      let i = c.next + 2;
      for (;;) {
        const l = lit(i);
        if (!l) return undefined;
        values.push(l.value);
        const sep = ts[l.next];
        if (sep?.text === ')' && l.next === ts.length - 1) return { column: c.name, op: 'in', values };
        if (sep?.text !== ',') return undefined;
        i = l.next + 1;
      }
    }
    // column op literal
    const op = rest[0]?.kind === 'symbol' ? OPS[rest[0].text] : undefined;
    const l = op && lit(c.next + 1);
    if (op && l && l.next === ts.length) return { column: c.name, op, value: l.value };
    return undefined;
  }
  // literal op column
  const l = lit(0);
  const op = l && ts[l.next]?.kind === 'symbol' ? OPS[ts[l.next]!.text] : undefined;
  const r = op && col(l!.next + 1);
  if (l && op && r && r.next === ts.length) return { column: r.name, op: FLIP[op], value: l.value };
  return undefined;
}

/** The conjuncts of `ts` split on top-level AND, or undefined when its top level has OR, NOT, CASE or BETWEEN. */
function conjuncts(ts: Token[]): Token[][] | undefined {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const [i, t] of ts.entries()) {
    if (t.kind === 'symbol' && t.text === '(') depth++;
    if (t.kind === 'symbol' && t.text === ')') depth--;
    if (depth === 0 && t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'or' || w === 'case' || w === 'between' || (w === 'not' && !word(ts[i - 1], 'is'))) return undefined;
      if (w === 'and') {
        parts.push([]);
        continue;
      }
    }
    parts[parts.length - 1]!.push(t);
  }
  return parts;
}

/** A resolver of column references: bare, quoted, or qualified by one of `qualifiers`. */
function resolver(columns: readonly string[], qualifiers: readonly string[]): (ts: Token[]) => string | undefined {
  const byLower = new Map<string, string | null>();
  for (const c of columns) byLower.set(c.toLowerCase(), byLower.has(c.toLowerCase()) ? null : c);
  const name = (t: Token | undefined): string | undefined =>
    t?.kind === 'word' ? t.text : t?.kind === 'quoted' ? t.text.slice(1, -1).replaceAll('""', '"') : undefined;
  const quals = new Set(qualifiers.map((q) => q.toLowerCase()));
  return (ts) => {
    let n: string | undefined;
    if (ts.length === 1) n = name(ts[0]);
    else if (ts.length === 3 && ts[1]?.text === '.' && quals.has(name(ts[0])?.toLowerCase() ?? '\0')) n = name(ts[2]);
    if (n === undefined || (ts[0]?.kind === 'word' && ['true', 'false', 'null', 'date', 'not'].includes(n.toLowerCase()))) return undefined;
    return byLower.get(n.toLowerCase()) ?? undefined;
  };
}

export const FILTER_HELP = "conditions like year = '2021', id >= 100, kind IN ('a', 'b') or note IS NULL, joined by AND";

/**
 * A row filter for the explorer: every part must be understood, so the filter is both the file
 * skipping conditions and, rebuilt from them, the SQL that selects the rows.
 */
export function parseRowFilter(text: string, columns: readonly string[]): { conditions: Condition[]; sql: string } {
  const ts = merged(tokenize(text));
  if (ts.length === 0) return { conditions: [], sql: '' };
  const parts = conjuncts(ts);
  const resolve = resolver(columns, []);
  const conditions = (parts ?? []).map((p) => condition(p, resolve));
  if (!parts || conditions.some((c) => c === undefined)) {
    throw new ConsoleError(`the filter ${JSON.stringify(text)} is not understood: write ${FILTER_HELP}; the columns are ${columns.join(', ')}`);
  }
  return { conditions: conditions as Condition[], sql: conditions.map((c) => conditionSql(c!)).join(' AND ') };
}

function literalSql(v: Literal): string {
  return typeof v === 'string' ? quoteString(v) : String(v);
}

export function conditionSql(c: Condition): string {
  const col = quoteIdent(c.column);
  if (c.op === 'is null') return `${col} IS NULL`;
  if (c.op === 'is not null') return `${col} IS NOT NULL`;
  if (c.op === 'in') return `${col} IN (${c.values.map(literalSql).join(', ')})`;
  return `${col} ${c.op} ${literalSql((c as { value: Literal }).value)}`;
}

const CLAUSE_END = new Set(['group', 'order', 'limit', 'offset', 'having', 'window', 'qualify', 'fetch', 'select', 'using']);
const SET_OPS = new Set(['union', 'except', 'intersect']);

/**
 * For a console query that reads one table once — `SELECT … FROM <table> [[AS] alias] WHERE …`
 * (or DuckDB's FROM-first form) — the WHERE conditions file skipping can use, and the position of
 * the table's name in `sql` so it can be replaced by the table of the matching files. Anything
 * else (joins, set operations, WITH, the table named twice) gives undefined: every file is read.
 * `isTable` tells whether a token names the table (e.g. `opened_x` or `"opened_x@v2"`).
 */
export function consoleConditions(
  sql: string,
  isTable: (t: Token) => boolean,
  columns: readonly string[],
): { conditions: Condition[]; start: number; end: number } | undefined {
  const all = tokenize(sql);
  const ts = merged(all);
  const first = ts[0];
  if (!first || !(word(first, 'select') || word(first, 'from'))) return undefined;
  const named = ts.filter(isTable);
  if (named.length !== 1) return undefined;
  const at = ts.indexOf(named[0]!);
  let depth = 0;
  const depthAt: number[] = [];
  for (const t of ts) {
    if (t.kind === 'symbol' && t.text === '(') depth++;
    depthAt.push(depth);
    if (t.kind === 'symbol' && t.text === ')') depth--;
  }
  if (depthAt[at] !== 0 || !word(ts[at - 1], 'from')) return undefined;
  if (ts.some((t, i) => depthAt[i] === 0 && t.kind === 'word' && SET_OPS.has(t.text.toLowerCase()))) return undefined;
  if (ts.filter((t, i) => depthAt[i] === 0 && word(t, 'from')).length !== 1) return undefined;
  // [AS] alias
  let i = at + 1;
  const qualifiers = [named[0]!.kind === 'quoted' ? named[0]!.text.slice(1, -1) : named[0]!.text];
  if (word(ts[i], 'as')) i++;
  const alias = ts[i];
  if ((alias?.kind === 'word' && !word(alias, 'where') && !CLAUSE_END.has(alias.text.toLowerCase())) || alias?.kind === 'quoted') {
    qualifiers.push(alias.kind === 'quoted' ? alias.text.slice(1, -1) : alias.text);
    i++;
  }
  const table = { start: named[0]!.start, end: named[0]!.start + named[0]!.text.length };
  if (!word(ts[i], 'where'))
    return ts[i] === undefined || (ts[i]!.kind === 'word' && CLAUSE_END.has(ts[i]!.text.toLowerCase())) ? { conditions: [], ...table } : undefined;
  let j = i + 1;
  while (j < ts.length && !(depthAt[j] === 0 && ts[j]!.kind === 'word' && CLAUSE_END.has(ts[j]!.text.toLowerCase()))) j++;
  const parts = conjuncts(ts.slice(i + 1, j));
  if (!parts) return { conditions: [], ...table };
  const resolve = resolver(columns, qualifiers);
  const conditions = parts.map((p) => condition(p, resolve)).filter((c): c is Condition => c !== undefined);
  return { conditions, ...table };
}

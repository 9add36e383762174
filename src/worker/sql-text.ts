import { CodedError } from '../errors.ts';

/**
 * The SQL console's text handling, without an engine: a tokenizer that knows where strings,
 * quoted names and comments are; the read-only guard; and the time-travel rewrite
 * (`silver_events@v3` or `silver_events VERSION AS OF 3` → the in-memory table "silver_events@v3").
 *
 * The guard errs on the side of refusing: where this tokenizer and DuckDB could disagree
 * (nested comments, dollar-quoted strings), this one sees more code than DuckDB does, so a `;`
 * hidden from DuckDB is still seen and refused here. Behind it, the console only ever sees
 * in-memory copies; the Delta tables are not reachable from SQL at all.
 */

export interface Token {
  kind: 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'symbol';
  text: string;
  start: number;
}

/** A statement the console will not run, or DuckDB's error for one it ran (`statement`, as it ran). */
export class ConsoleError extends CodedError {
  static readonly code = 'CONSOLE_REFUSED';
  override name = 'ConsoleError';
  constructor(
    message: string,
    readonly statement?: string,
  ) {
    super(message);
  }
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: Token['kind'], end: number): void => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (/\s/.test(c)) push('space', i + /^\s+/.exec(rest)![0].length);
    else if (rest.startsWith('--')) {
      const m = /[\r\n]/.exec(rest);
      push('comment', m ? i + m.index : sql.length);
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new ConsoleError('the SQL has a /* comment that is never closed with */');
      push('comment', end + 2);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(c, j);
        if (k < 0) throw new ConsoleError(c === "'" ? `the SQL has a string that is never closed (starting ${clip(rest)})` : `the SQL has a quoted name that is never closed (starting ${clip(rest)})`);
        if (sql[k + 1] === c) j = k + 2;
        else {
          push(c === "'" ? 'string' : 'quoted', k + 1);
          break;
        }
      }
    } else if (/[\p{L}_]/u.test(c)) push('word', i + /^[\p{L}\p{N}_$]+/u.exec(rest)![0].length);
    else if (/[0-9]/.test(c)) push('number', i + /^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(rest)![0].length);
    else push('symbol', i + 1);
  }
  return tokens;
}

const significant = (t: Token) => t.kind !== 'space' && t.kind !== 'comment';

/** Statements whose result is rows, run as a subquery of the console's result table. */
const QUERY_STARTS = new Set(['select', 'with', 'from', 'values', 'table']);
/** Statements about tables, read-only by nature. */
const INSPECT_STARTS = new Set(['describe', 'desc', 'show', 'summarize']);
const WRITES = new Set(['insert', 'update', 'delete', 'merge', 'create', 'drop', 'alter', 'copy', 'truncate']);
const PRAGMAS = new Set(['table_info', 'show_tables', 'show_tables_expanded', 'show', 'database_size']);

export const ALLOWED_TEXT = 'SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN and PRAGMA table_info';

export type StatementKind = 'query' | 'inspect' | 'explain' | 'pragma';

export interface Checked {
  kind: StatementKind;
  /** the statement without a final `;` */
  body: string;
}

/**
 * One read-only statement, or a ConsoleError that says why not. `tokens` are of `sql`.
 */
export function checkReadOnly(sql: string, tokens = tokenize(sql)): Checked {
  const sig = tokens.filter(significant);
  if (sig.length === 0) throw new ConsoleError('there is no SQL to run: type a query, e.g. SELECT * FROM gold_engagement_bands');
  let end = sql.length;
  const semicolons = sig.filter((t) => t.kind === 'symbol' && t.text === ';');
  if (semicolons.length > 0) {
    const last = sig[sig.length - 1]!;
    if (semicolons.length > 1 || semicolons[0] !== last) throw new ConsoleError('run one statement at a time: the console takes a single statement (a final ";" is fine)');
    end = last.start;
  }
  const body = sql.slice(0, end).trimEnd();
  const words = sig.filter((t) => t.start < end);
  return { kind: kindOf(words, 0), body };
}

function kindOf(sig: Token[], at: number): StatementKind {
  let i = at;
  while (sig[i]?.kind === 'symbol' && sig[i]!.text === '(') i++;
  const first = sig[i];
  const word = first?.kind === 'word' ? first.text.toLowerCase() : undefined;
  if (word === 'with') {
    // WITH … may end in INSERT, UPDATE or DELETE: look at what its top level does.
    let depth = 0;
    for (const t of sig.slice(i + 1)) {
      if (t.kind === 'symbol') depth += t.text === '(' ? 1 : t.text === ')' ? -1 : 0;
      else if (depth === 0 && t.kind === 'word' && WRITES.has(t.text.toLowerCase())) refuse(t.text);
    }
    return 'query';
  }
  if (word !== undefined && QUERY_STARTS.has(word)) return 'query';
  if (i === at && word !== undefined && INSPECT_STARTS.has(word)) {
    // DESCRIBE/SHOW/SUMMARIZE take a table name (SHOW TABLES, SHOW ALL TABLES) or a query.
    const next = sig[i + 1];
    if (next === undefined) return 'inspect';
    if ((next.kind === 'symbol' && next.text === '(') || (next.kind === 'word' && QUERY_STARTS.has(next.text.toLowerCase()))) {
      kindOf(sig, i + 1);
      return 'inspect';
    }
    if (sig.slice(i + 1).every((t) => t.kind === 'word' || t.kind === 'quoted' || (t.kind === 'symbol' && '.@'.includes(t.text)))) return 'inspect';
    return refuse(first!.text);
  }
  if (i === at && word === 'explain') {
    const next = sig[i + 1];
    kindOf(sig, next?.kind === 'word' && next.text.toLowerCase() === 'analyze' ? i + 2 : i + 1);
    return 'explain';
  }
  if (i === at && word === 'pragma') {
    const name = sig[i + 1];
    if (name?.kind === 'word' && PRAGMAS.has(name.text.toLowerCase())) {
      const bad = sig.slice(i + 2).find((t) => !(t.kind === 'string' || t.kind === 'quoted' || t.kind === 'word' || (t.kind === 'symbol' && '().'.includes(t.text))));
      if (bad === undefined) return 'pragma';
    }
    throw new ConsoleError(`only PRAGMA ${[...PRAGMAS].join(', ')} run here`);
  }
  return refuse(first?.text ?? sig[at]?.text ?? '');
}

function refuse(word: string): never {
  throw new ConsoleError(
    `the console is read-only: it runs ${ALLOWED_TEXT}, not ${word.toUpperCase() || 'this statement'}. ` +
      'It works on in-memory copies of the tables; Delta tables change only through the pipeline.',
  );
}

export interface TableRef {
  /** the console name, e.g. silver_events */
  view: string;
  /** undefined: the latest version */
  version?: number;
}

export interface Rewritten {
  sql: string;
  refs: TableRef[];
}

/**
 * Replace each time-travel reference to a known table with its version table, and collect every
 * table the statement names. `known` holds the console names (silver_events, gold_…).
 */
export function rewriteTimeTravel(sql: string, known: ReadonlySet<string>, tokens = tokenize(sql)): Rewritten {
  const refs = new Map<string, TableRef>();
  const note = (view: string, version?: number): void => void refs.set(`${view}@${version ?? ''}`, version === undefined ? { view } : { view, version });
  let out = '';
  let copied = 0;
  const replace = (from: number, to: number, text: string): void => {
    out += sql.slice(copied, from) + text;
    copied = to;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = previous(tokens, i);
    if (prev?.kind === 'symbol' && prev.text === '.') continue; // qualified: schema.table or alias.column
    if (t.kind === 'quoted') {
      const m = /^(.*)@v(\d+)$/.exec(t.text.slice(1, -1).replaceAll('""', '"'));
      if (m && known.has(m[1]!.toLowerCase())) note(m[1]!.toLowerCase(), Number(m[2]));
      else if (known.has(t.text.slice(1, -1).toLowerCase())) note(t.text.slice(1, -1).toLowerCase());
      continue;
    }
    if (t.kind === 'string') {
      // PRAGMA table_info('silver_events') names a table in a string.
      const m = /^(.*?)(?:@v(\d+))?$/.exec(t.text.slice(1, -1).replaceAll("''", "'").toLowerCase())!;
      if (known.has(m[1]!)) note(m[1]!, m[2] === undefined ? undefined : Number(m[2]));
      continue;
    }
    if (t.kind !== 'word') continue;
    const name = t.text.toLowerCase();
    // name@vN, written without spaces
    const at = tokens[i + 1];
    const v = tokens[i + 2];
    if (at?.kind === 'symbol' && at.text === '@' && v?.kind === 'word' && /^v\d+$/i.test(v.text)) {
      if (!known.has(name)) throw new ConsoleError(`there is no table ${t.text} to travel in time with @${v.text}; the tables are ${[...known].join(', ')}`);
      const version = Number(v.text.slice(1));
      note(name, version);
      replace(t.start, v.start + v.text.length, quoted(name, version));
      i += 2;
      continue;
    }
    if (!known.has(name)) continue;
    // name VERSION AS OF N (Delta Lake's SQL)
    const [j1, j2, j3, j4] = nextSignificant(tokens, i, 4);
    const w = (j: number | undefined, text: string) => j !== undefined && tokens[j]!.kind === 'word' && tokens[j]!.text.toLowerCase() === text;
    if (w(j1, 'version') && w(j2, 'as') && w(j3, 'of')) {
      const n = j4 === undefined ? undefined : tokens[j4]!;
      if (n?.kind !== 'number' || !/^\d+$/.test(n.text)) throw new ConsoleError(`${t.text} VERSION AS OF needs a version number, e.g. ${t.text} VERSION AS OF 0`);
      const version = Number(n.text);
      note(name, version);
      replace(t.start, n.start + n.text.length, quoted(name, version));
      i = j4!;
      continue;
    }
    note(name);
  }
  out += sql.slice(copied);
  return { sql: out, refs: [...refs.values()] };
}

function quoted(view: string, version: number): string {
  return `"${view}@v${version}"`;
}

function previous(tokens: Token[], i: number): Token | undefined {
  for (let j = i - 1; j >= 0; j--) if (significant(tokens[j]!)) return tokens[j];
  return undefined;
}

function nextSignificant(tokens: Token[], i: number, n: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let j = i + 1; j < tokens.length && out.length < n; j++) if (significant(tokens[j]!)) out.push(j);
  while (out.length < n) out.push(undefined);
  return out;
}

function clip(s: string): string {
  return s.length > 30 ? `${s.slice(0, 30)}…` : s;
}

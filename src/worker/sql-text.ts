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
  static readonly code: string = 'CONSOLE_REFUSED';
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
        if (k < 0)
          throw new ConsoleError(
            c === "'"
              ? `the SQL has a string that is never closed (starting ${clip(rest)})`
              : `the SQL has a quoted name that is never closed (starting ${clip(rest)})`,
          );
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

/** A statement that is not SQL: its first word starts no statement DuckDB knows. */
export class ConsoleSyntaxError extends ConsoleError {
  static override readonly code = 'CONSOLE_SYNTAX';
  override name = 'ConsoleSyntaxError';
}

/** Statements whose result is rows, run as the body of the console's result table. */
const QUERY_STARTS = new Set(['select', 'with', 'from', 'values', 'table', 'pivot', 'unpivot']);
/** Statements about tables, read-only by nature. */
const INSPECT_STARTS = new Set(['describe', 'desc', 'show', 'summarize']);
const WRITES = new Set(['insert', 'update', 'delete', 'merge', 'create', 'drop', 'alter', 'copy', 'truncate']);
/** What each statement the console refuses does, in the words of its refusal. */
const REFUSED: Record<string, string> = {
  insert: 'adds rows',
  update: 'changes rows',
  delete: 'deletes rows',
  merge: 'changes rows',
  truncate: 'deletes rows',
  create: 'creates a table, view or other object',
  drop: 'drops a table or other object',
  alter: 'changes a table',
  comment: 'changes a comment',
  copy: 'reads or writes files',
  export: 'writes a database to files',
  import: 'reads a database from files',
  attach: 'attaches a database',
  detach: 'detaches a database',
  use: 'switches the database',
  install: 'installs an extension',
  load: 'loads an extension',
  set: 'changes a setting',
  reset: 'changes a setting',
  call: 'calls a table function',
  checkpoint: 'writes the database to storage',
  vacuum: 'rewrites storage',
  analyze: 'gathers statistics',
  begin: 'starts a transaction',
  start: 'starts a transaction',
  commit: 'ends a transaction',
  end: 'ends a transaction',
  rollback: 'ends a transaction',
  abort: 'ends a transaction',
  prepare: 'prepares a statement',
  execute: 'runs a prepared statement',
  deallocate: 'drops a prepared statement',
  pragma: 'changes a setting',
};
/** Every word a DuckDB statement starts with: a first word outside it is a typo, not a write. */
const STATEMENT_WORDS = [...QUERY_STARTS, ...INSPECT_STARTS, 'explain', ...Object.keys(REFUSED)];
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
    if (semicolons.length > 1 || semicolons[0] !== last)
      throw new ConsoleError('run one statement at a time: the console takes a single statement (a final ";" is fine)');
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
      const bad = sig
        .slice(i + 2)
        .find((t) => !(t.kind === 'string' || t.kind === 'quoted' || t.kind === 'word' || (t.kind === 'symbol' && '().'.includes(t.text))));
      if (bad === undefined) return 'pragma';
    }
    throw new ConsoleError(`only PRAGMA ${[...PRAGMAS].join(', ')} run here`);
  }
  return refuse(first?.text ?? sig[at]?.text ?? '');
}

function refuse(word: string): never {
  const lower = word.toLowerCase();
  if (lower !== '' && /^[\p{L}_]/u.test(word) && !STATEMENT_WORDS.includes(lower)) {
    const near = closest(lower, STATEMENT_WORDS);
    throw new ConsoleSyntaxError(
      `syntax error: no SQL statement starts with ${word}${near ? ` — did you mean ${near.toUpperCase()}?` : ''} The console runs ${ALLOWED_TEXT}.`,
    );
  }
  const what = REFUSED[lower];
  throw new ConsoleError(
    `the console is read-only: it runs ${ALLOWED_TEXT}, not ${word.toUpperCase() || 'this statement'}${what ? `, which ${what}` : ''}. ` +
      'It works on in-memory copies of the tables; Delta tables change only through the pipeline.',
  );
}

/** The word of `words` nearest to `word` by edit distance, if it is near enough to be a typo of it (undefined otherwise). */
export function closest(word: string, words: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const candidate of words) {
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.min(3, Math.floor(w.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The statements of `sql`, split at every `;` this tokenizer sees (it sees more than DuckDB does,
 * so a `;` DuckDB would hide still splits, and each piece is checked on its own); empty ones left out.
 */
export function splitStatements(sql: string, tokens = tokenize(sql)): string[] {
  const out: string[] = [];
  let from = 0;
  const take = (to: number): void => {
    const piece = sql.slice(from, to);
    if (tokenize(piece).some(significant)) out.push(piece.trim());
  };
  for (const t of tokens) {
    if (t.kind === 'symbol' && t.text === ';') {
      take(t.start);
      from = t.start + 1;
    }
  }
  take(sql.length);
  return out;
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
      if (n?.kind !== 'number' || !/^\d+$/.test(n.text))
        throw new ConsoleError(`${t.text} VERSION AS OF needs a version number, e.g. ${t.text} VERSION AS OF 0`);
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

/** The console's own catalog relations, which stand in for DuckDB's (those list internal tables). */
export const CONSOLE_TABLES = 'console_tables';
export const CONSOLE_COLUMNS = 'console_columns';

/** A statement that only lists the tables: SHOW TABLES, SHOW ALL TABLES, DESCRIBE alone, PRAGMA show_tables. */
export function listsTables(sql: string, tokens = tokenize(sql)): boolean {
  const words = tokens.filter(significant).filter((t) => !(t.kind === 'symbol' && t.text === ';'));
  const text = words.map((t) => t.text.toLowerCase()).join(' ');
  return ['show tables', 'show all tables', 'describe', 'pragma show_tables', 'pragma show_tables_expanded'].includes(text);
}

/**
 * `information_schema.tables` and `.columns`, `duckdb_tables()`, `duckdb_columns()`,
 * `sqlite_master` and `sqlite_schema` replaced by the console's catalog relations, which list the
 * lakehouse's tables (and opened ones) and nothing internal. `uses` says which were named.
 */
export function rewriteCatalog(sql: string, tokens = tokenize(sql)): { sql: string; uses: Set<'tables' | 'columns'> } {
  const uses = new Set<'tables' | 'columns'>();
  let out = '';
  let copied = 0;
  const sig = tokens.filter(significant);
  const word = (t: Token | undefined, ...texts: string[]) => t?.kind === 'word' && texts.includes(t.text.toLowerCase());
  const sym = (t: Token | undefined, text: string) => t?.kind === 'symbol' && t.text === text;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    let end: Token | undefined;
    let kind: 'tables' | 'columns' | undefined;
    if (word(t, 'information_schema') && sym(sig[i + 1], '.') && word(sig[i + 2], 'tables', 'columns')) {
      end = sig[i + 2]!;
      kind = end.text.toLowerCase() as 'tables' | 'columns';
    } else if (word(t, 'duckdb_tables', 'duckdb_columns', 'duckdb_views') && sym(sig[i + 1], '(') && sym(sig[i + 2], ')')) {
      end = sig[i + 2]!;
      kind = t.text.toLowerCase() === 'duckdb_columns' ? 'columns' : 'tables';
    } else if (word(t, 'sqlite_master', 'sqlite_schema') && !sym(sig[i - 1], '.')) {
      end = t;
      kind = 'tables';
    }
    if (!end || !kind) continue;
    // a qualified name (catalog.information_schema.tables) is replaced whole
    let start = t.start;
    for (let j = i; j >= 2 && sym(sig[j - 1], '.') && sig[j - 2]!.kind === 'word'; j -= 2) start = sig[j - 2]!.start;
    out += sql.slice(copied, start) + (kind === 'tables' ? CONSOLE_TABLES : CONSOLE_COLUMNS);
    copied = end.start + end.text.length;
    uses.add(kind);
    i = sig.indexOf(end);
  }
  out += sql.slice(copied);
  return { sql: out, uses };
}

/**
 * DuckDB's message made right for this console: a paragraph said twice (its `LINE 1: … ^` block)
 * said once; a table it cannot find suggested from the console's tables, not DuckDB's internal
 * ones; and, for a function of an extension this offline page cannot load, what to do instead
 * of DuckDB's `INSTALL`.
 */
export function consoleMessage(message: string, tables: readonly string[]): string {
  const paragraphs: string[] = [];
  for (const p of message.split(/\n\s*\n/)) if (!paragraphs.includes(p.trim())) paragraphs.push(p.trim());
  let text = paragraphs.filter((p) => p !== '').join('\n\n');
  const missing = /Table with name (.+?) does not exist!(\nDid you mean "[^"]*"\?)?/.exec(text);
  if (missing) {
    const name = missing[1]!.replace(/^"|"$/g, '');
    const near = closest(name, tables);
    const hint = near ? `Did you mean "${near}"?` : tables.length ? `The tables are ${tables.join(', ')}.` : 'There are no tables yet: run the pipeline first.';
    text = text.replace(missing[0], `Table with name ${missing[1]} does not exist!\n${hint}`);
  }
  const extension = /(\w[\w ]*?) with name "?([\w.]+)"? is not in the catalog, but it exists in the (\w+) extension\.[\s\S]*$/.exec(text);
  if (extension) {
    text =
      text.slice(0, extension.index) +
      `${extension[1]} ${extension[2]} is in DuckDB's ${extension[3]} extension, which this page does not load: it runs offline, without DuckDB's extension downloads. ` +
      'Query the lakehouse’s tables by name (SHOW TABLES lists them); to query a CSV, Parquet or JSON file, drop it on the SQL tab and it becomes a view.';
  }
  return text;
}

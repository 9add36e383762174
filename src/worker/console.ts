import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { describePruning, pruneFiles } from '../delta/skipping.ts';
import { versionTable, type FileSubset, type TableCache } from './cache.ts';
import { consoleConditions } from './filter.ts';
import type { Catalog } from './catalog.ts';
import { count, gridOf, textRows } from './grid.ts';
import type { ConsoleResult, Grid } from './protocol.ts';
import { ConsoleError, checkReadOnly, rewriteTimeTravel, tokenize, type StatementKind, type Token } from './sql-text.ts';

export const CONSOLE_ROWS = 500;
const RESULT = 'console_result';

/**
 * The SQL console: one read-only statement at a time, on its own connection to the in-memory
 * `lake` database. Every table the statement names is loaded first (and only those: a console
 * query rarely needs bronze, the biggest table) and shown as a view of its latest version;
 * `name@vN` and `name VERSION AS OF N` read version N.
 */
export class SqlConsole {
  constructor(
    private readonly engine: Engine,
    private readonly cache: TableCache,
    private readonly catalog: Catalog,
  ) {}

  async run(sql: string): Promise<ConsoleResult> {
    const tokens = tokenize(sql);
    const checked = checkReadOnly(sql, tokens);
    const tables = [...(await this.catalog.list()), ...(await this.catalog.listMounted())];
    const byView = new Map(tables.map((t) => [t.view, t.path]));
    const rewritten = rewriteTimeTravel(checked.body, new Set(byView.keys()));
    const refs: { path: string; version?: number | undefined; view: string; subset?: FileSubset }[] = rewritten.refs.map((r) => ({
      path: byView.get(r.view)!,
      version: r.version,
      view: r.view,
    }));
    const snapshots = await Promise.all(refs.map((r) => this.catalog.snapshot(r.path, r.version)));
    const pruned = snapshots.map((snap) => ({ total: snap.files.length, skippedByPartition: 0, skippedByStats: 0 }));
    let text = rewritten.sql;
    let replaced: { start: number; end: number } | undefined;
    if (checked.kind === 'query' && refs.length === 1) {
      // One table, read once, with a WHERE: read only the files that can match it.
      const ref = refs[0]!;
      const snap = snapshots[0]!;
      const names = new Set([ref.view, versionTable(ref.view, snap.version)]);
      const isTable = (t: Token) =>
        ref.version === undefined ? t.kind === 'word' && t.text.toLowerCase() === ref.view : t.kind === 'quoted' && names.has(t.text.slice(1, -1).toLowerCase());
      const found = consoleConditions(text, isTable, snap.schema.fields.map((f) => f.name));
      if (found && found.conditions.length > 0) {
        const p = pruneFiles(snap, found.conditions);
        if (p.files.length < p.total) {
          ref.subset = { paths: new Set(p.files.map((a) => a.path)) };
          pruned[0] = { total: p.total, skippedByPartition: p.skippedByPartition, skippedByStats: p.skippedByStats };
          replaced = found;
        }
      }
    }
    return this.cache.useMany(refs, (loaded) => {
      for (const [i, ref] of refs.entries()) {
        if (ref.version === undefined && !ref.subset) this.engine.run(`CREATE OR REPLACE VIEW ${quoteIdent(ref.view)} AS SELECT * FROM ${quoteIdent(loaded[i]!.table)}`);
      }
      if (replaced) text = text.slice(0, replaced.start) + quoteIdent(loaded[0]!.table) + text.slice(replaced.end);
      const started = performance.now();
      const grid = this.execute(checked.kind, text);
      return {
        ...grid,
        sql: text,
        ms: Math.round(performance.now() - started),
        tables: [...new Set(loaded.map((t) => t.table))],
        files: refs.map((r, i) => ({
          table: versionTable(r.view, snapshots[i]!.version),
          read: loaded[i]!.files,
          ...pruned[i]!,
          text: describePruning(pruned[i]!),
        })),
      };
    });
  }

  private execute(kind: StatementKind, sql: string): Grid & { rowCount: number; truncated: boolean } {
    if (kind !== 'query') {
      // DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA: read-only by kind, checked by the guard.
      const table = this.attempt(sql, 0, () => this.engine.query(sql));
      const columns = table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
      const rows = textRows(table, columns.length);
      return { columns, rows: rows.slice(0, CONSOLE_ROWS), rowCount: rows.length, truncated: rows.length > CONSOLE_ROWS };
    }
    // As a subquery, the statement can only read: DuckDB refuses anything else in that place.
    this.attempt(sql, 1, () => this.engine.run(`CREATE OR REPLACE TEMP TABLE ${RESULT} AS SELECT * FROM (\n${sql}\n)`));
    try {
      const rowCount = count(this.engine, RESULT);
      return { ...gridOf(this.engine, RESULT, CONSOLE_ROWS), rowCount, truncated: rowCount > CONSOLE_ROWS };
    } finally {
      this.engine.run(`DROP TABLE IF EXISTS ${RESULT}`);
    }
  }

  /** DuckDB's own message, its line numbers counted from the user's first line. */
  private attempt<T>(sql: string, linesBefore: number, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      let message = cause instanceof Error ? cause.message : String(cause);
      if (linesBefore > 0) message = message.replace(/LINE (\d+):/g, (_m, n: string) => `LINE ${Math.max(1, Number(n) - linesBefore)}:`);
      throw new ConsoleError(message.trim(), sql);
    }
  }
}

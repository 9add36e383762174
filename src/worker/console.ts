import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { describePruning, pruneFiles } from '../delta/skipping.ts';
import { decodeParquet, encodeParquet } from '../parquet/codec.ts';
import { csvTable, fileViewName, FileViewError, jsonTable, type Cell } from './file-views.ts';
import { versionTable, type FileSubset, type TableCache } from './cache.ts';
import { consoleConditions } from './filter.ts';
import type { Catalog } from './catalog.ts';
import { count, describe, gridOf } from './grid.ts';
import type { ConsoleBatch, ConsoleFile, ConsolePage, ConsoleResult, ConsoleSort, Download, TableSummary } from './protocol.ts';
import {
  CONSOLE_COLUMNS,
  CONSOLE_TABLES,
  ConsoleError,
  checkReadOnly,
  consoleMessage,
  listsTables,
  rewriteCatalog,
  rewriteTimeTravel,
  splitStatements,
  type StatementKind,
  type Token,
} from './sql-text.ts';

/** Rows of a result sent with it; more come a page at a time (SqlConsole.page). */
export const CONSOLE_ROWS = 500;
const MAX_PAGE = 1000;
/** Results kept for paging, sorting and downloads; older ones are dropped. */
const KEEP_RESULTS = 8;
const SCRATCH = 'console_scratch';

/**
 * The SQL console: read-only statements on its own connection to the in-memory `lake` database.
 * Every table a statement names is loaded first (and only those: a console query rarely needs
 * bronze, the biggest table) and shown as a view of its latest version — or, while a newer batch
 * is partly in its layer, of the version consistent with the layer (TableSummary.partlyIn), and
 * the result says so; `name@vN` and `name VERSION AS OF N` read version N. Each result is kept as a
 * temporary table, so it can be paged, sorted and downloaded whatever its size; DuckDB's catalog
 * (SHOW TABLES, information_schema) is answered from the lakehouse's tables.
 */
export class SqlConsole {
  private nextId = 1;
  private readonly kept: number[] = [];
  /** files dropped on the console, each a temporary table named by fileViewName */
  private readonly files = new Map<string, ConsoleFile>();

  constructor(
    private readonly engine: Engine,
    private readonly cache: TableCache,
    private readonly catalog: Catalog,
    /** the lakehouse's tables, each with the version a plain name shows (reader.ts) */
    private readonly lakeTables: () => Promise<TableSummary[]>,
  ) {}

  /** Statements separated by `;`, each checked before any runs, then run in order until one fails. */
  async runAll(sql: string): Promise<ConsoleBatch> {
    const statements = splitStatements(sql);
    if (statements.length === 0) throw new ConsoleError('there is no SQL to run: type a query, e.g. SELECT * FROM gold_engagement_bands');
    const failed = (index: number, err: unknown): ConsoleBatch['error'] => ({
      index,
      statement: statements[index]!,
      message: err instanceof Error ? err.message : String(err),
      code: err instanceof Error ? (err as { code?: string }).code : undefined,
    });
    for (const [i, s] of statements.entries()) {
      try {
        checkReadOnly(s);
      } catch (err) {
        return { statements: statements.length, results: [], error: failed(i, err) };
      }
    }
    const results: ConsoleResult[] = [];
    for (const [i, s] of statements.entries()) {
      try {
        results.push(await this.run(s));
      } catch (err) {
        return { statements: statements.length, results, error: failed(i, err) };
      }
    }
    return { statements: statements.length, results };
  }

  async run(statement: string): Promise<ConsoleResult> {
    const tables = await this.tables();
    let checked = checkReadOnly(statement);
    const listing = listsTables(checked.body);
    if (listing) {
      checked = {
        kind: 'query',
        body: `SELECT table_name AS name, delta_path AS path, layer, delta_version AS version, delta_rows AS "rows" FROM ${CONSOLE_TABLES}`,
      };
    }
    const byView = new Map(tables.map((t) => [t.view, t.path]));
    const catalogRewrite = rewriteCatalog(checked.body);
    if (listing) catalogRewrite.uses.add('tables');
    if (catalogRewrite.uses.size > 0) await this.writeCatalog(tables, catalogRewrite.uses.has('columns'));
    const rewritten = rewriteTimeTravel(catalogRewrite.sql, new Set(byView.keys()));
    const shown = new Map(tables.map((t) => [t.path, t.partlyIn]));
    // A plain name reads the version every default read shows; a version asked for is read as it is.
    const refs: { path: string; version?: number | undefined; view: string; plain: boolean; subset?: FileSubset }[] = rewritten.refs.map((r) => {
      const path = byView.get(r.view)!;
      return { path, version: r.version ?? shown.get(path)?.version, view: r.view, plain: r.version === undefined };
    });
    const partlyIn = [...new Set(refs.filter((r) => r.plain).flatMap((r) => shown.get(r.path)?.note ?? []))];
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
        ref.plain ? t.kind === 'word' && t.text.toLowerCase() === ref.view : t.kind === 'quoted' && names.has(t.text.slice(1, -1).toLowerCase());
      const found = consoleConditions(
        text,
        isTable,
        snap.schema.fields.map((f) => f.name),
      );
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
        if (ref.plain && !ref.subset) this.engine.run(`CREATE OR REPLACE VIEW ${quoteIdent(ref.view)} AS SELECT * FROM ${quoteIdent(loaded[i]!.table)}`);
      }
      if (replaced) text = text.slice(0, replaced.start) + quoteIdent(loaded[0]!.table) + text.slice(replaced.end);
      const started = performance.now();
      const id = this.nextId++;
      const rowCount = this.execute(checked.kind, text, resultTable(id), [...tables.map((t) => t.view), ...this.files.keys()]);
      this.keep(id);
      return {
        id,
        statement,
        columns: describe(this.engine, resultTable(id)),
        rows: gridOf(this.engine, resultTable(id), CONSOLE_ROWS).rows,
        rowCount,
        truncated: rowCount > CONSOLE_ROWS,
        sql: text,
        ms: Math.round(performance.now() - started),
        tables: [...new Set(loaded.map((t) => t.table))],
        files: refs.map((r, i) => ({
          table: versionTable(r.view, snapshots[i]!.version),
          read: loaded[i]!.files,
          ...pruned[i]!,
          text: describePruning(pruned[i]!),
        })),
        partlyIn,
      };
    });
  }

  /**
   * A CSV, Parquet or JSON file as a table the console can query, `file_<name>` (replaced when a
   * file of that name comes again). Parquet through parquet-wasm; CSV and JSON read in TypeScript.
   */
  attachFile(fileName: string, bytes: Uint8Array): ConsoleFile {
    const view = fileViewName(fileName);
    const lower = fileName.toLowerCase();
    if (lower.endsWith('.parquet')) {
      let ipc: Uint8Array;
      try {
        ipc = decodeParquet(bytes);
      } catch (err) {
        throw new FileViewError(`${fileName} is not a Parquet file this page can read: ${(err as Error).message}`);
      }
      try {
        this.engine.insertIPC(SCRATCH, ipc);
        this.engine.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(view)} AS SELECT * FROM ${SCRATCH}`);
      } finally {
        this.engine.run(`DROP TABLE IF EXISTS ${SCRATCH}`);
      }
    } else if (/\.(csv|json|jsonl|ndjson)$/.test(lower)) {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      const table = lower.endsWith('.csv') ? csvTable(text, fileName) : jsonTable(text, fileName);
      const lit = (v: Cell) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v));
      this.engine.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(view)} (${table.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
      for (let i = 0; i < table.rows.length; i += 500) {
        const rows = table.rows.slice(i, i + 500).map((r) => `(${r.map(lit).join(', ')})`);
        this.engine.run(`INSERT INTO ${quoteIdent(view)} VALUES ${rows.join(', ')}`);
      }
    } else {
      throw new FileViewError(`${fileName}: the console queries .csv, .parquet, .json, .jsonl and .ndjson files`);
    }
    const file: ConsoleFile = { view, file: fileName, columns: describe(this.engine, view), rows: count(this.engine, view) };
    this.files.set(view, file);
    return file;
  }

  /** Rows `offset`… of result `id`, sorted by one of its columns when asked. */
  page(id: number, offset: number, limit: number, sort?: ConsoleSort): ConsolePage {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ConsoleError(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
    if (!Number.isInteger(offset) || offset < 0) throw new ConsoleError(`offset must be a whole number ≥ 0, got ${offset}`);
    const table = this.result(id);
    const rowCount = count(this.engine, table);
    return { id, offset, rowCount, ...gridOf(this.engine, table, limit, offset, this.orderBy(table, sort)) };
  }

  /** Result `id` whole, in its sort order: CSV (RFC 4180, header first) or Parquet with DuckDB's types. */
  download(id: number, format: 'csv' | 'parquet', sort?: ConsoleSort): Download {
    const table = this.result(id);
    const order = this.orderBy(table, sort);
    if (format === 'parquet') {
      return {
        fileName: `result-${id}.parquet`,
        bytes: encodeParquet(this.engine.queryIPC(`SELECT * FROM ${quoteIdent(table)}${order ? ` ORDER BY ${order}` : ''}`)),
      };
    }
    const grid = gridOf(this.engine, table, Math.max(1, count(this.engine, table)), 0, order);
    const cell = (v: string | null) => (v === null ? '' : /[",\r\n]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v);
    const lines = [grid.columns.map((c) => cell(c.name)).join(','), ...grid.rows.map((r) => r.map(cell).join(','))];
    return { fileName: `result-${id}.csv`, bytes: new TextEncoder().encode(`${lines.join('\r\n')}\r\n`) };
  }

  private result(id: number): string {
    if (!this.kept.includes(id)) throw new ConsoleError(`result ${id} is no longer kept (the console keeps the last ${KEEP_RESULTS}): run its statement again`);
    return resultTable(id);
  }

  private orderBy(table: string, sort: ConsoleSort | undefined): string {
    if (!sort) return '';
    const columns = describe(this.engine, table);
    const column = columns[sort.column];
    if (!column) throw new ConsoleError(`the result has ${columns.length} columns; there is no column ${sort.column + 1} to sort by`);
    return `${quoteIdent(column.name)} ${sort.descending ? 'DESC' : 'ASC'} NULLS LAST, rowid`;
  }

  private keep(id: number): void {
    this.kept.push(id);
    while (this.kept.length > KEEP_RESULTS) this.engine.run(`DROP TABLE IF EXISTS ${quoteIdent(resultTable(this.kept.shift()!))}`);
  }

  private async tables(): Promise<TableSummary[]> {
    return [...(await this.lakeTables()), ...(await this.catalog.listMounted())];
  }

  /** The console's catalog relations, from the logs (no data read): what SHOW TABLES and information_schema show. */
  private async writeCatalog(tables: readonly TableSummary[], columns: boolean): Promise<void> {
    const lit = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`);
    this.engine.run(
      `CREATE OR REPLACE TEMP TABLE ${CONSOLE_TABLES} (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR, ` +
        'layer VARCHAR, delta_path VARCHAR, delta_version BIGINT, delta_rows BIGINT)',
    );
    const rows = [
      ...tables.map(
        (t) =>
          `('lake', 'main', ${lit(t.view)}, 'BASE TABLE', ${lit(t.layer)}, ${lit(t.path)}, ${t.partlyIn?.version ?? t.version}, ${lit(t.partlyIn ? t.partlyIn.rows : t.rows)})`,
      ),
      ...[...this.files.values()].map((f) => `('temp', 'main', ${lit(f.view)}, 'LOCAL TEMPORARY', 'file', ${lit(f.file)}, NULL, ${f.rows})`),
    ];
    if (rows.length > 0) this.engine.run(`INSERT INTO ${CONSOLE_TABLES} VALUES ${rows.join(', ')}`);
    if (!columns) return;
    this.engine.run(
      `CREATE OR REPLACE TEMP TABLE ${CONSOLE_COLUMNS} (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ` +
        'ordinal_position INTEGER, data_type VARCHAR, is_nullable VARCHAR)',
    );
    const columnRows: string[] = [];
    for (const t of tables) {
      const details = await this.catalog.details(t.path);
      details.schema.forEach((c, i) => {
        columnRows.push(`('lake', 'main', ${lit(t.view)}, ${lit(c.name)}, ${i + 1}, ${lit(c.type)}, ${lit(c.nullable ? 'YES' : 'NO')})`);
      });
    }
    for (const f of this.files.values()) {
      f.columns.forEach((c, i) => {
        columnRows.push(`('temp', 'main', ${lit(f.view)}, ${lit(c.name)}, ${i + 1}, ${lit(c.type)}, 'YES')`);
      });
    }
    if (columnRows.length > 0) this.engine.run(`INSERT INTO ${CONSOLE_COLUMNS} VALUES ${columnRows.join(', ')}`);
  }

  /** The statement's rows into `into` (a temporary table); how many. */
  private execute(kind: StatementKind, sql: string, into: string, views: readonly string[]): number {
    if (kind === 'query') {
      // As the body of CREATE TABLE … AS, the statement can only read: DuckDB's grammar takes nothing else there.
      this.attempt(sql, 1, views, () => this.engine.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(into)} AS\n${sql}`));
    } else {
      // DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA: read-only by kind, checked by the guard.
      const ipc = this.attempt(sql, 0, views, () => this.engine.queryIPC(sql));
      try {
        this.engine.insertIPC(SCRATCH, ipc);
        this.engine.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(into)} AS SELECT * FROM ${SCRATCH}`);
      } finally {
        this.engine.run(`DROP TABLE IF EXISTS ${SCRATCH}`);
      }
    }
    return count(this.engine, into);
  }

  /** DuckDB's own message, made right for the console, its line numbers counted from the user's first line. */
  private attempt<T>(sql: string, linesBefore: number, views: readonly string[], fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      let message = cause instanceof Error ? cause.message : String(cause);
      if (linesBefore > 0) message = message.replace(/LINE (\d+):/g, (_m, n: string) => `LINE ${Math.max(1, Number(n) - linesBefore)}:`);
      throw new ConsoleError(consoleMessage(message.trim(), views), sql);
    }
  }
}

function resultTable(id: number): string {
  return `console_result_${id}`;
}

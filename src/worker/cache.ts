import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import type { Add } from '../delta/actions.ts';
import type { Snapshot } from '../delta/snapshot.ts';
import type { Storage } from '../storage/types.ts';
import { viewName, type Catalog } from './catalog.ts';

/**
 * The in-memory DuckDB database (`lake`) that every read of table data goes through: the
 * explorer, the dashboard, downloads and the SQL console. Each (table, version) is scanned from
 * its Parquet files once, into a table named like `silver_events@v3`, and kept until a run or a
 * reset changes the lakehouse, or until it is the least recently used beyond `limit`.
 * The pipeline works in DuckDB's default database, so nothing here can collide with it.
 */

export const LAKE_DB = 'lake';

/** Open `engine`'s connection onto the `lake` database, or another one (`db`), created on first use. */
export function useLake(engine: Engine, db: string = LAKE_DB): Engine {
  engine.run(`ATTACH IF NOT EXISTS ':memory:' AS ${quoteIdent(db)}; USE ${quoteIdent(db)}`);
  return engine;
}

/** The table holding `view` at `version`, e.g. `silver_events@v3`. */
export function versionTable(view: string, version: number): string {
  return `${view}@v${version}`;
}

export interface Materialised {
  path: string;
  version: number;
  /** the DuckDB table in `lake`, unquoted */
  table: string;
  rows: number;
  snapshot: Snapshot;
  /** the data files scanned into `table` (all of the version's, unless a subset was asked for) */
  files: number;
}

/**
 * Only some data files of a version (file skipping, src/delta/skipping.ts): they are scanned
 * into a table of their own, `silver_events@v3~<hash of the file list>`, cached like any other.
 */
export interface FileSubset {
  paths: ReadonlySet<string>;
}

export interface TableRef {
  path: string;
  version?: number | undefined;
  subset?: FileSubset | undefined;
}

interface Entry {
  ready: Promise<Materialised>;
  loaded: boolean;
  lastUsed: number;
  pins: number;
}

export class TableCache {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private generation = 0;

  constructor(
    private readonly engine: Engine,
    private readonly storage: Storage,
    private readonly catalog: Catalog,
    private readonly limit = 16,
    /** the database `engine` uses (see useLake) */
    private readonly db: string = LAKE_DB,
  ) {}

  /**
   * Run `fn` with `path` at `version` (default: the latest) loaded; the table is not evicted
   * while `fn` runs.
   */
  async use<T>(path: string, version: number | undefined, fn: (t: Materialised) => T | Promise<T>, subset?: FileSubset): Promise<T> {
    return this.useMany([{ path, version, subset }], ([t]) => fn(t!));
  }

  async useMany<T>(refs: TableRef[], fn: (ts: Materialised[]) => T | Promise<T>): Promise<T> {
    const entries: Entry[] = [];
    try {
      const loaded: Materialised[] = [];
      for (const ref of refs) {
        const snapshot = await this.catalog.snapshot(ref.path, ref.version);
        const entry = this.entry(snapshot, ref.subset);
        entry.pins++;
        entries.push(entry);
        loaded.push(await entry.ready);
      }
      this.evict();
      return await fn(loaded);
    } finally {
      for (const e of entries) e.pins--;
    }
  }

  /** Whether `snapshot`'s version (all its files) is loaded and ready to use. */
  loaded(snapshot: Snapshot): boolean {
    return this.entries.get(versionTable(viewName(snapshot.table), snapshot.version))?.loaded === true;
  }

  /** Drop every cached table and view of `lake` (after a run or a reset). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    const objects = this.engine.rows<{ name: string; kind: string }>(
      `SELECT table_name AS name, table_type AS kind FROM information_schema.tables WHERE table_catalog = '${this.db}' ORDER BY table_type DESC`,
    );
    for (const o of objects) this.engine.run(`DROP ${o.kind === 'VIEW' ? 'VIEW' : 'TABLE'} IF EXISTS ${quoteIdent(o.name)}`);
  }

  private entry(snapshot: Snapshot, subset?: FileSubset): Entry {
    const keep = subset && ((a: Add) => subset.paths.has(a.path));
    const files = keep ? snapshot.files.filter(keep).length : snapshot.files.length;
    const key = versionTable(viewName(snapshot.table), snapshot.version) + (subset ? `~${subsetHash(subset)}` : '');
    const existing = this.entries.get(key);
    if (existing) {
      existing.lastUsed = ++this.clock;
      return existing;
    }
    const generation = this.generation;
    const entry: Entry = {
      loaded: false,
      lastUsed: ++this.clock,
      pins: 0,
      ready: (async () => {
        const changed = () => new Error(`the lakehouse changed while ${snapshot.table} was loading; try again`);
        let rows: number;
        try {
          rows = await scanIntoEngine(this.engine, this.storage, snapshot, key, keep ? { fileFilter: keep } : {});
        } catch (err) {
          throw generation === this.generation ? err : changed();
        }
        if (generation !== this.generation) {
          // Invalidated while it loaded: keep nothing behind.
          this.engine.run(`DROP TABLE IF EXISTS ${quoteIdent(key)}`);
          throw changed();
        }
        return { path: snapshot.table, version: snapshot.version, table: key, rows, snapshot, files };
      })(),
    };
    this.entries.set(key, entry);
    entry.ready.then(
      () => (entry.loaded = true),
      () => {},
    );
    // A failed load is not kept: the next use tries again.
    entry.ready.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  private evict(): void {
    const idle = [...this.entries.entries()].filter(([, e]) => e.pins === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key] of idle.slice(0, Math.max(0, this.entries.size - this.limit))) {
      this.entries.delete(key);
      this.engine.run(`DROP TABLE IF EXISTS ${quoteIdent(key)}`);
    }
  }
}

/** A short name for a set of files (FNV-1a over the sorted paths). */
function subsetHash(subset: FileSubset): string {
  let h = 0x811c9dc5;
  for (const ch of [...subset.paths].sort().join('\n')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

import { LOG_DIR, commitFileName, decodeDataPath, type Action } from '../delta/actions.ts';
import { loadHistory, loadSnapshot, numRecords, readCommit, tryListLog, type HistoryEntry, type LogListing, type Snapshot, where } from '../delta/snapshot.ts';
import { logicalPartitionValues } from '../delta/mapping.ts';
import { typeName, type DeltaType } from '../delta/schema.ts';
import { GOLD_TABLES, TABLES, goldTable } from '../pipeline/tables.ts';
import { describeInputs } from '../pipeline/lineage.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import type { CommitView, Layer, TableDetails, TableSummary } from './protocol.ts';

/**
 * What the page shows about tables without reading a single row: everything here comes from the
 * `_delta_log` (commits, checkpoints, the `stats` of each `add`), so it stays fast however much
 * data the lakehouse holds.
 */

/** The lakehouse's tables, in lineage order. */
export const KNOWN_TABLES: readonly string[] = [TABLES.bronze, TABLES.silver, TABLES.rejects, TABLES.quality, ...GOLD_TABLES.map(goldTable)];

/** The DuckDB name of a table in the SQL console: its path with '_' for '/' (silver/events → silver_events). */
export function viewName(path: string): string {
  return path.replace(/[^A-Za-z0-9_]+/g, '_');
}

export function layerOf(path: string): Layer {
  const top = path.split('/')[0];
  return top === 'bronze' || top === 'gold' || top === 'opened' ? top : 'silver';
}

export class Catalog {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly histories = new Map<string, Promise<HistoryEntry[]>>();
  private listing_: Promise<TableSummary[]> | undefined;
  /** opened tables mounted into this catalog's storage (see opened.ts), served beside `known` */
  private readonly mounted = new Set<string>();

  /** `known`: the table paths it serves (default: the lakehouse's; one opened table: its root). */
  constructor(
    private readonly storage: Storage,
    private readonly known: readonly string[] = KNOWN_TABLES,
  ) {}

  /** The lakehouse's tables that exist, at their latest versions. Callers at the same moment share one listing. */
  list(): Promise<TableSummary[]> {
    if (!this.listing_) {
      this.listing_ = this.listNow();
      const clear = () => (this.listing_ = undefined);
      this.listing_.then(clear, clear);
    }
    return this.listing_;
  }

  private async listNow(): Promise<TableSummary[]> {
    const found = await Promise.all(
      this.known.map(async (path) => {
        const listing = await this.listing(path);
        return listing ? this.summary(path, await this.snapshot(path, undefined, listing), listing) : undefined;
      }),
    );
    return found.filter((t): t is TableSummary => t !== undefined);
  }

  /** `path` has no Delta log: an opened table lost it (or never had one), a lakehouse table is not written yet. */
  private missing(path: string): Error {
    const at = where(this.storage, path);
    return this.mounted.has(path)
      ? new Error(`the opened table ${path} has no _delta_log at ${at}: it is not a Delta table, or its log was left out of the folder or .zip`)
      : new Error(`table ${path} does not exist yet: run the pipeline first (no _delta_log at ${at})`);
  }

  /** Whether `path` is one of the lakehouse's tables or a mounted one; throws a clear error otherwise. */
  checkPath(path: string): string {
    if (!this.known.includes(path) && !this.mounted.has(path)) {
      throw new Error(`there is no table ${JSON.stringify(path)}; the tables are ${[...this.known, ...this.mounted].join(', ')}`);
    }
    return path;
  }

  /** Serve the opened table at `path` (already mounted in the storage); its cached versions are forgotten. */
  mount(path: string): void {
    this.forget(path);
    this.mounted.add(path);
  }

  unmount(path: string): void {
    this.forget(path);
    this.mounted.delete(path);
  }

  /** The opened tables, at their latest versions. */
  async listMounted(): Promise<TableSummary[]> {
    return Promise.all(
      [...this.mounted].map(async (path) => {
        const listing = (await this.listing(path))!;
        return this.summary(path, await this.snapshot(path, undefined, listing), listing);
      }),
    );
  }

  private forget(path: string): void {
    for (const key of [...this.snapshots.keys()]) if (key.startsWith(`${path}@`)) this.snapshots.delete(key);
    for (const key of [...this.histories.keys()]) if (key.startsWith(`${path}@`)) this.histories.delete(key);
  }

  /** The snapshot of `path` at `version` (default: the latest), cached: a version never changes. */
  async snapshot(path: string, version?: number, listing?: LogListing): Promise<Snapshot> {
    this.checkPath(path);
    const known = version === undefined ? undefined : this.snapshots.get(`${path}@${version}`);
    if (known) return known;
    const log = listing ?? (await this.listing(path));
    if (!log) throw this.missing(path);
    const v = version ?? log.latest;
    const key = `${path}@${v}`;
    let snap = this.snapshots.get(key);
    if (!snap) {
      snap = await loadSnapshot(this.storage, path, v, log);
      this.snapshots.set(key, snap);
    }
    return snap;
  }

  /** Every commit still in the log, newest first; cached per latest version, as commits never change. */
  async history(path: string, listing?: LogListing): Promise<HistoryEntry[]> {
    const log = listing ?? (await this.listing(this.checkPath(path)));
    if (!log) return [];
    const key = `${path}@${log.latest}`;
    let history = this.histories.get(key);
    if (!history) {
      history = loadHistory(this.storage, path);
      this.histories.set(key, history);
      history.catch(() => this.histories.delete(key));
    }
    return history;
  }

  async details(path: string): Promise<TableDetails> {
    const listing = await this.listing(this.checkPath(path));
    if (!listing) throw this.missing(path);
    const snap = await this.snapshot(path, undefined, listing);
    const history = await this.history(path, listing);
    const oldestCheckpoint = Math.min(...listing.checkpoints.keys());
    const versions = [...new Set([...listing.commits.keys(), ...listing.checkpoints.keys()])]
      .filter((v) => listing.commits.has(v) || v >= oldestCheckpoint)
      .sort((a, b) => b - a);
    const m = snap.metadata;
    return {
      ...this.summary(path, snap, listing),
      name: m.name ?? null,
      description: m.description ?? null,
      id: m.id,
      createdTime: m.createdTime ?? null,
      partitionColumns: m.partitionColumns,
      protocol: { minReaderVersion: snap.protocol.minReaderVersion, minWriterVersion: snap.protocol.minWriterVersion },
      configuration: m.configuration,
      schema: snap.schema.fields.map((f) => ({ name: f.name, type: describeType(f.type), nullable: f.nullable })),
      dataFiles: snap.files.map((a) => ({
        path: a.path,
        size: a.size,
        rows: numRecords(a),
        deletedRows: a.deletionVector?.cardinality ?? 0,
        modified: a.modificationTime,
        partitionValues: logicalPartitionValues(snap, a),
      })),
      history: history.map((h) => ({
        version: h.version,
        timestamp: h.timestamp,
        operation: h.operation,
        parameters: Object.fromEntries(Object.entries(h.operationParameters).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
        filesAdded: h.filesAdded,
        filesRemoved: h.filesRemoved,
        bytesAdded: h.bytesAdded,
        rowsAdded: h.rowsAdded,
        rowsRemoved: h.rowsRemoved,
        computedFrom: describeInputs(h.operationParameters) ?? null,
      })),
      checkpoints: [...listing.checkpoints.keys()].sort((a, b) => a - b),
      versions,
      unreadable: await this.unreadable(path, versions, history, listing),
    };
  }

  /**
   * The versions among `versions` whose data files are not all there any more (VACUUM deleted
   * them): time travel to them would fail. Checked version by version only when the table holds
   * fewer data files than its commits added; not cached, as a VACUUM changes it without a commit.
   */
  private async unreadable(path: string, versions: readonly number[], history: readonly HistoryEntry[], listing: LogListing): Promise<number[]> {
    const logDir = `${joinPath(path, LOG_DIR)}/`;
    const present = new Set((await this.storage.list(path)).filter((f) => !f.path.startsWith(logDir)).map((f) => f.path));
    if (present.size >= history.reduce((n, h) => n + h.filesAdded, 0)) return [];
    const out: number[] = [];
    for (const v of versions) {
      const snap = await this.snapshot(path, v, listing).catch(() => undefined);
      if (!snap || snap.files.some((a) => !present.has(joinPath(path, decodeDataPath(a.path))))) out.push(v);
    }
    return out;
  }

  /** The actions of one commit, as written in its log file. */
  async commit(path: string, version: number): Promise<CommitView> {
    this.checkPath(path);
    if (!Number.isInteger(version) || version < 0) throw new Error(`a version is a whole number ≥ 0, got ${version}`);
    const listing = await this.listing(path);
    if (!listing?.commits.has(version)) {
      const latest = listing ? `; the latest is ${listing.latest}` : '';
      throw new Error(`table ${path} has no commit file for version ${version} in its log${latest}`);
    }
    const actions: Action[] = await readCommit(this.storage, path, version);
    return {
      path,
      version,
      file: joinPath(path, LOG_DIR, commitFileName(version)),
      actions: actions.map((a) => ({ kind: Object.keys(a)[0] ?? '?', json: JSON.stringify(a, null, 2) })),
    };
  }

  /** Forget cached snapshots (after a reset, versions are reused). */
  clear(): void {
    this.snapshots.clear();
    this.histories.clear();
  }

  private listing(path: string): Promise<LogListing | undefined> {
    return tryListLog(this.storage, path);
  }

  private summary(path: string, snap: Snapshot, listing: LogListing): TableSummary {
    return {
      path,
      view: viewName(path),
      layer: layerOf(path),
      version: snap.version,
      rows: rowsOf(snap),
      files: snap.files.length,
      bytes: snap.files.reduce((s, a) => s + (a.size ?? 0), 0),
      updated: (listing.commits.get(snap.version) ?? listing.checkpoints.get(snap.version)?.[0]?.files[0])?.modificationTime ?? 0,
    };
  }
}

/** A version's rows, from its files' stats (no data read); null when a file has none. */
export function rowsOf(snap: Snapshot): number | null {
  const counts = snap.files.map(numRecords);
  return counts.some((n) => n === null) ? null : counts.reduce<number>((s, n) => s + n!, 0);
}

/** A Delta type as one readable word: `string`, `timestamp`, `array<string>`, `struct<…>`. */
export function describeType(type: DeltaType): string {
  if (typeof type === 'string') return type;
  if (type.type === 'array') return `array<${describeType(type.elementType)}>`;
  if (type.type === 'map') return `map<${describeType(type.keyType)}, ${describeType(type.valueType)}>`;
  if (type.type === 'struct') return `struct<${type.fields.map((f) => `${f.name}: ${describeType(f.type)}`).join(', ')}>`;
  return typeName(type);
}

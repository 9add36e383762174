import { isNotFound, joinPath, type FileInfo, type Storage } from '../storage/types.ts';
import {
  LOG_DIR, checkpointFileName, commitFileName, isAdd, isCommitInfo, isDomainMetadata, isMetaData, isProtocol, isRemove, isTxn,
  parseCommit, parseLogFileName, type Action, type Add, type CommitInfo, type DomainMetadata, type Metadata, type Protocol,
  type Remove, type Txn,
} from './actions.ts';
import { readCheckpointActions } from './checkpoint.ts';
import { checkFileReadable, checkReadable } from './protocol.ts';
import { parseSchema, type DeltaSchema } from './schema.ts';

/** The state of a table at one version. */
export interface Snapshot {
  table: string;
  version: number;
  protocol: Protocol;
  metadata: Metadata;
  schema: DeltaSchema;
  /** live data files, in log order */
  files: Add[];
  /** removes still in the log's memory (for checkpoints and VACUUM) */
  tombstones: Remove[];
  /** the latest `txn` per application id */
  txns: Map<string, Txn>;
  /** the metadata domains that are set (a `removed` one is dropped), by domain name */
  domainMetadata: Map<string, DomainMetadata>;
}

export interface LogListing {
  commits: Map<number, FileInfo>;
  /** classic single-file checkpoints, by version */
  checkpoints: Map<number, FileInfo>;
  latest: number;
}

const decoder = new TextDecoder();

export async function listLog(storage: Storage, table: string): Promise<LogListing> {
  const dir = joinPath(table, LOG_DIR);
  const files = await storage.list(dir);
  const commits = new Map<number, FileInfo>();
  const checkpoints = new Map<number, FileInfo>();
  for (const f of files) {
    const name = f.path.slice(dir.length + 1);
    if (name.includes('/')) continue;
    const parsed = parseLogFileName(name);
    if (parsed?.kind === 'commit') commits.set(parsed.version, f);
    else if (parsed?.kind === 'checkpoint') checkpoints.set(parsed.version, f);
  }
  if (commits.size === 0 && checkpoints.size === 0) {
    throw new Error(`delta: ${where(storage, table)} is not a Delta table (it has no _delta_log commits)`);
  }
  const latest = Math.max(...commits.keys(), ...checkpoints.keys());
  return { commits, checkpoints, latest };
}

export async function readCommit(storage: Storage, table: string, version: number): Promise<Action[]> {
  const path = joinPath(table, LOG_DIR, commitFileName(version));
  return parseCommit(decoder.decode(await storage.read(path)), path);
}

/** Replay the log up to `version` (default: the latest), starting from the newest usable checkpoint. */
export async function loadSnapshot(storage: Storage, table: string, version?: number, listing?: LogListing): Promise<Snapshot> {
  const log = listing ?? (await listLog(storage, table));
  const target = version ?? log.latest;
  if (!Number.isInteger(target) || target < 0) throw new Error(`delta: version must be a whole number ≥ 0, got ${version}`);
  if (target > log.latest) throw new Error(`delta: ${where(storage, table)} has no version ${target}; the latest is ${log.latest}`);

  const candidates = [...log.checkpoints.keys()].filter((v) => v <= target).sort((a, b) => b - a);
  for (const cp of [...candidates, -1]) {
    let start: Action[] = [];
    if (cp >= 0) {
      try {
        start = readCheckpointActions(await storage.read(joinPath(table, LOG_DIR, checkpointFileName(cp))));
      } catch {
        continue; // an unreadable checkpoint is skipped; an older one, or the commits, still hold the state
      }
    }
    const missing = firstMissing(log, cp + 1, target);
    if (missing !== undefined) {
      if (cp >= 0) continue;
      throw new Error(`delta: ${where(storage, table)} cannot be read at version ${target}: commit ${missing} is missing from the log and no checkpoint covers it`);
    }
    const state = new Replay();
    state.apply(start);
    for (let v = cp + 1; v <= target; v++) state.apply(await readCommit(storage, table, v));
    return state.snapshot(table, target);
  }
  throw new Error(`delta: ${where(storage, table)} cannot be read at version ${target}`);
}

/** A table's location for messages: the storage root joined with the table's folder. */
export function where(storage: Storage, table: string): string {
  return table ? `${storage.description.replace(/\/$/, '')}/${table}` : storage.description;
}

function firstMissing(log: LogListing, from: number, to: number): number | undefined {
  for (let v = from; v <= to; v++) if (!log.commits.has(v)) return v;
  return undefined;
}

class Replay {
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  readonly files = new Map<string, Add>();
  readonly tombstones = new Map<string, Remove>();
  readonly txns = new Map<string, Txn>();
  readonly domains = new Map<string, DomainMetadata>();

  apply(actions: Action[]): void {
    for (const a of actions) {
      if (isAdd(a)) {
        this.files.delete(a.add.path);
        this.files.set(a.add.path, a.add);
        this.tombstones.delete(a.add.path);
      } else if (isRemove(a)) {
        this.files.delete(a.remove.path);
        this.tombstones.set(a.remove.path, a.remove);
      } else if (isMetaData(a)) this.metadata = a.metaData;
      else if (isProtocol(a)) this.protocol = a.protocol;
      else if (isTxn(a)) this.txns.set(a.txn.appId, a.txn);
      else if (isDomainMetadata(a)) {
        if (a.domainMetadata.removed) this.domains.delete(a.domainMetadata.domain);
        else this.domains.set(a.domainMetadata.domain, a.domainMetadata);
      }
    }
  }

  snapshot(table: string, version: number): Snapshot {
    if (!this.protocol) throw new Error(`delta: ${table} has no protocol action up to version ${version}`);
    if (!this.metadata) throw new Error(`delta: ${table} has no metaData action up to version ${version}`);
    checkReadable(this.protocol, this.metadata);
    const files = [...this.files.values()];
    files.forEach(checkFileReadable);
    return {
      table,
      version,
      protocol: this.protocol,
      metadata: this.metadata,
      schema: parseSchema(this.metadata.schemaString),
      files,
      tombstones: [...this.tombstones.values()],
      txns: this.txns,
      domainMetadata: this.domains,
    };
  }
}

export interface HistoryEntry {
  version: number;
  timestamp: number;
  operation: string;
  operationParameters: Record<string, unknown>;
  operationMetrics: Record<string, unknown>;
  filesAdded: number;
  filesRemoved: number;
  bytesAdded: number;
  /** rows added, from the `stats` of the added files (null when a file has no stats) */
  rowsAdded: number | null;
  /** rows removed, from the stats of the files removed (null when unknown) */
  rowsRemoved: number | null;
  actions: Action[];
}

/** One entry per commit still in the log, newest first. */
export async function loadHistory(storage: Storage, table: string): Promise<HistoryEntry[]> {
  const log = await listLog(storage, table);
  const versions = [...log.commits.keys()].sort((a, b) => a - b);
  // Rows a remove takes away are known from the stats of the add that brought the file in.
  const rowsOfFile = new Map<string, number | null>();
  const out: HistoryEntry[] = [];
  for (const v of versions) {
    let actions: Action[];
    try {
      actions = await readCommit(storage, table, v);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const info: CommitInfo = actions.find(isCommitInfo)?.commitInfo ?? {};
    const adds = actions.filter(isAdd).map((a) => a.add);
    const removes = actions.filter(isRemove).map((a) => a.remove);
    const sum = (counts: (number | null | undefined)[]): number | null =>
      counts.reduce<number | null>((s, n) => (s === null || n === null || n === undefined ? null : s + n), 0);
    const rowsRemoved = sum(removes.map((r) => rowsOfFile.get(r.path)));
    const rowsAdded = sum(adds.map(numRecords));
    for (const add of adds) rowsOfFile.set(add.path, numRecords(add));
    out.push({
      version: v,
      timestamp: typeof info.timestamp === 'number' ? info.timestamp : log.commits.get(v)!.modificationTime,
      operation: info.operation ?? 'UNKNOWN',
      operationParameters: info.operationParameters ?? {},
      operationMetrics: info.operationMetrics ?? {},
      filesAdded: adds.length,
      filesRemoved: removes.length,
      bytesAdded: adds.reduce((s, a) => s + (a.size ?? 0), 0),
      rowsAdded,
      rowsRemoved,
      actions,
    });
  }
  return out.reverse();
}

export function numRecords(add: Add): number | null {
  if (!add.stats) return null;
  try {
    const n = (JSON.parse(add.stats) as { numRecords?: unknown }).numRecords;
    return typeof n === 'number' ? n : null;
  } catch {
    return null;
  }
}

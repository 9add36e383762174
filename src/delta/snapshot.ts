import { DeltaError, NotADeltaTableError, VersionNotFoundError } from './errors.ts';
import { isNotFound, joinPath, type FileInfo, type Storage } from '../storage/types.ts';
import {
  LOG_DIR,
  commitFileName,
  isAdd,
  isCommitInfo,
  isDomainMetadata,
  isMetaData,
  isProtocol,
  isRemove,
  isTxn,
  logicalFileKey,
  parseCommit,
  parseLogFileName,
  type Action,
  type Add,
  type CommitInfo,
  type DomainMetadata,
  type Metadata,
  type Protocol,
  type Remove,
  type Txn,
} from './actions.ts';
import { CheckpointUnusableError, readCheckpoint, type CheckpointRef } from './checkpoint.ts';
import { checkMappingMetadata, mappingMode } from './mapping.ts';
import { checkActionPaths, tableLocation } from './paths.ts';
import { actionProblem } from './validate.ts';
import { checkFileReadable, checkReadable, UnsupportedFeatureError } from './protocol.ts';
import { parseSchema, type DeltaSchema } from './schema.ts';

/** The state of a table at one version. */
export interface Snapshot {
  /** the table's folder in its storage */
  table: string;
  /** the table as messages name it: where its storage is, and the folder */
  name: string;
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
  /** the latest `domainMetadata` per domain, without the removed ones */
  domainMetadata: Map<string, DomainMetadata>;
}

export interface LogListing {
  commits: Map<number, FileInfo>;
  /** complete checkpoints by version (one version may have several, of different kinds), from file names alone */
  checkpoints: Map<number, CheckpointRef[]>;
  /** multi-part checkpoints with parts missing: never read */
  incomplete: CheckpointRef[];
  latest: number;
}

const decoder = new TextDecoder();

export async function listLog(storage: Storage, table: string): Promise<LogListing> {
  const dir = joinPath(table, LOG_DIR);
  const files = await storage.list(dir);
  const commits = new Map<number, FileInfo>();
  const found = new Map<string, CheckpointRef>();
  for (const f of files) {
    const name = f.path.slice(dir.length + 1);
    if (name.includes('/')) continue;
    const parsed = parseLogFileName(name);
    if (parsed?.kind === 'commit') commits.set(parsed.version, f);
    else if (parsed?.kind === 'checkpoint') found.set(name, { version: parsed.version, kind: 'classic', files: [f] });
    else if (parsed?.kind === 'v2-checkpoint') found.set(name, { version: parsed.version, kind: 'uuid', files: [f] });
    else if (parsed?.kind === 'multipart-checkpoint') {
      const key = `${parsed.version}.${parsed.parts}`;
      const ref = found.get(key) ?? { version: parsed.version, kind: 'multipart', files: [], parts: parsed.parts };
      if (parsed.part >= 1 && parsed.part <= parsed.parts) ref.files[parsed.part - 1] = f;
      found.set(key, ref);
    }
  }
  const checkpoints = new Map<number, CheckpointRef[]>();
  const incomplete: CheckpointRef[] = [];
  const order = { classic: 0, uuid: 1, multipart: 2 };
  for (const ref of [...found.values()].sort((a, b) => order[a.kind] - order[b.kind])) {
    ref.files = ref.files.filter(Boolean);
    if (ref.kind === 'multipart' && ref.files.length !== ref.parts) incomplete.push(ref);
    else checkpoints.set(ref.version, [...(checkpoints.get(ref.version) ?? []), ref]);
  }
  if (commits.size === 0 && checkpoints.size === 0) {
    throw new NotADeltaTableError(`${where(storage, table)} is not a Delta table (it has no _delta_log commits)`);
  }
  const latest = Math.max(...commits.keys(), ...checkpoints.keys());
  return { commits, checkpoints, incomplete, latest };
}

/** The log of `table`, or undefined when the folder holds no table (no commit yet). */
export async function tryListLog(storage: Storage, table: string): Promise<LogListing | undefined> {
  try {
    return await listLog(storage, table);
  } catch (err) {
    if (err instanceof NotADeltaTableError) return undefined;
    throw err;
  }
}

export async function readCommit(storage: Storage, table: string, version: number): Promise<Action[]> {
  const file = joinPath(LOG_DIR, commitFileName(version));
  return parseCommit(
    decoder.decode(await storage.read(joinPath(table, file))),
    `version ${version} of ${where(storage, table)} cannot be read: its commit ${file}`,
  );
}

/** Neither a usable checkpoint nor the JSON commits rebuild a version. */
export class VersionUnreadableError extends DeltaError {
  static override readonly code = 'VERSION_UNREADABLE';
  override name = 'VersionUnreadableError';
}

/**
 * Replay the log up to `version` (default: the latest), starting from the newest usable checkpoint
 * at or below it. A checkpoint that cannot be read, or lacks parts or sidecars, is passed over for
 * an older one or the JSON commits; the table is refused only when nothing rebuilds the version.
 * The listing names every checkpoint already, so `_last_checkpoint` (a hint for stores that
 * list slowly, and possibly stale or corrupt) is not read.
 */
export async function loadSnapshot(storage: Storage, table: string, version?: number, listing?: LogListing): Promise<Snapshot> {
  const log = listing ?? (await listLog(storage, table));
  const target = version ?? log.latest;
  if (!Number.isInteger(target) || target < 0) throw new DeltaError(`version must be a whole number ≥ 0, got ${version}`);
  if (target > log.latest) throw new VersionNotFoundError(`${where(storage, table)} has no version ${target}; the latest is ${log.latest}`);

  const candidates = [...log.checkpoints.entries()]
    .filter(([v]) => v <= target)
    .sort(([a], [b]) => b - a)
    .flatMap(([, refs]) => refs);
  const passedOver: string[] = log.incomplete
    .filter((r) => r.version <= target)
    .map((r) => `checkpoint ${r.version} has ${r.files.length} of its ${r.parts} parts`);
  for (const cp of [...candidates, undefined]) {
    const from = cp ? cp.version + 1 : 0;
    const missing = firstMissing(log, from, target);
    if (missing !== undefined) {
      if (cp) continue;
      const why = passedOver.length ? ` (${passedOver.join('; ')})` : '';
      throw new VersionUnreadableError(
        `${where(storage, table)} cannot be read at version ${target}: commit ${missing} is missing from the log and no usable checkpoint covers it${why}`,
      );
    }
    let start: Action[] = [];
    if (cp) {
      try {
        start = await readCheckpoint(storage, table, cp);
        const problem = start.map((a) => actionProblem(a as Record<string, unknown>)).find((x) => x !== undefined);
        if (problem) throw new CheckpointUnusableError(cp.files.join(', '), `is malformed: ${problem}`);
      } catch (err) {
        if (!(err instanceof CheckpointUnusableError)) throw err;
        passedOver.push(err.message);
        continue;
      }
    }
    const paths = { table: where(storage, table), location: tableLocation(storage, table) };
    checkActionPaths(start, { ...paths, version: cp?.version ?? 0 });
    const state = new Replay();
    state.apply(start);
    for (let v = from; v <= target; v++) {
      const actions = await readCommit(storage, table, v);
      checkActionPaths(actions, { ...paths, version: v });
      state.apply(actions);
    }
    return state.snapshot(where(storage, table), table, target);
  }
  throw new DeltaError(`${where(storage, table)} cannot be read at version ${target}`);
}

/** A table's location for messages: the storage root joined with the table's folder. */
export function where(storage: Storage, table: string): string {
  if (storage.describe) return storage.describe(table);
  return table ? `${storage.description.replace(/\/$/, '')}/${table}` : storage.description;
}

function firstMissing(log: LogListing, from: number, to: number): number | undefined {
  for (let v = from; v <= to; v++) if (!log.commits.has(v)) return v;
  return undefined;
}

/**
 * Log replay. Logical files are keyed by path and deletion vector (`logicalFileKey`): a commit
 * that deletes rows of a file removes (path, old vector) and adds (path, new vector), in any order.
 */
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
        const key = logicalFileKey(a.add);
        this.files.delete(key);
        this.files.set(key, a.add);
        this.tombstones.delete(key);
      } else if (isRemove(a)) {
        const key = logicalFileKey(a.remove);
        this.files.delete(key);
        this.tombstones.set(key, a.remove);
      } else if (isMetaData(a)) this.metadata = { ...a.metaData, configuration: a.metaData.configuration ?? {} };
      else if (isProtocol(a)) this.protocol = a.protocol;
      else if (isTxn(a)) this.txns.set(a.txn.appId, a.txn);
      else if (isDomainMetadata(a)) {
        if (a.domainMetadata.removed) this.domains.delete(a.domainMetadata.domain);
        else this.domains.set(a.domainMetadata.domain, a.domainMetadata);
      }
    }
  }

  snapshot(name: string, table: string, version: number): Snapshot {
    if (!this.protocol) throw new DeltaError(`${name} is not a readable Delta table: its log has no protocol action up to version ${version}`);
    if (!this.metadata) throw new DeltaError(`${name} is not a readable Delta table: its log has no metaData action up to version ${version}`);
    const files = [...this.files.values()];
    try {
      checkReadable(this.protocol, this.metadata);
    } catch (err) {
      throw err instanceof UnsupportedFeatureError ? err.of(name) : err;
    }
    const paths = new Set<string>();
    for (const add of files) {
      checkFileReadable(add, name, version);
      // A valid log never has one data file live twice (with two deletion vectors): its rows would be read twice.
      if (paths.has(add.path)) {
        throw new DeltaError(`version ${version} of ${name} cannot be read: its log has data file ${add.path} live twice, with different deletion vectors`);
      }
      paths.add(add.path);
    }
    const schema = parseSchema(this.metadata.schemaString, `version ${version} of ${name} cannot be read: its schema`);
    checkMappingMetadata(schema.fields, mappingMode(this.protocol, this.metadata), `version ${version} of ${name}`);
    return {
      table,
      name,
      version,
      protocol: this.protocol,
      metadata: this.metadata,
      schema,
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
  /** rows added, from the `stats` of the added files less their deletion vectors (null when a file has no stats) */
  rowsAdded: number | null;
  /** rows removed, from the stats of the files removed (null when unknown) */
  rowsRemoved: number | null;
  actions: Action[];
}

/**
 * One entry per commit still in the log, newest first. Rows count the rows of logical files: a
 * file whose deletion vector changed (removed and added again in one commit, as DELETE, UPDATE and
 * MERGE do with deletion vectors) counts only the difference.
 */
export async function loadHistory(storage: Storage, table: string): Promise<HistoryEntry[]> {
  const log = await listLog(storage, table);
  const versions = [...log.commits.keys()].sort((a, b) => a - b);
  // Rows a remove takes away are known from the stats of the add that brought the logical file in.
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
    checkActionPaths(actions, { table: where(storage, table), version: v, location: tableLocation(storage, table) });
    const info: CommitInfo = actions.find(isCommitInfo)?.commitInfo ?? {};
    const adds = actions.filter(isAdd).map((a) => a.add);
    const removes = actions.filter(isRemove).map((a) => a.remove);
    const removedRows = new Map(removes.map((r) => [r.path, rowsOfFile.get(logicalFileKey(r))]));
    let rowsAdded: number | null = 0;
    let rowsRemoved: number | null = 0;
    const count = (added: number | null | undefined, removed: number | null | undefined): void => {
      rowsAdded = rowsAdded === null || added === null || added === undefined ? null : rowsAdded + added;
      rowsRemoved = rowsRemoved === null || removed === null || removed === undefined ? null : rowsRemoved + removed;
    };
    for (const add of adds) {
      const rows = numRecords(add);
      const before = removedRows.get(add.path);
      if (before !== undefined && before !== null && rows !== null) {
        removedRows.delete(add.path);
        count(Math.max(0, rows - before), Math.max(0, before - rows));
      } else count(rows, 0);
    }
    for (const rows of removedRows.values()) count(0, rows);
    for (const r of removes) rowsOfFile.delete(logicalFileKey(r));
    for (const add of adds) rowsOfFile.set(logicalFileKey(add), numRecords(add));
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

/** The rows of a logical file: its stats' `numRecords` less the rows its deletion vector deletes (null without stats). */
export function numRecords(add: Add): number | null {
  if (!add.stats) return null;
  try {
    const n = (JSON.parse(add.stats) as { numRecords?: unknown }).numRecords;
    return typeof n === 'number' ? n - (add.deletionVector?.cardinality ?? 0) : null;
  } catch {
    return null;
  }
}

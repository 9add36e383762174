/** The actions of the Delta transaction log, as this project reads and writes them. */
import { DeltaError } from './errors.ts';
import { dataFilePath } from './paths.ts';
import { actionProblem } from './validate.ts';

/** A commit or checkpoint that is not what the protocol says it is. */
export class MalformedLogError extends DeltaError {
  static override readonly code = 'MALFORMED_LOG';
  override name = 'MalformedLogError';
}

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface Add {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

/** Where the rows of a data file that are deleted without rewriting it are kept (PROTOCOL.md, "Deletion Vectors"). */
export interface DeletionVectorDescriptor {
  /** 'u': a file named by a UUID, 'i': inline, 'p': a path */
  storageType: string;
  pathOrInlineDv: string;
  /** where the vector starts in its file (absent for inline vectors; 0 when absent otherwise) */
  offset?: number | null;
  sizeInBytes: number;
  cardinality: number;
}

export interface Remove {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  deletionVector?: DeletionVectorDescriptor | null;
  tags?: Record<string, string> | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** Configuration of a named metadata domain (clustering columns, the row-tracking high-water mark…). */
export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

/** The first action of a V2 checkpoint: which version it holds. */
export interface CheckpointMetadata {
  version: number;
  tags?: Record<string, string> | null;
}

/** A V2 checkpoint's pointer to a Parquet file in `_delta_log/_sidecars/` holding some of its add/remove actions. */
export interface Sidecar {
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  tags?: Record<string, string> | null;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
  engineInfo?: string;
  [key: string]: unknown;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: Add }
  | { remove: Remove }
  | { txn: Txn }
  | { domainMetadata: DomainMetadata }
  | { checkpointMetadata: CheckpointMetadata }
  | { sidecar: Sidecar }
  | { commitInfo: CommitInfo }
  | { [other: string]: unknown };

export const LOG_DIR = '_delta_log';

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

export type LogFileName =
  | { kind: 'commit'; version: number }
  /** `n.checkpoint.parquet`: V1 content, or V2 (with a checkpointMetadata action) on a v2Checkpoint table */
  | { kind: 'checkpoint'; version: number }
  /** `n.checkpoint.o.p.parquet`: part o of p of a V1 checkpoint */
  | { kind: 'multipart-checkpoint'; version: number; part: number; parts: number }
  /** `n.checkpoint.<uuid>.json|parquet`: a V2 checkpoint */
  | { kind: 'v2-checkpoint'; version: number; format: 'json' | 'parquet' };

/** Which log file a name is: a JSON commit, one of the three kinds of checkpoint, or neither. */
export function parseLogFileName(name: string): LogFileName | undefined {
  let m = /^(\d{20})\.json$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'commit' };
  m = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'checkpoint' };
  m = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'multipart-checkpoint', part: Number(m[2]), parts: Number(m[3]) };
  m = /^(\d{20})\.checkpoint\.[^.]+\.(json|parquet)$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'v2-checkpoint', format: m[2] as 'json' | 'parquet' };
  return undefined;
}

/**
 * Newline-delimited JSON, one action per line, each an object; the actions this reader uses must
 * have the shape the protocol gives them (validate.ts). `where` opens every message.
 */
export function parseCommit(text: string, where: string): Action[] {
  const actions: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new MalformedLogError(`${where} line ${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MalformedLogError(`${where} line ${i + 1} is not a JSON object`);
    }
    const problem = actionProblem(value as Record<string, unknown>);
    if (problem) throw new MalformedLogError(`${where} line ${i + 1}: ${problem}`);
    actions.push(value as Action);
  }
  return actions;
}

export function serializeCommit(actions: Action[]): string {
  return `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`;
}

export function isAdd(a: Action): a is { add: Add } {
  return 'add' in a && a.add != null;
}
export function isRemove(a: Action): a is { remove: Remove } {
  return 'remove' in a && a.remove != null;
}
export function isMetaData(a: Action): a is { metaData: Metadata } {
  return 'metaData' in a && a.metaData != null;
}
export function isProtocol(a: Action): a is { protocol: Protocol } {
  return 'protocol' in a && a.protocol != null;
}
export function isTxn(a: Action): a is { txn: Txn } {
  return 'txn' in a && a.txn != null;
}
export function isDomainMetadata(a: Action): a is { domainMetadata: DomainMetadata } {
  return 'domainMetadata' in a && a.domainMetadata != null;
}
export function isCheckpointMetadata(a: Action): a is { checkpointMetadata: CheckpointMetadata } {
  return 'checkpointMetadata' in a && a.checkpointMetadata != null;
}
export function isSidecar(a: Action): a is { sidecar: Sidecar } {
  return 'sidecar' in a && a.sidecar != null;
}
export function isCommitInfo(a: Action): a is { commitInfo: CommitInfo } {
  return 'commitInfo' in a && a.commitInfo != null;
}

/**
 * The key of a logical file in log replay: its path and the unique id of its deletion vector, so
 * that a `remove` of (path, old vector) and an `add` of (path, new vector) in one commit apply in
 * either order.
 */
export function logicalFileKey(action: Add | Remove): string {
  const dv = action.deletionVector;
  if (!dv) return action.path;
  return `${action.path}\u0000${dv.storageType}${dv.pathOrInlineDv}${dv.offset == null ? '' : `@${dv.offset}`}`;
}

/**
 * The path an `add`/`remove` names (a URI-encoded path relative to the table root, or an absolute
 * one below `location`, the table's own address) as a path relative to the table root; anything
 * that would leave the table is refused (paths.ts).
 */
export function decodeDataPath(path: string, location?: string): string {
  return dataFilePath(path, location);
}

/** Percent-encode as a URI path (as Spark does): '=' of partition folders stays readable. */
export function encodeDataPath(path: string): string {
  return path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replaceAll('%3D', '='))
    .join('/');
}

/** The actions of the Delta transaction log, as this project reads and writes them. */

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
  /** row tracking: the default row ID of the file's first row */
  baseRowId?: number | null;
  /** row tracking: the version that first added this path */
  defaultRowCommitVersion?: number | null;
  /** clustered tables: the clustering implementation that wrote this file */
  clusteringProvider?: string | null;
}

/** Where the rows deleted from a data file are listed (storageType u: a file named by UUID, p: a path, i: inline). */
export interface DeletionVectorDescriptor {
  storageType: string;
  pathOrInlineDv: string;
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
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

/** A named metadata domain: `delta.*` domains belong to table features, others to applications. */
export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
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
  | { commitInfo: CommitInfo }
  | { domainMetadata: DomainMetadata }
  | { [other: string]: unknown };

export const LOG_DIR = '_delta_log';

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/** Which log file a name is: a JSON commit, a classic single-file checkpoint, or neither. */
export function parseLogFileName(name: string): { version: number; kind: 'commit' | 'checkpoint' | 'multipart-checkpoint' | 'v2-checkpoint' } | undefined {
  let m = /^(\d{20})\.json$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'commit' };
  m = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'checkpoint' };
  m = /^(\d{20})\.checkpoint\.\d{10}\.\d{10}\.parquet$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'multipart-checkpoint' };
  m = /^(\d{20})\.checkpoint\.[^.]+\.(json|parquet)$/.exec(name);
  if (m) return { version: Number(m[1]), kind: 'v2-checkpoint' };
  return undefined;
}

/** Newline-delimited JSON, one action per line, each an object with exactly one key. */
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
      throw new Error(`delta: ${where} line ${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`delta: ${where} line ${i + 1} is not a JSON object`);
    }
    actions.push(value as Action);
  }
  return actions;
}

export function serializeCommit(actions: Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join('\n') + '\n';
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
export function isCommitInfo(a: Action): a is { commitInfo: CommitInfo } {
  return 'commitInfo' in a && a.commitInfo != null;
}

/** The path an `add`/`remove` names is a URI-encoded path relative to the table root. */
export function decodeDataPath(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new Error(`delta: absolute data file paths are not supported (${path})`);
  }
  return decodeURIComponent(path);
}

/** Percent-encode as a URI path (as Spark does): '=' of partition folders stays readable. */
export function encodeDataPath(path: string): string {
  return path.split('/').map((seg) => encodeURIComponent(seg).replaceAll('%3D', '=')).join('/');
}

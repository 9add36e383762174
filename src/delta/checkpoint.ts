import { CodedError } from '../errors.ts';
import { DataType, tableFromIPC, type Field } from 'apache-arrow';
import { decodeParquet } from '../parquet/codec.ts';
import { joinPath, type FileInfo, type Storage } from '../storage/types.ts';
import { LOG_DIR, isCheckpointMetadata, isMetaData, isProtocol, isSidecar, parseCommit, type Action } from './actions.ts';
import { dataFilePath, UnsafePathError } from './paths.ts';

/** One checkpoint found by listing the log: its version and the files that make it up. */
export interface CheckpointRef {
  version: number;
  /** classic `n.checkpoint.parquet`, multi-part `n.checkpoint.o.p.parquet`, or UUID-named `n.checkpoint.<uuid>.json|parquet` */
  kind: 'classic' | 'multipart' | 'uuid';
  /** the files found, in part order (one, except for a multi-part checkpoint) */
  files: FileInfo[];
  /** multi-part: how many parts the names declare (more than `files.length` when parts are missing) */
  parts?: number;
}

/** A checkpoint that cannot stand for its version; the snapshot loader then tries an older one or the commits. */
export class CheckpointUnusableError extends CodedError {
  static readonly code = 'CHECKPOINT_UNUSABLE';
  override name = 'CheckpointUnusableError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`checkpoint ${file} ${reason}`);
  }
}

const ACTION_COLUMNS = ['protocol', 'metaData', 'add', 'remove', 'txn', 'domainMetadata', 'checkpointMetadata', 'sidecar'];
const FILE_ACTION_COLUMNS = ['add', 'remove'];
const decoder = new TextDecoder();

/**
 * Every action of a checkpoint, sidecars followed: a classic file (V1, or V2 content under the
 * classic name), all parts of a multi-part one, or a UUID-named V2 file. Throws
 * CheckpointUnusableError, naming the file, when it is unreadable, incomplete or inconsistent.
 */
export async function readCheckpoint(storage: Storage, table: string, ref: CheckpointRef): Promise<Action[]> {
  const name = (f: FileInfo) => f.path.slice(f.path.lastIndexOf('/') + 1);
  const first = name(ref.files[0]!);
  if (ref.kind === 'multipart' && ref.files.length !== ref.parts) {
    throw new CheckpointUnusableError(first, `has ${ref.files.length} of its ${ref.parts} parts`);
  }
  const actions: Action[] = [];
  for (const f of ref.files) {
    const bytes = await readLogFile(storage, f.path, name(f));
    try {
      actions.push(...(f.path.endsWith('.json') ? parseCommit(decoder.decode(bytes), name(f)) : readCheckpointActions(bytes)));
    } catch (err) {
      throw new CheckpointUnusableError(name(f), `cannot be read (${(err as Error).message})`);
    }
  }
  const metadata = actions.filter(isCheckpointMetadata);
  const sidecars = actions.filter(isSidecar).map((a) => a.sidecar);
  const v2 = metadata.length > 0 || sidecars.length > 0;
  if (ref.kind === 'multipart' && v2) throw new CheckpointUnusableError(first, 'is a multi-part checkpoint with V2 actions, which the protocol does not allow');
  if (ref.kind === 'uuid' && metadata.length === 0) throw new CheckpointUnusableError(first, 'is UUID-named but has no checkpointMetadata action');
  if (metadata.length > 1) throw new CheckpointUnusableError(first, `has ${metadata.length} checkpointMetadata actions`);
  if (v2 && metadata.length === 0) throw new CheckpointUnusableError(first, 'names sidecar files but has no checkpointMetadata action');
  if (metadata[0] && metadata[0].checkpointMetadata.version !== ref.version) {
    throw new CheckpointUnusableError(first, `says it holds version ${metadata[0].checkpointMetadata.version}`);
  }
  const protocols = actions.filter(isProtocol);
  if (protocols.length !== 1 || actions.filter(isMetaData).length !== 1) {
    throw new CheckpointUnusableError(first, 'does not hold exactly one protocol and one metaData action');
  }
  if (v2 && !protocols[0]!.protocol.readerFeatures?.includes('v2Checkpoint')) {
    throw new CheckpointUnusableError(first, 'holds V2 checkpoint actions but the table does not have the v2Checkpoint feature');
  }
  for (const s of sidecars) {
    const path = sidecarPath(table, s.path, first);
    const bytes = await readLogFile(storage, path, path);
    try {
      actions.push(...readCheckpointActions(bytes, FILE_ACTION_COLUMNS));
    } catch (err) {
      throw new CheckpointUnusableError(first, `has a sidecar ${s.path} that cannot be read (${(err as Error).message})`);
    }
  }
  return actions.filter((a) => !isCheckpointMetadata(a) && !isSidecar(a));
}

async function readLogFile(storage: Storage, path: string, label: string): Promise<Uint8Array> {
  try {
    return await storage.read(path);
  } catch (err) {
    throw new CheckpointUnusableError(label, `cannot be read (${(err as Error).message})`);
  }
}

/**
 * Where a sidecar file lives: a `sidecar` action names it, URI-encoded, relative to
 * `_delta_log/_sidecars/`, and it must stay inside that folder.
 */
export function sidecarPath(table: string, path: string, checkpoint: string): string {
  try {
    // Relative to _delta_log/_sidecars/, and never out of it (paths.ts).
    return joinPath(table, LOG_DIR, '_sidecars', dataFilePath(path));
  } catch (err) {
    if (!(err instanceof UnsafePathError)) throw err;
    throw new CheckpointUnusableError(checkpoint, `names a sidecar ${path} outside _delta_log/_sidecars/`);
  }
}

/** The actions of a checkpoint (or sidecar) Parquet file, one action per row and non-null column. */
export function readCheckpointActions(bytes: Uint8Array, columns = ACTION_COLUMNS): Action[] {
  const table = tableFromIPC(decodeParquet(bytes));
  const actions: Action[] = [];
  for (const field of table.schema.fields) {
    if (!columns.includes(field.name)) continue;
    const column = table.getChild(field.name)!;
    for (let i = 0; i < column.length; i++) {
      const value = column.get(i);
      if (value == null) continue;
      actions.push({ [field.name]: field.name === 'add' ? addAction(value, field.type) : action(value, field.type) } as Action);
    }
  }
  return actions;
}

/** A struct row as an action object; fields that are null are left out, as a JSON commit would. */
function action(value: unknown, type: DataType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const row = value as Record<string, unknown>;
  for (const f of type.children as Field[]) {
    const v = plain(row[f.name], f.type);
    if (v !== null) out[f.name] = v;
  }
  return out;
}

/**
 * An `add` row: `partitionValues_parsed` and `stats_parsed` are typed copies of
 * `partitionValues` and `stats`; where only the typed stats were written, they become the JSON
 * `stats` (as Spark reads them), keeping the values JSON holds exactly.
 */
function addAction(value: unknown, type: DataType): Record<string, unknown> {
  const { partitionValues_parsed: _, stats_parsed: parsed, ...add } = action(value, type);
  if (add.stats == null && parsed != null) {
    const parsedType = (type.children as Field[]).find((f) => f.name === 'stats_parsed')!.type;
    const stats = statsValue((value as Record<string, unknown>).stats_parsed, parsedType);
    if (stats && Object.keys(stats).length > 0) add.stats = JSON.stringify(stats);
  }
  return add;
}

/** An Arrow value (struct row, map row, list vector, BigInt) as a plain JSON-like value. */
function plain(value: unknown, type: DataType): unknown {
  if (value == null) return null;
  if (DataType.isStruct(type)) {
    const row = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of type.children) out[f.name] = plain(row[f.name], f.type);
    return out;
  }
  if (DataType.isMap(type)) {
    const valueType = type.children[0]!.type.children[1]!.type;
    const out: Record<string, unknown> = {};
    for (const [k, v] of value as Iterable<[string, unknown]>) out[k] = plain(v, valueType);
    return out;
  }
  if (DataType.isList(type)) return Array.from(value as Iterable<unknown>, (v) => plain(v, type.children[0]!.type));
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/**
 * A typed stats value as the JSON stats hold it; a value JSON cannot carry exactly (a long
 * beyond 2^53, NaN, a decimal, binary) is left out, which only means less skipping.
 */
function statsValue(value: unknown, type: DataType): Record<string, unknown> | undefined {
  const row = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of type.children as Field[]) {
    const v = row[f.name];
    if (v == null) continue;
    const json = DataType.isStruct(f.type) ? statsValue(v, f.type) : statsLeaf(v, f.type);
    if (json !== undefined && !(typeof json === 'object' && Object.keys(json as object).length === 0)) out[f.name] = json;
  }
  return out;
}

function statsLeaf(value: unknown, type: DataType): unknown {
  if (DataType.isInt(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (DataType.isFloat(type)) return Number.isFinite(value) ? value : undefined;
  if (DataType.isUtf8(type) || DataType.isBool(type)) return value;
  if (DataType.isDate(type)) return new Date(Number(value)).toISOString().slice(0, 10);
  if (DataType.isTimestamp(type)) {
    const iso = new Date(timestampMillis(value, type.unit)).toISOString();
    return type.timezone ? iso : iso.slice(0, -1);
  }
  return undefined;
}

/** Arrow JS gives timestamps as epoch milliseconds, or as the raw BigInt in the column's unit. */
function timestampMillis(value: unknown, unit: number): number {
  if (typeof value !== 'bigint') return Math.floor(Number(value));
  const perMilli = [1n, 1n, 1000n, 1_000_000n][unit]!;
  const ms = unit === 0 ? value * 1000n : value / perMilli;
  return Number(value < 0n && unit > 1 && value % perMilli !== 0n ? ms - 1n : ms);
}

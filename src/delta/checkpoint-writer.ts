import { Bool, Data, DataType, Field, Int32, Int64, List, Map_, Struct, Table, Utf8, Vector, makeBuilder, tableToIPC } from 'apache-arrow';
import { encodeParquet } from '../parquet/codec.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import { LOG_DIR, checkpointFileName } from './actions.ts';
import { loadSnapshot, where, type Snapshot } from './snapshot.ts';
import { checkWritable } from './write-protocol.ts';

/** Delta's default: a checkpoint every 10 commits. */
export const CHECKPOINT_INTERVAL = 10;
const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

const str = () => new Utf8();
const long = () => new Int64();
const f = (name: string, type: DataType) => new Field(name, type, true);
const stringMap = () => new Map_<Utf8, Utf8>(new Field('key_value', new Struct([new Field('key', str(), false), f('value', str())]), false) as never);

const deletionVector = () =>
  new Struct([
    f('storageType', str()),
    f('pathOrInlineDv', str()),
    f('offset', new Int32()),
    f('sizeInBytes', new Int32()),
    f('cardinality', long()),
    f('maxRowIndex', long()),
  ]);

/** The action columns, with every field this project knows; a V2 checkpoint adds `checkpointMetadata`. */
const CHECKPOINT_SCHEMA = {
  txn: new Struct([f('appId', str()), f('version', long()), f('lastUpdated', long())]),
  add: new Struct([
    f('path', str()),
    f('partitionValues', stringMap()),
    f('size', long()),
    f('modificationTime', long()),
    f('dataChange', new Bool()),
    f('tags', stringMap()),
    f('stats', str()),
    f('deletionVector', deletionVector()),
    f('baseRowId', long()),
    f('defaultRowCommitVersion', long()),
    f('clusteringProvider', str()),
  ]),
  remove: new Struct([
    f('path', str()),
    f('deletionTimestamp', long()),
    f('dataChange', new Bool()),
    f('extendedFileMetadata', new Bool()),
    f('partitionValues', stringMap()),
    f('size', long()),
    f('deletionVector', deletionVector()),
    f('baseRowId', long()),
    f('defaultRowCommitVersion', long()),
  ]),
  metaData: new Struct([
    f('id', str()),
    f('name', str()),
    f('description', str()),
    f('format', new Struct([f('provider', str()), f('options', stringMap())])),
    f('schemaString', str()),
    f('partitionColumns', new List(f('element', str()))),
    f('configuration', stringMap()),
    f('createdTime', long()),
  ]),
  protocol: new Struct([
    f('minReaderVersion', new Int32()),
    f('minWriterVersion', new Int32()),
    f('readerFeatures', new List(f('element', str()))),
    f('writerFeatures', new List(f('element', str()))),
  ]),
  domainMetadata: new Struct([f('domain', str()), f('configuration', str()), f('removed', new Bool())]),
  checkpointMetadata: new Struct([f('version', long()), f('tags', stringMap())]),
};

/** Fields the protocol leaves out of checkpoints: a tombstone serves VACUUM, which needs neither. */
const NOT_IN_CHECKPOINTS: Record<string, string[]> = { remove: ['stats', 'tags'] };

type Row = Partial<Record<keyof typeof CHECKPOINT_SCHEMA, unknown>>;

export type CheckpointOutcome = { written: true; file: string } | { written: false; reason: string };

export async function writeCheckpointIfDue(storage: Storage, table: string, version: number): Promise<CheckpointOutcome | undefined> {
  if (version === 0 || version % CHECKPOINT_INTERVAL !== 0) return undefined;
  return writeCheckpoint(storage, table, await loadSnapshot(storage, table, version));
}

/**
 * A classic checkpoint of `snapshot`, then `_last_checkpoint` pointing at it (unless it already
 * names a newer one). On a table with the v2Checkpoint feature the checkpoint follows the V2
 * spec: a `checkpointMetadata` row, every action inline. A snapshot holding a field the
 * checkpoint has no column for gets no checkpoint: readers replay the commits instead of
 * reading a checkpoint that lost it.
 */
export async function writeCheckpoint(storage: Storage, table: string, snapshot: Snapshot, now = Date.now()): Promise<CheckpointOutcome> {
  checkWritable(snapshot, 'checkpoint', where(storage, table));
  const retention = DEFAULT_TOMBSTONE_RETENTION_MS;
  const v2 = snapshot.protocol.readerFeatures?.includes('v2Checkpoint') ?? false;
  const rows: Row[] = [
    ...(v2 ? [{ checkpointMetadata: { version: snapshot.version } }] : []),
    { protocol: snapshot.protocol },
    { metaData: snapshot.metadata },
    ...[...snapshot.txns.values()].map((txn) => ({ txn })),
    ...[...snapshot.domainMetadata.values()].map((domainMetadata) => ({ domainMetadata })),
    ...snapshot.files.map((add) => ({ add })),
    ...snapshot.tombstones.filter((r) => (r.deletionTimestamp ?? 0) > now - retention).map((remove) => ({ remove })),
  ];
  for (const row of rows) {
    const [name, value] = Object.entries(row)[0]!;
    const kept = Object.fromEntries(Object.entries(value as object).filter(([k]) => !NOT_IN_CHECKPOINTS[name]?.includes(k)));
    const lost = unwritten(kept, CHECKPOINT_SCHEMA[name as keyof Row]);
    if (lost) return { written: false, reason: `its ${name} actions have a field ${lost} that this checkpoint writer does not know` };
  }
  const columns: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(CHECKPOINT_SCHEMA)) {
    if (name === 'checkpointMetadata' && !v2) continue;
    const builder = makeBuilder<DataType, null | undefined>({ type, nullValues: [null, undefined] });
    for (const row of rows) builder.append(toArrowValue(row[name as keyof Row], type) as never);
    columns[name] = new Vector(
      builder
        .finish()
        .toVector()
        .data.map((d) => fillNullParentBools(d)),
    );
  }
  const arrowTable = new Table(columns);
  const bytes = encodeParquet(tableToIPC(arrowTable, 'stream'));
  const file = checkpointFileName(snapshot.version);
  await storage.write(joinPath(table, LOG_DIR, file), bytes);
  if ((await lastCheckpointVersion(storage, table)) <= snapshot.version) {
    const last = { version: snapshot.version, size: rows.length, sizeInBytes: bytes.byteLength, numOfAddFiles: snapshot.files.length };
    await storage.write(joinPath(table, LOG_DIR, '_last_checkpoint'), new TextEncoder().encode(JSON.stringify(last)));
  }
  return { written: true, file };
}

/** The version `_last_checkpoint` names; -1 when it is missing or cannot be read (then it is rewritten). */
async function lastCheckpointVersion(storage: Storage, table: string): Promise<number> {
  try {
    const { version } = JSON.parse(new TextDecoder().decode(await storage.read(joinPath(table, LOG_DIR, '_last_checkpoint')))) as { version?: unknown };
    return typeof version === 'number' ? version : -1;
  } catch {
    return -1;
  }
}

/** The first field of an action value (as a dotted path) that `type` has no column for, if any. */
function unwritten(value: unknown, type: DataType, prefix = ''): string | undefined {
  if (value == null || !(type instanceof Struct)) return undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v == null) continue;
    const child = type.children.find((c) => c.name === key);
    if (!child) return `${prefix}${key}`;
    const inner = unwritten(v, child.type, `${prefix}${key}.`);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Arrow JS writes a boolean array that holds only nulls with an empty value buffer, which
 * Parquet writers refuse: in a table that never removed a file, `remove.dataChange` is such an
 * array. Where the enclosing struct is null the child's value is never read, so it is set to a
 * valid `false` there, and the array is no longer all null.
 */
function fillNullParentBools(data: Data, parentValid: (i: number) => boolean = () => true): Data {
  if (!DataType.isStruct(data.type)) return data;
  const valid = (i: number) => parentValid(i) && data.getValid(i);
  const children = data.children.map((child) => {
    if (DataType.isStruct(child.type)) return fillNullParentBools(child, valid);
    if (!DataType.isBool(child.type) || child.nullCount < child.length) return child;
    const bytes = Math.ceil((child.offset + child.length) / 8);
    const values = new Uint8Array(bytes);
    const nulls = new Uint8Array(bytes);
    let nullCount = 0;
    for (let i = 0; i < child.length; i++) {
      const bit = child.offset + i;
      if (!valid(i)) nulls[bit >> 3]! |= 1 << (bit & 7);
      else nullCount++;
    }
    return new Data(child.type, child.offset, child.length, nullCount, [undefined, values, nulls, undefined] as unknown as Data['buffers']);
  });
  return new Data(
    data.type,
    data.offset,
    data.length,
    data.nullCount,
    [data.valueOffsets, data.values, data.nullBitmap, data.typeIds] as Data['buffers'],
    children,
  );
}

/** Plain action objects to what the Arrow builders take: Maps for map columns, BigInt for longs. */
function toArrowValue(value: unknown, type: DataType): unknown {
  if (value == null) return null;
  if (type instanceof Struct) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(type.children.map((c) => [c.name, toArrowValue(obj[c.name], c.type)]));
  }
  if (type instanceof Map_) return new Map(Object.entries(value as Record<string, string | null>));
  if (type instanceof List) return (value as unknown[]).map((v) => toArrowValue(v, type.children[0]!.type));
  if (type instanceof Int64) return BigInt(value as number);
  return value;
}

import {
  DataType,
  Field,
  FixedSizeBinary,
  List,
  Map_,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  makeData,
  tableFromIPC,
  tableToIPC,
  type Data,
} from 'apache-arrow';
import { T, ThriftReader, ThriftWriter, field, type TList, type TStruct } from './thrift.ts';

/**
 * INT96 timestamps (Spark's default for `timestamp`) as microseconds, over their whole range.
 * arrow-rs reads INT96 as nanoseconds since the epoch, which wrap around outside 1677–2262 (a
 * 9999-12-31 end date reads as 1816). So the footer is rewritten to call those columns 12-byte
 * fixed-size binaries (the bytes on disk are the same), with a marker on their names, and the
 * decoded bytes (nanoseconds of the day, Julian day) are turned into microseconds here.
 */

const INT96 = 3;
const FIXED_LEN_BYTE_ARRAY = 7;
const MARKER = '\u0000int96';
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The file with its INT96 columns declared as marked FIXED_LEN_BYTE_ARRAY(12); undefined when it has none. */
export function patchInt96(bytes: Uint8Array): Uint8Array | undefined {
  const n = bytes.length;
  if (n < 12 || !MAGIC.every((b, i) => bytes[n - 4 + i] === b)) return undefined;
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
  const start = n - 8 - footerLength;
  if (start < 4) return undefined;
  const footer = bytes.subarray(start, n - 8);
  // A cheap look first: most files have no INT96 column.
  if (!mayHaveInt96(footer)) return undefined;
  const meta = new ThriftReader(footer).struct();
  const schema = field(meta, 2)?.value as TList | undefined;
  let found = false;
  for (const element of (schema?.items ?? []) as TStruct[]) {
    const type = field(element, 1);
    if (type?.value !== INT96) continue;
    found = true;
    type.value = FIXED_LEN_BYTE_ARRAY;
    const length = field(element, 2);
    if (length) length.value = 12;
    else element.splice(element.indexOf(type) + 1, 0, { id: 2, type: T.I32, value: 12 });
    const name = field(element, 4);
    if (name) name.value = encoder.encode(decoder.decode(name.value as Uint8Array) + MARKER);
  }
  if (!found) return undefined;
  for (const group of ((field(meta, 4)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
    for (const chunk of ((field(group, 1)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
      const columnMeta = field(chunk, 3)?.value as TStruct | undefined;
      const type = columnMeta && field(columnMeta, 1);
      if (!columnMeta || type?.value !== INT96) continue;
      type.value = FIXED_LEN_BYTE_ARRAY;
      const path = field(columnMeta, 3)?.value as TList | undefined;
      const last = path?.items.length ? path.items.length - 1 : -1;
      if (path && last >= 0) path.items[last] = encoder.encode(decoder.decode(path.items[last] as Uint8Array) + MARKER);
    }
  }
  // An embedded Arrow schema would name the columns without the marker.
  const keyValues = field(meta, 5)?.value as TList | undefined;
  if (keyValues) keyValues.items = keyValues.items.filter((kv) => decoder.decode(field(kv as TStruct, 1)?.value as Uint8Array) !== 'ARROW:schema');
  const writer = new ThriftWriter();
  writer.struct(meta);
  const newFooter = writer.result();
  const out = new Uint8Array(start + newFooter.length + 8);
  out.set(bytes.subarray(0, start));
  out.set(newFooter, start);
  new DataView(out.buffer).setUint32(start + newFooter.length, newFooter.length, true);
  out.set(MAGIC, start + newFooter.length + 4);
  return out;
}

/** A SchemaElement's type field set to INT96: header byte 0x15 (field 1, i32) then zigzag(3) = 6. */
function mayHaveInt96(footer: Uint8Array): boolean {
  for (let i = 0; i + 1 < footer.length; i++) if (footer[i] === 0x15 && footer[i + 1] === 0x06) return true;
  return false;
}

/** The IPC stream of a patched file with its marked columns as Timestamp(µs) under their own names. */
export function restoreInt96(ipc: Uint8Array): Uint8Array {
  const table = tableFromIPC(ipc);
  const fields = table.schema.fields.map(restoreField);
  const schema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((d, i) => restoreData(d, table.schema.fields[i]!, fields[i]!));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  });
  return tableToIPC(new Table(schema, batches), 'stream');
}

// INT96 holds instants (Spark's `timestamp`), as UTC.
const MICROS = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

function restoreField(f: Field): Field {
  if (f.name.endsWith(MARKER) && f.type instanceof FixedSizeBinary) return new Field(f.name.slice(0, -MARKER.length), MICROS, f.nullable, f.metadata);
  const type = restoreType(f.type);
  return type === f.type ? f : new Field(f.name, type, f.nullable, f.metadata);
}

function restoreType(type: DataType): DataType {
  if (DataType.isStruct(type)) {
    const children = type.children.map(restoreField);
    return children.every((c, i) => c === type.children[i]) ? type : new Struct(children);
  }
  if (DataType.isList(type)) {
    const child = restoreField(type.children[0]!);
    return child === type.children[0] ? type : new List(child);
  }
  if (DataType.isMap(type)) {
    const entries = restoreField(type.children[0]!);
    return entries === type.children[0] ? type : new Map_(entries as Field<Struct>, type.keysSorted);
  }
  return type;
}

const JULIAN_EPOCH = 2_440_588n;
const MICROS_PER_DAY = 86_400_000_000n;

function restoreData(data: Data, before: Field, after: Field): Data {
  if (before.type === after.type) return data;
  if (DataType.isTimestamp(after.type) && DataType.isFixedSizeBinary(before.type)) {
    const bytes = data.values as Uint8Array;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const micros = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) continue;
      const at = (data.offset + i) * 12;
      const nanosOfDay = view.getBigInt64(at, true);
      const julianDay = BigInt(view.getInt32(at + 8, true));
      micros[i] = (julianDay - JULIAN_EPOCH) * MICROS_PER_DAY + nanosOfDay / 1000n;
    }
    return makeData({ type: after.type as Timestamp, length: data.length, nullCount: data.nullCount, nullBitmap: bitmapFrom(data), data: micros });
  }
  const beforeChildren = before.type.children as Field[];
  const afterChildren = after.type.children as Field[];
  const children = data.children.map((c, i) => restoreData(c, beforeChildren[i]!, afterChildren[i]!));
  return data.clone(after.type, data.offset, data.length, data.nullCount, data.buffers, children);
}

/** The validity bits of `data` from bit 0 (its own bitmap is read from `data.offset`). */
function bitmapFrom(data: Data): Uint8Array | undefined {
  if (data.nullCount === 0 || !data.nullBitmap) return undefined;
  const out = new Uint8Array(Math.ceil(data.length / 8));
  for (let i = 0; i < data.length; i++) if (data.getValid(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

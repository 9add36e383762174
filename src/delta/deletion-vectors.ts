import { isNotFound, joinPath, type Storage } from '../storage/types.ts';
import { crc32 } from '../zip.ts';
import type { Add, DeletionVectorDescriptor } from './actions.ts';
import { relativeTablePath, tableLocation } from './paths.ts';
import { DeletionVectorError } from './protocol.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * Deletion vectors (PROTOCOL.md, "Deletion Vector Format"): the row indexes of a data file that
 * are deleted, as a RoaringBitmapArray kept inline in the log (Z85) or in a `deletion_vector_*.bin`
 * file beside the data files.
 */

/** "RoaringBitmapArray, portable format" */
const MAGIC = 1681511377;
const NATIVE_MAGIC = 1681511376;
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

/** The bytes a Z85 text encodes (4 bytes per 5 characters, big-endian). */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new Error(`Z85 text has ${text.length} characters, not a multiple of 5`);
  const out = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = i; j < i + 5; j++) {
      const digit = Z85_VALUE.get(text[j]!);
      if (digit === undefined) throw new Error(`"${text[j]}" is not a Z85 character`);
      value = value * 85 + digit;
    }
    if (value > 0xffff_ffff) throw new Error(`Z85 group "${text.slice(i, i + 5)}" exceeds 32 bits`);
    view.setUint32((i / 5) * 4, value);
  }
  return out;
}

/**
 * The file a deletion vector is stored in, relative to the table folder; undefined for an inline
 * vector. `u`: `<random prefix>/deletion_vector_<uuid>.bin`, the UUID Z85-encoded in the last 20
 * characters; `p`: a path like `add.path`, followed only inside the table folder (`location`, the
 * table's own address, places absolute ones). Resolved by paths.ts like every path of the log.
 */
export function deletionVectorFile(dv: DeletionVectorDescriptor, location?: string): string | undefined {
  if (dv.storageType === 'i') return undefined;
  if (dv.storageType === 'u') {
    const text = dv.pathOrInlineDv;
    if (text.length < 20) throw new Error(`"${text}" is too short to name a deletion vector file`);
    const hex = [...z85Decode(text.slice(-20))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const prefix = text.slice(0, -20);
    return relativeTablePath(`${prefix ? `${prefix}/` : ''}deletion_vector_${uuid}.bin`);
  }
  if (dv.storageType === 'p') return relativeTablePath(dv.pathOrInlineDv, location);
  throw new Error(`storage type "${dv.storageType}" is none of u, i, p`);
}

/**
 * The row indexes a serialised RoaringBitmapArray holds, ascending: the magic number, then the
 * portable 64-bit Roaring format — a count of buckets, each a 32-bit key (the high half of its
 * values) and a 32-bit Roaring bitmap (array, bitmap and run containers).
 */
export function decodeRoaringBitmapArray(bytes: Uint8Array): Float64Array {
  const r = new Reader(bytes);
  const magic = r.u32();
  if (magic === NATIVE_MAGIC) throw new Error('it is in the native RoaringBitmapArray format, which this reader does not read (only the portable one)');
  if (magic !== MAGIC) throw new Error(`it does not start with the magic number ${MAGIC} (found ${magic})`);
  const buckets = r.u64();
  const values: number[] = [];
  let lastKey = -1;
  for (let b = 0; b < buckets; b++) {
    const key = r.u32();
    if (key <= lastKey) throw new Error(`its bucket keys are not ascending (${key} after ${lastKey})`);
    // Above 2^21 buckets a row index no longer fits a double exactly; no Parquet file has that many rows.
    if (key >= 2 ** 21) throw new Error(`it deletes row indexes of 2^53 and above (bucket ${key})`);
    lastKey = key;
    readRoaring32(r, key * 2 ** 32, values);
  }
  if (r.at !== bytes.byteLength) throw new Error(`${bytes.byteLength - r.at} bytes follow its last bucket`);
  return Float64Array.from(values);
}

const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE = 12347;
/** An array container holds at most this many values; more are a bitmap. */
const MAX_ARRAY = 4096;

/** One 32-bit Roaring bitmap in the standard serialisation (RoaringFormatSpec), each value plus `high`. */
function readRoaring32(r: Reader, high: number, out: number[]): void {
  const cookie = r.u32();
  let size: number;
  let runs: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    runs = r.bytes(Math.ceil(size / 8));
  } else if (cookie === SERIAL_COOKIE_NO_RUN) {
    size = r.u32();
  } else throw new Error(`a bucket has the unknown cookie ${cookie}`);
  if (size > 65536) throw new Error(`a bucket claims ${size} containers`);
  const keys: number[] = [];
  const cards: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(r.u16());
    cards.push(r.u16() + 1);
    if (i > 0 && keys[i]! <= keys[i - 1]!) throw new Error('its container keys are not ascending');
  }
  // Offsets of each container: written unless runs are present with fewer than 4 containers.
  if (!runs || size >= 4) r.bytes(4 * size);
  for (let i = 0; i < size; i++) {
    const base = high + keys[i]! * 65536;
    const card = cards[i]!;
    const start = out.length;
    if (runs && runs[i >> 3]! & (1 << (i & 7))) {
      const n = r.u16();
      let next = 0;
      for (let k = 0; k < n; k++) {
        const first = r.u16();
        const last = first + r.u16();
        if (first < next || last > 0xffff) throw new Error('a run container has overlapping or out-of-range runs');
        for (let v = first; v <= last; v++) out.push(base + v);
        next = last + 1;
      }
    } else if (card <= MAX_ARRAY) {
      let prev = -1;
      for (let k = 0; k < card; k++) {
        const v = r.u16();
        if (v <= prev) throw new Error('an array container is not strictly ascending');
        out.push(base + v);
        prev = v;
      }
    } else {
      const words = r.bytes(8192);
      for (let byte = 0; byte < 8192; byte++) {
        const bits = words[byte]!;
        if (bits === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit)) out.push(base + byte * 8 + bit);
      }
    }
    if (out.length - start !== card) throw new Error(`a container holds ${out.length - start} values but its header says ${card}`);
  }
}

class Reader {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  private need(n: number): number {
    if (this.at + n > this.data.byteLength) throw new Error(`it ends after ${this.data.byteLength} bytes, in the middle of its data`);
    const at = this.at;
    this.at += n;
    return at;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(): number {
    const at = this.need(8);
    const high = this.view.getUint32(at + 4, true);
    if (high !== 0) throw new Error('it claims more than 2^32 buckets');
    return this.view.getUint32(at, true);
  }
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.data.subarray(at, at + n);
  }
}

/**
 * The serialised vector inside a deletion vector file: at `offset` a big-endian size, that many
 * bytes, then their big-endian CRC-32 (the file starts with a format version byte, 1).
 */
export function vectorInFile(file: Uint8Array, offset: number, sizeInBytes: number): Uint8Array {
  if (file.byteLength === 0 || file[0] !== 1) throw new Error(`the file has format version ${file[0] ?? 'none'}, not 1`);
  if (!Number.isInteger(offset) || offset < 1) throw new Error(`its offset ${offset} is not a position after the file's version byte`);
  if (offset + 4 + sizeInBytes + 4 > file.byteLength) {
    throw new Error(`the file has ${file.byteLength} bytes, too few for ${sizeInBytes} bytes at offset ${offset}`);
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const size = view.getUint32(offset);
  if (size !== sizeInBytes) throw new Error(`the vector at offset ${offset} has ${size} bytes, the log says ${sizeInBytes}`);
  const data = file.subarray(offset + 4, offset + 4 + size);
  const expected = view.getUint32(offset + 4 + size);
  const actual = crc32(data);
  if (actual !== expected) throw new Error(`the vector at offset ${offset} fails its CRC-32 check (${hex(actual)}, stored ${hex(expected)})`);
  return data;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * The deletion vectors of one snapshot's data files, each file read once however many data files
 * share it. One per scan.
 */
export class DeletionVectors {
  private readonly files = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly storage: Storage,
    private readonly snapshot: Snapshot,
  ) {}

  /** The deleted row indexes of `add`'s logical file, ascending; undefined when nothing is deleted. */
  async deletedRows(add: Add): Promise<Float64Array | undefined> {
    const dv = add.deletionVector;
    if (!dv) return undefined;
    let file: string | undefined;
    try {
      file = deletionVectorFile(dv, tableLocation(this.storage, this.snapshot.table));
      const bytes = file === undefined ? inlineVector(dv) : vectorInFile(await this.read(file), dv.offset ?? 0, dv.sizeInBytes);
      const rows = decodeRoaringBitmapArray(bytes);
      if (rows.length !== dv.cardinality) throw new Error(`it holds ${rows.length} row indexes, the log says ${dv.cardinality}`);
      return rows.length === 0 ? undefined : rows;
    } catch (err) {
      if (err instanceof DeletionVectorError) throw err;
      const why = isNotFound(err) ? 'its file does not exist (VACUUM may have deleted it)' : (err as Error).message;
      throw this.error(add, file, why, err);
    }
  }

  /** The rows of a data file of `numRows` rows to keep, as an Arrow-style bitmap (bit i set: row i stays). */
  keptRows(add: Add, deleted: Float64Array, numRows: number): Uint8Array {
    const last = deleted[deleted.length - 1]!;
    if (last >= numRows) {
      throw this.error(
        add,
        deletionVectorFile(add.deletionVector!, tableLocation(this.storage, this.snapshot.table)),
        `it deletes row ${last}, but the data file has ${numRows} rows`,
      );
    }
    const bits = new Uint8Array(Math.ceil(numRows / 8)).fill(0xff);
    for (const row of deleted) bits[row >> 3]! &= ~(1 << (row & 7));
    return bits;
  }

  private read(file: string): Promise<Uint8Array> {
    let bytes = this.files.get(file);
    if (!bytes) {
      bytes = this.storage.read(joinPath(this.snapshot.table, file));
      this.files.set(file, bytes);
    }
    return bytes;
  }

  private error(add: Add, file: string | undefined, why: string, cause?: unknown): DeletionVectorError {
    const { snapshot } = this;
    const dv = add.deletionVector!;
    const source = dv.storageType === 'i' ? 'stored inline in the log' : `in ${file ?? dv.pathOrInlineDv}`;
    const err = new DeletionVectorError(
      `version ${snapshot.version} of ${snapshot.name} cannot be read: the deletion vector of data file ${add.path} (${source}) is unusable: ${why}`,
    );
    if (cause !== undefined) err.cause = cause;
    return err;
  }
}

function inlineVector(dv: DeletionVectorDescriptor): Uint8Array {
  const bytes = z85Decode(dv.pathOrInlineDv);
  if (bytes.byteLength < dv.sizeInBytes || bytes.byteLength - dv.sizeInBytes >= 4) {
    throw new Error(`its inline data holds ${bytes.byteLength} bytes, the log says ${dv.sizeInBytes}`);
  }
  return bytes.subarray(0, dv.sizeInBytes);
}

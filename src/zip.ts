/**
 * The .zip writer: entries are stored (no compression: Parquet is compressed already), each with a
 * local header, CRC-32 and sizes, then a central directory. Names are UTF-8 with '/' separators.
 * An archive is made one entry at a time (ZipWriter, zipChunks), so it never has to be in memory
 * whole; ZIP64 records are written when an entry, an offset or the entry count passes what the
 * classic fields hold (4 GiB, 65,535 entries), as Info-ZIP's zip and Python's zipfile do.
 */
import { normalName, unsafeName } from './zip-names.ts';

export interface ZipEntry {
  /** path inside the archive, '/'-separated, no leading '/' */
  name: string;
  data: Uint8Array;
  /** milliseconds since the epoch; default now */
  modified?: number;
}

export interface ZipOptions {
  /** write ZIP64 records for every entry and the end even when not needed (as Python's force_zip64) */
  forceZip64?: boolean;
}

/** Values from here on do not fit a classic field: 0xffff_ffff (and 0xffff for counts) mean "see ZIP64". */
const MAX32 = 0xffff_ffff;
const MAX16 = 0xffff;
const encoder = new TextEncoder();

export class ZipWriter {
  private offset = 0;
  private count = 0;
  private readonly central: Uint8Array[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly options: ZipOptions = {}) {}

  /** The local header and the data of one entry, to be written in this order after what came before. */
  add(entry: ZipEntry): Uint8Array[] {
    const why = unsafeName(entry.name) ?? (normalName(entry.name) === entry.name ? undefined : 'has an empty or "." part');
    if (why) throw new Error(`zip: entry ${JSON.stringify(entry.name)} ${why}`);
    if (this.seen.has(entry.name)) throw new Error(`zip: two entries are named ${entry.name}`);
    this.seen.add(entry.name);
    const name = encoder.encode(entry.name);
    const size = entry.data.byteLength;
    const crc = crc32(entry.data);
    const { time, date } = dosDateTime(entry.modified ?? Date.now());
    const force = this.options.forceZip64 === true;

    // ZIP64 sizes when the entry is 4 GiB or more (in the local header both, as the spec requires),
    // and a ZIP64 offset when the entry starts 4 GiB or more into the archive.
    const big = force || size >= MAX32;
    const far = force || this.offset >= MAX32;
    const local = new DataView(new ArrayBuffer(30 + name.byteLength + (big ? 20 : 0)));
    local.setUint32(0, 0x04034b50, true); // local file header signature
    local.setUint16(4, big ? 45 : 20, true); // version needed: 4.5 for ZIP64, else 2.0
    local.setUint16(6, 0x0800, true); // flags: names are UTF-8
    local.setUint16(8, 0, true); // method: stored
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, big ? MAX32 : size, true); // compressed size
    local.setUint32(22, big ? MAX32 : size, true); // uncompressed size
    local.setUint16(26, name.byteLength, true);
    local.setUint16(28, big ? 20 : 0, true); // extra field length
    new Uint8Array(local.buffer).set(name, 30);
    if (big) {
      const at = 30 + name.byteLength;
      local.setUint16(at, 0x0001, true); // ZIP64 extended information
      local.setUint16(at + 2, 16, true);
      local.setBigUint64(at + 4, BigInt(size), true);
      local.setBigUint64(at + 12, BigInt(size), true);
    }

    const extra = (big ? 16 : 0) + (far ? 8 : 0);
    const dir = new DataView(new ArrayBuffer(46 + name.byteLength + (extra ? 4 + extra : 0)));
    dir.setUint32(0, 0x02014b50, true); // central directory header signature
    dir.setUint16(4, (3 << 8) | (extra ? 45 : 20), true); // made by: Unix (so the mode below is read)
    dir.setUint16(6, extra ? 45 : 20, true);
    dir.setUint16(8, 0x0800, true);
    dir.setUint16(10, 0, true);
    dir.setUint16(12, time, true);
    dir.setUint16(14, date, true);
    dir.setUint32(16, crc, true);
    dir.setUint32(20, big ? MAX32 : size, true);
    dir.setUint32(24, big ? MAX32 : size, true);
    dir.setUint16(28, name.byteLength, true);
    dir.setUint16(30, extra ? 4 + extra : 0, true);
    dir.setUint16(32, 0, true); // comment
    dir.setUint16(34, 0, true); // disk number
    dir.setUint16(36, 0, true); // internal attributes
    dir.setUint32(38, (0o100644 << 16) >>> 0, true); // external attributes: a regular file, rw-r--r--
    dir.setUint32(42, far ? MAX32 : this.offset, true);
    new Uint8Array(dir.buffer).set(name, 46);
    if (extra) {
      let at = 46 + name.byteLength;
      dir.setUint16(at, 0x0001, true);
      dir.setUint16(at + 2, extra, true);
      at += 4;
      if (big) {
        dir.setBigUint64(at, BigInt(size), true); // uncompressed, then compressed: the spec's order
        dir.setBigUint64(at + 8, BigInt(size), true);
        at += 16;
      }
      if (far) dir.setBigUint64(at, BigInt(this.offset), true);
    }

    this.central.push(new Uint8Array(dir.buffer));
    this.count++;
    this.offset += local.byteLength + size;
    return [new Uint8Array(local.buffer), entry.data];
  }

  /** The central directory and the end records (ZIP64 ones first when needed): the archive's last bytes. */
  end(): Uint8Array {
    const size = this.central.reduce((s, p) => s + p.byteLength, 0);
    const start = this.offset;
    const zip64 = this.options.forceZip64 === true || this.count >= MAX16 || size >= MAX32 || start >= MAX32;
    const tail = new DataView(new ArrayBuffer((zip64 ? 56 + 20 : 0) + 22));
    let at = 0;
    if (zip64) {
      tail.setUint32(0, 0x06064b50, true); // ZIP64 end of central directory record
      tail.setBigUint64(4, 44n, true); // its size after this field
      tail.setUint16(12, (3 << 8) | 45, true);
      tail.setUint16(14, 45, true);
      tail.setBigUint64(24, BigInt(this.count), true); // entries on this disk
      tail.setBigUint64(32, BigInt(this.count), true); // entries in total
      tail.setBigUint64(40, BigInt(size), true);
      tail.setBigUint64(48, BigInt(start), true);
      tail.setUint32(56, 0x07064b50, true); // ZIP64 end of central directory locator
      tail.setBigUint64(64, BigInt(start + size), true); // where the record above starts
      tail.setUint32(72, 1, true); // disks in total
      at = 76;
    }
    tail.setUint32(at, 0x06054b50, true); // end of central directory
    tail.setUint16(at + 8, Math.min(this.count, MAX16), true); // entries on this disk
    tail.setUint16(at + 10, Math.min(this.count, MAX16), true); // entries in total
    tail.setUint32(at + 12, Math.min(size, MAX32), true);
    tail.setUint32(at + 16, Math.min(start, MAX32), true); // where the central directory starts
    return concat([...this.central, new Uint8Array(tail.buffer)]);
  }
}

/** A whole archive in one array: for small ones (tests, a table's few files). */
export function zip(entries: Iterable<ZipEntry>, options?: ZipOptions): Uint8Array {
  const writer = new ZipWriter(options);
  const parts: Uint8Array[] = [];
  for (const e of entries) parts.push(...writer.add(e));
  parts.push(writer.end());
  return concat(parts);
}

/** An archive as a sequence of chunks, each entry taken (and its data read) only when the one before is out. */
export async function* zipChunks(entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>, options?: ZipOptions): AsyncGenerator<Uint8Array> {
  const writer = new ZipWriter(options);
  for await (const e of entries) yield* writer.add(e);
  yield writer.end();
}

/**
 * An archive's chunks as a Blob, taken one at a time: the browser keeps a Blob's bytes outside the
 * worker's memory (on disk when large), so only the chunks in hand are held here. Small chunks
 * (headers, small files) are gathered up to BLOB_PART first, as each Blob has a cost of its own.
 */
export async function zipBlob(chunks: AsyncIterable<Uint8Array>): Promise<Blob> {
  const parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    if (pending.length > 0) parts.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
    pending = [];
    bytes = 0;
  };
  for await (const chunk of chunks) {
    pending.push(chunk);
    bytes += chunk.byteLength;
    if (bytes >= BLOB_PART) flush();
  }
  flush();
  return new Blob(parts, { type: 'application/zip' });
}

const BLOB_PART = 4 * 2 ** 20;

/**
 * MS-DOS time and date: the local wall clock (2-second resolution), as Info-ZIP, Python's zipfile
 * and the systems' archive tools write and show it; unzip.ts reads it back as local time too.
 */
function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

let tables: Uint32Array[] | undefined;

/**
 * CRC-32 (IEEE 802.3, as zip and gzip use it), eight bytes a step ("slicing by 8"): several times
 * faster than a byte a step, which matters on archives of hundreds of MB. `crc` continues a CRC:
 * crc32(b, crc32(a)) is the CRC of a then b.
 */
export function crc32(data: Uint8Array, crc = 0): number {
  tables ??= makeTables();
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc;
  const n = data.byteLength;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c =
      t7[c & 0xff]! ^
      t6[(c >>> 8) & 0xff]! ^
      t5[(c >>> 16) & 0xff]! ^
      t4[c >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** tables[k][b]: the CRC of byte b followed by k zero bytes. */
function makeTables(): Uint32Array[] {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
    t[0]![n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
  return t;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

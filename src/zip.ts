/**
 * A minimal .zip writer: entries are stored (no compression: Parquet is compressed already),
 * each with a local header, CRC-32 and sizes, then a central directory. Names are UTF-8 with
 * '/' separators. No ZIP64, so each entry and the whole archive must stay under 4 GiB, and there
 * are at most 65,535 entries.
 */

export interface ZipEntry {
  /** path inside the archive, '/'-separated, no leading '/' */
  name: string;
  data: Uint8Array;
  /** milliseconds since the epoch; default now */
  modified?: number;
}

const LIMIT = 0xffff_ffff;
const encoder = new TextEncoder();

export function zip(entries: ZipEntry[]): Uint8Array {
  if (entries.length > 0xffff) throw new Error(`zip: ${entries.length} entries, but an archive without ZIP64 holds at most 65,535`);
  const seen = new Set<string>();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = checkName(entry.name);
    if (seen.has(name)) throw new Error(`zip: two entries are named ${name}`);
    seen.add(name);
    if (entry.data.byteLength > LIMIT) throw new Error(`zip: ${name} is ${entry.data.byteLength} bytes; entries must be under 4 GiB`);
    const nameBytes = encoder.encode(name);
    const crc = crc32(entry.data);
    const { time, date } = dosDateTime(entry.modified ?? Date.now());
    const size = entry.data.byteLength;

    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); // local file header signature
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, 0x0800, true); // flags: names are UTF-8
    local.setUint16(8, 0, true); // method: stored
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true); // compressed size
    local.setUint32(22, size, true); // uncompressed size
    local.setUint16(26, nameBytes.byteLength, true);
    local.setUint16(28, 0, true); // extra field length

    const dir = new DataView(new ArrayBuffer(46));
    dir.setUint32(0, 0x02014b50, true); // central directory header signature
    dir.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0 (so the mode below is read)
    dir.setUint16(6, 20, true);
    dir.setUint16(8, 0x0800, true);
    dir.setUint16(10, 0, true);
    dir.setUint16(12, time, true);
    dir.setUint16(14, date, true);
    dir.setUint32(16, crc, true);
    dir.setUint32(20, size, true);
    dir.setUint32(24, size, true);
    dir.setUint16(28, nameBytes.byteLength, true);
    dir.setUint16(30, 0, true); // extra
    dir.setUint16(32, 0, true); // comment
    dir.setUint16(34, 0, true); // disk number
    dir.setUint16(36, 0, true); // internal attributes
    dir.setUint32(38, (0o100644 << 16) >>> 0, true); // external attributes: a regular file, rw-r--r--
    dir.setUint32(42, offset, true);

    parts.push(new Uint8Array(local.buffer), nameBytes, entry.data);
    central.push(new Uint8Array(dir.buffer), nameBytes);
    offset += 30 + nameBytes.byteLength + size;
    if (offset > LIMIT) throw new Error('zip: the archive would be over 4 GiB, which needs ZIP64');
  }
  const centralSize = central.reduce((s, p) => s + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); // end of central directory signature
  end.setUint16(8, entries.length, true); // entries on this disk
  end.setUint16(10, entries.length, true); // entries in total
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true); // where the central directory starts
  return concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

function checkName(name: string): string {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new Error(`zip: entry name ${JSON.stringify(name)} must be a relative path of non-empty parts without "." or ".."`);
  }
  return name;
}

/** MS-DOS time and date (local fields, 2-second resolution); zip readers show them as-is. */
function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip and gzip use it). */
export function crc32(data: Uint8Array): number {
  table ??= makeTable();
  let crc = 0xffff_ffff;
  for (let i = 0; i < data.byteLength; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffff_ffff) >>> 0;
}

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
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

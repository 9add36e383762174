import { open } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import type { ZipReadable } from '../../src/unzip.ts';
import { crc32 } from '../../src/zip.ts';

/**
 * Archives as no honest writer makes them, for the reader's refusals: every field of a central
 * directory record can be set, two records can share a local header, and the entries can start
 * past 4 GiB (ZIP64 records then, and a sparse file on disk). Written from the APPNOTE's layout.
 */
export interface RawEntry {
  name: string;
  /** the bytes stored after its local header (deflated already for method 8) */
  stored: Uint8Array;
  method?: number;
  /** declared expanded size; default the stored length */
  size?: number;
  /** declared compressed size; default the stored length */
  compressedSize?: number;
  /** default the CRC-32 of `stored` */
  crc?: number;
  /** Unix mode in the external attributes; default a regular file, 0o100644 */
  mode?: number;
  flags?: number;
  /** point this record at the local header of entry `sameAs` instead of one of its own */
  sameAs?: number;
}

export interface RawOptions {
  /** where the first local header starts (the bytes before it are a hole) */
  start?: number;
  /** the entry count the end records declare; default the number of entries */
  count?: number;
  /** ZIP64 end records even when nothing needs them */
  zip64?: boolean;
}

const MAX32 = 0xffff_ffff;

/** `content` deflated, declared with its own size and CRC-32. */
export function deflated(name: string, content: Uint8Array, more: Partial<RawEntry> = {}): RawEntry {
  return { name, stored: new Uint8Array(deflateRawSync(content)), method: 8, size: content.byteLength, crc: crc32(content), ...more };
}

/** The archive as [position, bytes] pieces, and its total size. */
export function rawZip(entries: RawEntry[], options: RawOptions = {}): { pieces: [number, Uint8Array][]; size: number } {
  const enc = new TextEncoder();
  const pieces: [number, Uint8Array][] = [];
  const offsets: number[] = [];
  let at = options.start ?? 0;
  for (const e of entries) {
    if (e.sameAs !== undefined) {
      offsets.push(offsets[e.sameAs]!);
      continue;
    }
    const name = enc.encode(e.name);
    const h = new DataView(new ArrayBuffer(30 + name.byteLength));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true);
    h.setUint16(6, e.flags ?? 0x0800, true);
    h.setUint16(8, e.method ?? 0, true);
    h.setUint32(14, e.crc ?? crc32(e.stored), true);
    h.setUint32(18, Math.min(e.compressedSize ?? e.stored.byteLength, MAX32), true);
    h.setUint32(22, Math.min(e.size ?? e.stored.byteLength, MAX32), true);
    h.setUint16(26, name.byteLength, true);
    new Uint8Array(h.buffer).set(name, 30);
    offsets.push(at);
    pieces.push([at, new Uint8Array(h.buffer)], [at + h.byteLength, e.stored]);
    at += h.byteLength + e.stored.byteLength;
  }
  const dirStart = at;
  entries.forEach((e, i) => {
    const name = enc.encode(e.name);
    const size = e.size ?? e.stored.byteLength;
    const compressed = e.compressedSize ?? e.stored.byteLength;
    const offset = offsets[i]!;
    const big = [size, compressed, offset].filter((v) => v >= MAX32);
    const extra = big.length === 0 ? 0 : 4 + 8 * big.length;
    const r = new DataView(new ArrayBuffer(46 + name.byteLength + extra));
    r.setUint32(0, 0x02014b50, true);
    r.setUint16(4, (3 << 8) | 45, true);
    r.setUint16(6, big.length ? 45 : 20, true);
    r.setUint16(8, e.flags ?? 0x0800, true);
    r.setUint16(10, e.method ?? 0, true);
    r.setUint16(14, (45 << 9) | (1 << 5) | 2, true); // 2025-01-02
    r.setUint32(16, e.crc ?? crc32(e.stored), true);
    r.setUint32(20, Math.min(compressed, MAX32), true);
    r.setUint32(24, Math.min(size, MAX32), true);
    r.setUint16(28, name.byteLength, true);
    r.setUint16(30, extra, true);
    r.setUint32(38, ((e.mode ?? 0o100644) << 16) >>> 0, true);
    r.setUint32(42, Math.min(offset, MAX32), true);
    new Uint8Array(r.buffer).set(name, 46);
    if (extra) {
      r.setUint16(46 + name.byteLength, 0x0001, true);
      r.setUint16(48 + name.byteLength, extra - 4, true);
      big.forEach((v, k) => {
        r.setBigUint64(50 + name.byteLength + 8 * k, BigInt(v), true);
      });
    }
    pieces.push([at, new Uint8Array(r.buffer)]);
    at += r.byteLength;
  });
  const count = options.count ?? entries.length;
  const dirSize = at - dirStart;
  if (options.zip64 || count >= 0xffff || dirStart >= MAX32) {
    const z = new DataView(new ArrayBuffer(76));
    z.setUint32(0, 0x06064b50, true);
    z.setBigUint64(4, 44n, true);
    z.setUint16(12, 45, true);
    z.setUint16(14, 45, true);
    z.setBigUint64(24, BigInt(count), true);
    z.setBigUint64(32, BigInt(count), true);
    z.setBigUint64(40, BigInt(dirSize), true);
    z.setBigUint64(48, BigInt(dirStart), true);
    z.setUint32(56, 0x07064b50, true);
    z.setBigUint64(64, BigInt(at), true);
    z.setUint32(72, 1, true);
    pieces.push([at, new Uint8Array(z.buffer)]);
    at += 76;
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, Math.min(count, 0xffff), true);
  end.setUint16(10, Math.min(count, 0xffff), true);
  end.setUint32(12, Math.min(dirSize, MAX32), true);
  end.setUint32(16, Math.min(dirStart, MAX32), true);
  pieces.push([at, new Uint8Array(end.buffer)]);
  return { pieces, size: at + 22 };
}

/** The archive in one array (it must not start far from 0). */
export function rawBytes(entries: RawEntry[], options: RawOptions = {}): Uint8Array {
  const { pieces, size } = rawZip(entries, options);
  const out = new Uint8Array(size);
  for (const [at, bytes] of pieces) out.set(bytes, at);
  return out;
}

/** The archive written to `file`, holes left unwritten: a sparse file, whatever `start` is. */
export async function writeRaw(file: string, entries: RawEntry[], options: RawOptions = {}): Promise<void> {
  const { pieces, size } = rawZip(entries, options);
  const handle = await open(file, 'w');
  try {
    await handle.truncate(size);
    for (const [at, bytes] of pieces) await handle.write(bytes, 0, bytes.byteLength, at);
  } finally {
    await handle.close();
  }
}

/**
 * A file on disk as random access for the reader, through a file handle: Node 20's openAsBlob
 * gets the size of a file past 4 GiB wrong (modulo 2^32), so such archives are read this way.
 */
export async function fileInput(path: string): Promise<ZipReadable & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    read: async (start, end) => {
      const out = new Uint8Array(Math.max(0, end - start));
      const { bytesRead } = await handle.read(out, 0, out.byteLength, start);
      return out.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

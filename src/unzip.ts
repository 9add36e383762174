/**
 * A minimal .zip reader, the counterpart of zip.ts: reads the central directory, then each entry,
 * stored (method 0) or deflated (method 8, through the platform's DecompressionStream
 * 'deflate-raw', in browsers and in Node 20). Checks each entry's CRC-32. No ZIP64, no
 * encryption, no multi-disk archives: those are refused with a message that says so.
 */
import { crc32, type ZipEntry } from './zip.ts';

const decoder = new TextDecoder();

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Every file of the archive (folders left out), in the order of its central directory. */
export async function unzip(bytes: Uint8Array): Promise<Required<ZipEntry>[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: 22 bytes plus a comment of up to 65,535 bytes, at the end.
  let eocd = -1;
  for (let i = bytes.byteLength - 22; i >= Math.max(0, bytes.byteLength - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('not a .zip file (no end of central directory record)');
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) throw new ZipFormatError('multi-disk .zip archives are not supported');
  const count = view.getUint16(eocd + 10, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffff_ffff) throw new ZipFormatError('ZIP64 archives (over 4 GiB or 65,535 entries) are not supported');

  const out: Required<ZipEntry>[] = [];
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.byteLength || view.getUint32(p, true) !== 0x02014b50) throw new ZipFormatError('damaged .zip: bad central directory');
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const time = view.getUint16(p + 12, true);
    const date = view.getUint16(p + 14, true);
    const crc = view.getUint32(p + 16, true);
    const compressedSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const localOffset = view.getUint32(p + 42, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength)).replace(/\\/g, '/');
    p += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (flags & 0x1) throw new ZipFormatError(`${name}: encrypted entries are not supported`);
    if (compressedSize === 0xffff_ffff || size === 0xffff_ffff || localOffset === 0xffff_ffff) throw new ZipFormatError(`${name}: ZIP64 entries are not supported`);
    if (view.getUint32(localOffset, true) !== 0x04034b50) throw new ZipFormatError(`damaged .zip: no local header for ${name}`);
    const start = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const raw = bytes.subarray(start, start + compressedSize);
    if (raw.byteLength !== compressedSize) throw new ZipFormatError(`damaged .zip: ${name} is cut short`);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) data = await inflateRaw(raw);
    else throw new ZipFormatError(`${name}: compression method ${method} is not supported (only stored and deflate)`);
    if (data.byteLength !== size || crc32(data) !== crc) throw new ZipFormatError(`damaged .zip: ${name} fails its CRC-32 check`);
    const modified = new Date(1980 + (date >> 9), ((date >> 5) & 0xf) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2).getTime();
    out.push({ name, data, modified });
  }
  return out;
}

/**
 * The folder of the archive holding a Delta table: the one with `_delta_log/` in it ('' when the
 * archive's root is the table). The shallowest one wins; undefined when there is none.
 */
export function deltaTableRoot(names: readonly string[]): string | undefined {
  const roots = names
    .map((n) => /^(?:(.*)\/)?_delta_log\/[^/]+$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1] ?? '')
    .filter((r) => !r.split('/').includes('_delta_log'));
  roots.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  return roots[0];
}

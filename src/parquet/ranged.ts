import type { RowSlice } from './codec.ts';
import { T, ThriftReader, ThriftWriter, field, type TList, type TStruct } from './thrift.ts';

/** `length` bytes of one file from byte `offset` (Storage.readRange on a path). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** Rows of a file as a smaller Parquet file holding only the row groups they lie in. */
export interface RowGroupsRead {
  /** a Parquet file of the row groups the slice falls in, for decodeParquet */
  bytes: Uint8Array;
  /** the slice, counted in the rows of `bytes` */
  slice: RowSlice;
  /** bytes read from the file, footer included */
  bytesRead: number;
}

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1
/** Read with the last 8 bytes at once: most footers fit, so one read finds the metadata too. */
const TAIL = 64 * 1024;

/**
 * The rows `slice` of a Parquet file of `size` bytes, reading only its footer and the row groups
 * they lie in: the footer is rewritten to list just those groups, with their column chunks moved
 * to where they lie in the new bytes (page indexes and bloom filters, which lie elsewhere in the
 * file, are left out). Undefined when that saves nothing (one row group, or all of them needed)
 * or the file is one this does not take apart (an encrypted footer, columns in other files, an
 * unexpected footer): the caller reads the whole file then, whose reader says what is wrong.
 */
export async function readRowGroups(read: ReadAt, size: number, slice: RowSlice): Promise<RowGroupsRead | undefined> {
  if (size < 12) return undefined;
  const tailLength = Math.min(size, TAIL);
  let tail = await read(size - tailLength, tailLength);
  let bytesRead = tail.byteLength;
  const n = tail.byteLength;
  if (n !== tailLength || !MAGIC.every((b, i) => tail[n - 4 + i] === b)) return undefined;
  const footerLength = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
  if (footerLength + 12 > size) return undefined;
  if (footerLength + 8 > n) {
    tail = await read(size - footerLength - 8, footerLength + 8);
    bytesRead += tail.byteLength;
    if (tail.byteLength !== footerLength + 8) return undefined;
  }
  let meta: TStruct;
  try {
    meta = new ThriftReader(tail.subarray(tail.byteLength - 8 - footerLength, tail.byteLength - 8)).struct();
  } catch {
    return undefined;
  }
  if (field(meta, 8)) return undefined; // encryption_algorithm: a plaintext footer of an encrypted file
  const groups = ((field(meta, 4)?.value as TList | undefined)?.items ?? []) as TStruct[];

  const chosen: { group: TStruct; start: number; end: number }[] = [];
  let first = -1;
  let at = 0;
  for (const group of groups) {
    const rows = Number(field(group, 3)?.value ?? -1);
    if (rows < 0) return undefined;
    if (at + rows > slice.offset && at < slice.offset + slice.limit) {
      if (first < 0) first = at;
      const span = chunkSpan(group, size);
      if (!span) return undefined;
      chosen.push({ group, ...span });
    }
    at += rows;
  }
  if (chosen.length === 0 || chosen.length === groups.length) return undefined;

  const blocks = await Promise.all(chosen.map((c) => read(c.start, c.end - c.start)));
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  let position = MAGIC.length;
  let rows = 0n;
  const kept: TStruct[] = [];
  for (const [i, c] of chosen.entries()) {
    const block = blocks[i]!;
    bytesRead += block.byteLength;
    if (block.byteLength !== c.end - c.start) return undefined;
    kept.push(moved(c.group, BigInt(position - c.start)));
    rows += BigInt(field(c.group, 3)!.value as bigint | number);
    parts.push(block);
    position += block.byteLength;
  }
  const footer = new ThriftWriter();
  footer.struct(
    meta.map((f) => {
      if (f.id === 3) return { ...f, value: rows };
      if (f.id === 4) return { ...f, value: { elementType: T.STRUCT, items: kept } };
      return f;
    }),
  );
  const footerBytes = footer.result();
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, footerBytes.byteLength, true);
  parts.push(footerBytes, length, Uint8Array.from(MAGIC));
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.byteLength;
  }
  const skipped = slice.offset - first;
  return { bytes, slice: { offset: Math.max(0, skipped), limit: slice.limit + Math.min(0, skipped) }, bytesRead };
}

/** Where a row group's column chunks lie: from the first chunk's first page to the last chunk's end. */
function chunkSpan(group: TStruct, size: number): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const chunk of ((field(group, 1)?.value as TList | undefined)?.items ?? []) as TStruct[]) {
    if (field(chunk, 1)) return undefined; // file_path: the chunk lies in another file
    const meta = field(chunk, 3)?.value as TStruct | undefined;
    if (!meta) return undefined;
    const from = chunkStart(meta);
    const length = Number(field(meta, 7)?.value ?? -1);
    if (from === undefined || length < 0) return undefined;
    start = Math.min(start, from);
    end = Math.max(end, from + length);
  }
  if (!(start >= MAGIC.length && end <= size && start < end)) return undefined;
  return { start, end };
}

/** A column chunk's first byte, as arrow-rs finds it: its dictionary page if any, else its first data page. */
function chunkStart(meta: TStruct): number | undefined {
  const at = field(meta, 11)?.value ?? field(meta, 9)?.value;
  return at === undefined ? undefined : Number(at);
}

/** I64 fields that give a place in the file: ColumnMetaData's data, index and dictionary page offsets. */
const PAGE_OFFSETS = new Set([9, 10, 11]);

/** A row group with its chunks' offsets moved by `by` bytes, and what lies outside it dropped. */
function moved(group: TStruct, by: bigint): TStruct {
  const shift = (v: unknown): bigint => {
    const to = BigInt(v as bigint | number) + by;
    return to < 0n ? 0n : to;
  };
  return group.map((f) => {
    if (f.id === 5) return { ...f, value: shift(f.value) }; // file_offset
    if (f.id !== 1) return f;
    const list = f.value as TList;
    const chunks = (list.items as TStruct[]).map((chunk) =>
      chunk
        // offset and column indexes (4–7) lie outside the copied bytes
        .filter((c) => c.id < 4 || c.id > 7)
        .map((c) => {
          if (c.id === 2) return { ...c, value: shift(c.value) };
          if (c.id !== 3) return c;
          const meta = (c.value as TStruct)
            // bloom filter offset and length lie outside too
            .filter((m) => m.id !== 14 && m.id !== 15)
            .map((m) => (PAGE_OFFSETS.has(m.id) ? { ...m, value: shift(m.value) } : m));
          return { ...c, value: meta };
        }),
    );
    return { ...f, value: { ...list, items: chunks } };
  });
}

import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { decodeParquet, encodeParquet, ROW_GROUP_ROWS, type RowSlice } from '../src/parquet/codec.ts';
import { initParquet } from '../src/parquet/node.ts';
import { readRowGroups } from '../src/parquet/ranged.ts';
import { ThriftReader, field, type TList } from '../src/parquet/thrift.ts';

initParquet();

const ROWS = 10_000;
const ipc = tableToIPC(
  tableFromArrays({
    id: Int32Array.from({ length: ROWS }, (_, i) => i),
    stage: Array.from({ length: ROWS }, (_, i) => ['draft', 'edit', 'review', 'publish'][i % 4]!),
    note: Array.from({ length: ROWS }, (_, i) => (i % 7 === 0 ? null : `note ${i * 7919}`)),
    at: Float64Array.from({ length: ROWS }, (_, i) => 1.7e12 + i * 1000.5),
  }),
  'stream',
);
/** 10 row groups of 1,000 rows */
const file = encodeParquet(ipc, { maxRowGroupSize: 1000 });

const rows = (ipcBytes: Uint8Array) =>
  tableFromIPC(ipcBytes)
    .toArray()
    .map((r) => JSON.stringify(r));

/** Reads of `bytes` by range, counted. */
function reader(bytes: Uint8Array) {
  const reads: [number, number][] = [];
  return {
    reads,
    read: async (offset: number, length: number) => {
      reads.push([offset, length]);
      return bytes.slice(offset, offset + length);
    },
  };
}

describe('readRowGroups: some rows of a Parquet file by ranged reads', () => {
  const slices: RowSlice[] = [
    { offset: 0, limit: 100 },
    { offset: 999, limit: 2 },
    { offset: 1000, limit: 1000 },
    { offset: 2500, limit: 3000 },
    { offset: 9990, limit: 10 },
    { offset: 9990, limit: 100 },
  ];
  for (const slice of slices) {
    test(`rows ${slice.offset}+${slice.limit}: the same as decoding the whole file, reading only their row groups`, async () => {
      const { read, reads } = reader(file);
      const part = await readRowGroups(read, file.byteLength, slice);
      expect(part).toBeDefined();
      expect(rows(decodeParquet(part!.bytes, undefined, part!.slice))).toEqual(rows(decodeParquet(file, undefined, slice)));
      const groups = Math.ceil((Math.min(ROWS, slice.offset + slice.limit) - Math.floor(slice.offset / 1000) * 1000) / 1000);
      // the tail (footer), then one read per row group
      expect(reads).toHaveLength(1 + groups);
      expect(part!.bytesRead).toBe(reads.reduce((s, [, n]) => s + n, 0));
      // past the tail, only about the groups' share of the file
      expect(part!.bytesRead - reads[0]![1]).toBeLessThan(file.byteLength * ((groups + 1) / 10));
    });
  }

  test('the rewritten footer lists only the groups read, with their row count', async () => {
    const part = (await readRowGroups(reader(file).read, file.byteLength, { offset: 2500, limit: 3000 }))!;
    const n = part.bytes.byteLength;
    const length = new DataView(part.bytes.buffer, part.bytes.byteOffset + n - 8, 4).getUint32(0, true);
    const meta = new ThriftReader(part.bytes.subarray(n - 8 - length, n - 8)).struct();
    expect(field(meta, 3)?.value).toBe(4000n);
    expect((field(meta, 4)!.value as TList).items).toHaveLength(4);
    expect(part.slice).toEqual({ offset: 500, limit: 3000 });
  });

  test('nothing to save: one row group, or every group needed; not Parquet: left to the whole-file reader', async () => {
    const one = encodeParquet(ipc, { maxRowGroupSize: ROWS });
    expect(await readRowGroups(reader(one).read, one.byteLength, { offset: 0, limit: 10 })).toBeUndefined();
    expect(await readRowGroups(reader(file).read, file.byteLength, { offset: 10, limit: ROWS })).toBeUndefined();
    const junk = new TextEncoder().encode('not a parquet file at all');
    expect(await readRowGroups(reader(junk).read, junk.byteLength, { offset: 0, limit: 10 })).toBeUndefined();
    // A footer that claims to be longer than the file.
    const lying = file.slice();
    new DataView(lying.buffer).setUint32(lying.byteLength - 8, lying.byteLength, true);
    expect(await readRowGroups(reader(lying).read, lying.byteLength, { offset: 0, limit: 10 })).toBeUndefined();
  });

  test('a footer longer than the first read of the tail is read in a second one', async () => {
    const wide = tableToIPC(
      tableFromArrays(
        Object.fromEntries(Array.from({ length: 300 }, (_, c) => [`column_with_a_long_name_${c}`, Int32Array.from({ length: 4000 }, (_, i) => i * c)])),
      ),
      'stream',
    );
    const bytes = encodeParquet(wide, { maxRowGroupSize: 1000 });
    const { read, reads } = reader(bytes);
    const part = await readRowGroups(read, bytes.byteLength, { offset: 1500, limit: 10 });
    expect(reads.length).toBe(3);
    expect(rows(decodeParquet(part!.bytes, undefined, part!.slice))).toEqual(rows(decodeParquet(bytes, undefined, { offset: 1500, limit: 10 })));
  });

  test('the writer splits a file into groups of ROW_GROUP_ROWS rows', () => {
    const big = tableToIPC(tableFromArrays({ id: Int32Array.from({ length: 300_000 }, (_, i) => i) }), 'stream');
    const bytes = encodeParquet(big);
    const n = bytes.byteLength;
    const length = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
    const meta = new ThriftReader(bytes.subarray(n - 8 - length, n - 8)).struct();
    const groups = (field(meta, 4)!.value as TList).items as ReturnType<ThriftReader['struct']>[];
    expect(groups.map((g) => Number(field(g, 3)?.value))).toEqual([ROW_GROUP_ROWS, ROW_GROUP_ROWS, 300_000 - 2 * ROW_GROUP_ROWS]);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Add, DeletionVectorDescriptor } from '../src/delta/actions.ts';
import { DeletionVectors, decodeRoaringBitmapArray, deletionVectorFile, z85Decode } from '../src/delta/deletion-vectors.ts';
import { DeletionVectorError } from '../src/delta/protocol.ts';
import type { Snapshot } from '../src/delta/snapshot.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { crc32 } from '../src/zip.ts';
import { FIXTURES } from './helpers/fixtures.ts';

interface Vector {
  name: string;
  ranges: [number, number, number][];
  cardinality: number;
  sizeInBytes: number;
  hex: string;
  z85: string;
}

const vectors = (JSON.parse(readFileSync(join(FIXTURES, 'roaring-vectors.json'), 'utf8')) as { cases: Vector[] }).cases;
const vector = (name: string): Vector => vectors.find((v) => v.name === name)!;
const bytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const expand = (ranges: [number, number, number][]): number[] =>
  ranges.flatMap(([start, stop, step]) => Array.from({ length: Math.ceil((stop - start) / step) }, (_, i) => start + i * step));

describe('RoaringBitmapArray decoding (vectors serialised by CRoaring)', () => {
  it.each(vectors)('$name', (v) => {
    const rows = decodeRoaringBitmapArray(bytes(v.hex));
    expect(rows.length).toBe(v.cardinality);
    expect([...rows]).toEqual(expand(v.ranges));
  });

  it('gives exact row indexes: array containers, and values above 2^32', () => {
    expect([...decodeRoaringBitmapArray(bytes(vector("array container (the protocol's example rows)").hex))]).toEqual([3, 4, 7, 11, 18, 29]);
    expect([...decodeRoaringBitmapArray(bytes(vector('values above 2^32').hex))]).toEqual([
      0, 4294967297, 4295037296, 21474836480, 21474836481, 21474836482, 21474836483, 21474836484, 21474836485, 21474836486, 21474836487, 21474836488,
      21474836489,
    ]);
  });

  it('reads run containers, with and without the offset header', () => {
    const run = decodeRoaringBitmapArray(bytes(vector('run container').hex));
    expect([run[0], run[4899], run[4900], run[4902]]).toEqual([100, 4999, 7000, 7002]);
    // the cookie 12347 (0x303b) marks a bitmap with run containers
    expect(vector('run container').hex.slice(32, 40)).toBe('3b300000');
    const two = decodeRoaringBitmapArray(bytes(vector('two containers with runs (no offset header)').hex));
    expect([two.length, two[9], two[10], two[40009]]).toEqual([40010, 19, 65536, 105535]);
  });

  it('reads bitmap containers', () => {
    const even = decodeRoaringBitmapArray(bytes(vector('bitmap container').hex));
    expect([even.length, even[0], even[1], even[5999]]).toEqual([6000, 0, 2, 11998]);
    // 6,000 values in one container: 8,192 bytes of bitmap, no runs
    expect(vector('bitmap container').sizeInBytes).toBe(4 + 8 + 4 + 8 + 4 + 4 + 8192);
  });

  it('refuses the native format, a wrong magic number, and bytes cut short or left over', () => {
    const native = bytes(vector('empty').hex);
    native[0] = 0xd0;
    expect(() => decodeRoaringBitmapArray(native)).toThrow(
      'it is in the native RoaringBitmapArray format, which this reader does not read (only the portable one)',
    );
    expect(() => decodeRoaringBitmapArray(bytes(`00000000${vector('empty').hex.slice(8)}`))).toThrow(
      'it does not start with the magic number 1681511377 (found 0)',
    );
    const full = bytes(vector('values above 2^32').hex);
    expect(() => decodeRoaringBitmapArray(full.subarray(0, full.length - 1))).toThrow(`it ends after ${full.length - 1} bytes, in the middle of its data`);
    expect(() => decodeRoaringBitmapArray(Uint8Array.from([...full, 0]))).toThrow('1 bytes follow its last bucket');
  });
});

describe('deletion vector descriptors', () => {
  it('decode Z85 as the protocol’s examples', () => {
    expect(deletionVectorFile({ storageType: 'u', pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^', offset: 4, sizeInBytes: 40, cardinality: 6 })).toBe(
      'ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
    );
    expect(deletionVectorFile({ storageType: 'u', pathOrInlineDv: 'vBn[lx{q8@P<9BNH/isA', offset: 1, sizeInBytes: 36, cardinality: 2 })).toBe(
      'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin',
    );
    expect([...z85Decode('HelloWorld')]).toEqual([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(deletionVectorFile({ storageType: 'i', pathOrInlineDv: 'x', sizeInBytes: 1, cardinality: 1 })).toBeUndefined();
  });

  it('follow a `p` path only inside the table folder', () => {
    const p = (path: string): DeletionVectorDescriptor => ({ storageType: 'p', pathOrInlineDv: path, offset: 1, sizeInBytes: 34, cardinality: 1 });
    expect(deletionVectorFile(p('dv/deletion_vector%20a.bin'))).toBe('dv/deletion_vector a.bin');
    expect(() => deletionVectorFile(p('s3://other/deletion_vector_a.bin'))).toThrow("it is a s3: URI, and only files inside the table's folder are read");
    expect(() => deletionVectorFile(p('/data/other/deletion_vector_a.bin'))).toThrow(
      "it is an absolute path, and only files inside the table's folder are read",
    );
    expect(() => deletionVectorFile(p('dv/%2E%2E/%2E%2E/x.bin'))).toThrow('its ".." leads out of the table\'s folder');
    expect(deletionVectorFile(p('file:///data/t/dv/deletion_vector_a.bin'), 'file:///data/t')).toBe('dv/deletion_vector_a.bin');
    expect(() => deletionVectorFile(p('file:///data/other/deletion_vector_a.bin'), 'file:///data/t')).toThrow(
      "it is an absolute path outside the table's folder /data/t",
    );
  });
});

/** A DV file as Spark writes it: a version byte, then per vector a big-endian size, the vector and its CRC-32. */
function dvFile(...parts: Uint8Array[]): { file: Uint8Array; offsets: number[] } {
  const chunks: number[] = [1];
  const offsets: number[] = [];
  for (const data of parts) {
    offsets.push(chunks.length);
    const head = new DataView(new ArrayBuffer(4));
    head.setUint32(0, data.length);
    const tail = new DataView(new ArrayBuffer(4));
    tail.setUint32(0, crc32(data));
    chunks.push(...new Uint8Array(head.buffer), ...data, ...new Uint8Array(tail.buffer));
  }
  return { file: Uint8Array.from(chunks), offsets };
}

class CountingStorage extends MemoryStorage {
  reads: string[] = [];
  override read(path: string): Promise<Uint8Array> {
    this.reads.push(path);
    return super.read(path);
  }
}

const UUID_FILE = 'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin';
const snapshot = { table: 't', name: 'memory/t', version: 3 } as Snapshot;
const add = (path: string, deletionVector: DeletionVectorDescriptor): Add => ({
  path,
  partitionValues: {},
  size: 1,
  modificationTime: 0,
  dataChange: true,
  deletionVector,
});

describe('reading deletion vectors of a snapshot', () => {
  const a = vector("array container (the protocol's example rows)");
  const b = vector('values above 2^32');
  const stored = (offset: number, v: Vector, cardinality = v.cardinality): DeletionVectorDescriptor => ({
    storageType: 'u',
    pathOrInlineDv: 'vBn[lx{q8@P<9BNH/isA',
    offset,
    sizeInBytes: v.sizeInBytes,
    cardinality,
  });

  it('reads a file shared by several data files once, each vector at its offset', async () => {
    const storage = new CountingStorage();
    const { file, offsets } = dvFile(bytes(a.hex), bytes(b.hex));
    await storage.write(`t/${UUID_FILE}`, file);
    const dvs = new DeletionVectors(storage, snapshot);
    expect([...(await dvs.deletedRows(add('one.parquet', stored(offsets[0]!, a))))!]).toEqual([3, 4, 7, 11, 18, 29]);
    expect((await dvs.deletedRows(add('two.parquet', stored(offsets[1]!, b))))!.length).toBe(13);
    expect(storage.reads).toEqual([`t/${UUID_FILE}`]);
    expect(await dvs.deletedRows({ ...add('three.parquet', stored(1, a)), deletionVector: null })).toBeUndefined();
  });

  it('reads inline vectors', async () => {
    const dvs = new DeletionVectors(new MemoryStorage(), snapshot);
    const inline = { storageType: 'i', pathOrInlineDv: a.z85, sizeInBytes: a.sizeInBytes, cardinality: 6 };
    expect([...(await dvs.deletedRows(add('x.parquet', inline)))!]).toEqual([3, 4, 7, 11, 18, 29]);
  });

  it('the rows kept: a bitmap over the file; a deleted row past its end is refused', async () => {
    const storage = new MemoryStorage();
    await storage.write(`t/${UUID_FILE}`, dvFile(bytes(a.hex)).file);
    const dvs = new DeletionVectors(storage, snapshot);
    const file = add('one.parquet', stored(1, a));
    const deleted = (await dvs.deletedRows(file))!;
    const kept = dvs.keptRows(file, deleted, 30);
    const rows = Array.from({ length: 30 }, (_, i) => i).filter((i) => kept[i >> 3]! & (1 << (i & 7)));
    expect(rows).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => ![3, 4, 7, 11, 18, 29].includes(i)));
    expect(() => dvs.keptRows(file, deleted, 29)).toThrow(
      `delta: version 3 of memory/t cannot be read: the deletion vector of data file one.parquet (in ${UUID_FILE}) is unusable: it deletes row 29, but the data file has 29 rows`,
    );
  });

  it('refuses, naming table, version, data file and vector file: bad checksum, size, cardinality, missing file', async () => {
    const storage = new MemoryStorage();
    const { file } = dvFile(bytes(a.hex));
    const refusal = async (dv: DeletionVectorDescriptor): Promise<unknown> =>
      new DeletionVectors(storage, snapshot).deletedRows(add('part-1.parquet', dv)).catch((e: unknown) => e);
    const prefix = `delta: version 3 of memory/t cannot be read: the deletion vector of data file part-1.parquet (in ${UUID_FILE}) is unusable: `;

    const corrupt = file.slice();
    corrupt[10]! ^= 1;
    await storage.write(`t/${UUID_FILE}`, corrupt);
    const err = await refusal(stored(1, a));
    expect(err).toBeInstanceOf(DeletionVectorError);
    expect((err as Error).name).toBe('DeletionVectorError');
    const crc = (data: Uint8Array) => `0x${crc32(data).toString(16).padStart(8, '0')}`;
    expect((err as Error).message).toBe(
      `${prefix}the vector at offset 1 fails its CRC-32 check (${crc(corrupt.subarray(5, 5 + a.sizeInBytes))}, stored ${crc(bytes(a.hex))})`,
    );

    await storage.write(`t/${UUID_FILE}`, file);
    expect(((await refusal({ ...stored(1, a), sizeInBytes: 40 })) as Error).message).toBe(
      `${prefix}the vector at offset 1 has ${a.sizeInBytes} bytes, the log says 40`,
    );
    expect(((await refusal(stored(1, a, 7))) as Error).message).toBe(`${prefix}it holds 6 row indexes, the log says 7`);
    expect(((await refusal(stored(2, a))) as Error).message).toBe(`${prefix}the file has ${file.length} bytes, too few for ${a.sizeInBytes} bytes at offset 2`);
    expect(((await refusal(stored(0, a))) as Error).message).toBe(`${prefix}its offset 0 is not a position after the file's version byte`);
    await storage.delete(`t/${UUID_FILE}`);
    expect(((await refusal(stored(1, a))) as Error).message).toBe(`${prefix}its file does not exist (VACUUM may have deleted it)`);
    const outside = await refusal({ storageType: 'p', pathOrInlineDv: 'file:/elsewhere/deletion_vector_x.bin', offset: 1, sizeInBytes: 34, cardinality: 1 });
    expect((outside as Error).message).toBe(
      'delta: version 3 of memory/t cannot be read: the deletion vector of data file part-1.parquet (in file:/elsewhere/deletion_vector_x.bin) is unusable: ' +
        "it is an absolute path, and only files inside the table's folder are read",
    );
  });
});

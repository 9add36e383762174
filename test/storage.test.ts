import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkStorage } from '../src/storage/contract.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { ZipStorage } from '../src/storage/zip.ts';
import { ZipArchive } from '../src/unzip.ts';
import { deflated, rawBytes } from './helpers/raw-zip.ts';

// The same contract runs on OPFS inside the browser worker: test/e2e/storage.e2e.test.ts.
describe('storage contract', () => {
  const roots: string[] = [];
  afterAll(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

  test('MemoryStorage', async () => {
    expect(await checkStorage(new MemoryStorage())).toEqual([]);
  });

  test('NodeStorage', async () => {
    const root = await mkdtemp(join(tmpdir(), 'storage-contract-'));
    roots.push(root);
    expect(await checkStorage(new NodeStorage(root), 'contract')).toEqual([]);
    // Nothing left behind, not even temp files.
    expect(await readdir(root, { recursive: true })).toEqual([]);
  });
});

describe('ranged reads of a .zip (read-only, so outside the contract)', () => {
  const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
  const cases: [number, number][] = [
    [0, 4],
    [data.byteLength - 8, 8],
    [65_537, 1000],
    [10, 0],
    [data.byteLength - 3, 50],
    [data.byteLength + 5, 10],
  ];

  test('stored and deflated entries, as bytes and as a Blob', async () => {
    const bytes = rawBytes([{ name: 't/stored.parquet', stored: data }, deflated('t/deflated.parquet', data)]);
    for (const input of [bytes, new Blob([bytes as Uint8Array<ArrayBuffer>])]) {
      const storage = new ZipStorage(await ZipArchive.open('t.zip', input));
      for (const path of ['t/stored.parquet', 't/deflated.parquet'])
        for (const [offset, length] of cases)
          expect(await storage.readRange(path, offset, length), `${path} ${offset}+${length}`).toEqual(data.subarray(offset, offset + length));
      expect(storage.readPaths).toEqual(['t/stored.parquet', 't/deflated.parquet']);
      await expect(storage.readRange('t/none', 0, 1)).rejects.toThrow('no file t/none in archive t.zip');
      await expect(storage.readRange('t/stored.parquet', 0, -1)).rejects.toThrow(RangeError);
    }
  });
});

describe('the contract catches broken storage', () => {
  test('a putIfAbsent that checks, then writes', async () => {
    class Racy extends MemoryStorage {
      override async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
        if (await this.stat(path)) return false;
        await new Promise((resolve) => setTimeout(resolve, 1));
        await this.write(path, data);
        return true;
      }
    }
    const failures = await checkStorage(new Racy());
    expect(failures).toEqual(['putIfAbsent race: 8 racing putIfAbsent: expected exactly 1 true, got 8']);
  });

  test('a read that fails with a generic error, a list that is not recursive', async () => {
    class Sloppy extends MemoryStorage {
      override async read(path: string): Promise<Uint8Array> {
        if (!(await this.stat(path))) throw new Error('nope');
        return super.read(path);
      }
      override async list(dir: string) {
        const prefix = dir.replace(/\/?$/, '/');
        return (await super.list(dir)).filter((f) => !f.path.slice(prefix.length).includes('/'));
      }
    }
    const failures = await checkStorage(new Sloppy(), 'base');
    expect(failures[0]).toBe('missing file: read of a missing file: expected NotFoundError, got Error: nope');
    expect(failures).toContain(
      'list: list base/list/t: expected [["base/list/t/_delta_log/00000000000000000000.json",2],' +
        '["base/list/t/day=2024-01-01/part-0.parquet",3],["base/list/t/day=2024-01-02/part-1.parquet",5]], got []',
    );
  });

  test('a readRange that ignores the offset', async () => {
    class Lazy extends MemoryStorage {
      override async readRange(path: string, _offset: number, length: number): Promise<Uint8Array> {
        return (await this.read(path)).subarray(0, length);
      }
    }
    const failures = await checkStorage(new Lazy(), 'base');
    expect(failures).toEqual(['read a range: readRange(3145737, 8): expected 8 bytes, got 8 (first difference at byte 0)']);
  });

  test('a write that shows a growing file', async () => {
    class Torn extends MemoryStorage {
      override async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
        if (await this.stat(path)) return false;
        for (let n = 0; n < data.byteLength; n += data.byteLength / 4) {
          await this.write(path, data.subarray(0, n));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await this.write(path, data);
        return true;
      }
    }
    const failures = await checkStorage(new Torn(), 'base');
    expect(failures.filter((f) => f.startsWith('no partial file is visible'))).toHaveLength(1);
    expect(failures.find((f) => f.startsWith('no partial file'))).toMatch(/a reader saw sizes .* of a 4194304-byte file/);
  });
});

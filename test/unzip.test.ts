import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { unzip, ZipFormatError } from '../src/unzip.ts';
import { deltaTableRoot, tableRoots } from '../src/worker/opened.ts';
import { zip } from '../src/zip.ts';
import { FIXTURES } from './helpers/fixtures.ts';

const text = (s: string) => new TextEncoder().encode(s);
const FIXTURE = resolve(FIXTURES, 'data-reader-timestamp_ntz');

describe('unzip', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'unzip-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('reads back what zip.ts writes (stored entries)', async () => {
    const big = new Uint8Array(100_000).map((_, i) => (i * 7919) % 251);
    const entries = [
      { name: 't/_delta_log/00000000000000000000.json', data: text('{"commitInfo":{}}\n'), modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
      { name: 't/part-00000 é.parquet', data: big, modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
      { name: 't/empty', data: new Uint8Array(0), modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
    ];
    expect(await unzip(zip(entries))).toEqual(entries);
  });

  test('reads a deflated archive made by Python, and refuses a damaged one', async () => {
    const file = join(dir, 'deflated.zip');
    const script = [
      'import zipfile, sys',
      'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:',
      '    z.writestr("a/", "")',
      '    z.writestr("a/b.txt", "hello " * 1000)',
      '    z.writestr("c.bin", bytes(range(256)) * 10, compress_type=zipfile.ZIP_STORED)',
    ].join('\n');
    execFileSync('python3', ['-c', script, file]);
    const bytes = new Uint8Array(await readFile(file));
    const entries = await unzip(bytes);
    expect(entries.map((e) => e.name)).toEqual(['a/b.txt', 'c.bin']);
    expect(new TextDecoder().decode(entries[0]!.data)).toBe('hello '.repeat(1000));
    expect(entries[1]!.data).toEqual(new Uint8Array(2560).map((_, i) => i % 256));

    await expect(unzip(text('not a zip at all, no, not at all'))).rejects.toThrow(
      new ZipFormatError('the archive is not a .zip file (no end of central directory record)'),
    );
    const damaged = bytes.slice();
    // 200 bytes from the end: inside c.bin's stored data, before the central directory (~170 bytes).
    damaged[bytes.length - 200] = (damaged[bytes.length - 200]! + 1) % 256;
    await expect(unzip(damaged, 'deflated.zip')).rejects.toThrow(new ZipFormatError('deflated.zip is damaged: entry "c.bin" fails its CRC-32 check'));
    // Cut short: the end records are gone, so it is no .zip any more.
    await expect(unzip(bytes.subarray(0, bytes.length - 30), 'cut.zip')).rejects.toThrow('cut.zip is not a .zip file (no end of central directory record)');
  });

  test('finds the table root', () => {
    expect(deltaTableRoot(['x/delta/_delta_log/00000000000000000000.json', 'x/delta/part-0.parquet'])).toBe('x/delta');
    expect(deltaTableRoot(['_delta_log/00000000000000000000.json'])).toBe('');
    expect(deltaTableRoot(['a/b.txt'])).toBeUndefined();
    const names = [
      'z/_delta_log/0.json',
      'b/c/_delta_log/0.json',
      'a/_delta_log/_sidecars/s.parquet',
      'a/_delta_log/0.json',
      'a/_delta_log/t/_delta_log/0.json',
    ];
    expect(tableRoots(names)).toEqual(['a', 'b/c', 'z']);
    expect(deltaTableRoot(names)).toBe('a');
  });

  test('a Delta table zipped by the zip CLI (deflate) loads into a MemoryStorage', async () => {
    const file = join(dir, 'table.zip');
    execFileSync('zip', ['-r', '-q', '-9', file, 'delta'], { cwd: FIXTURE });
    const entries = await unzip(new Uint8Array(await readFile(file)));
    const root = deltaTableRoot(entries.map((e) => e.name));
    expect(root).toBe('delta');
    const storage = new MemoryStorage();
    for (const e of entries) await storage.write(e.name, e.data);
    const snapshot = await loadSnapshot(storage, root!);
    expect(snapshot.schema.fields.map((c) => c.name)).toContain('tsNtzPartition');
  });
});

describe('a Delta table opened from a .zip', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'opened-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('shows schema, history and versions through the catalog; refuses unsupported features with the reason', async () => {
    const { openZippedTable } = await import('../src/worker/opened.ts');
    const file = join(dir, 'ntz.zip');
    execFileSync('zip', ['-r', '-q', '-9', file, 'delta'], { cwd: FIXTURE });
    const bytes = new Uint8Array(await readFile(file));
    const opened = await openZippedTable('ntz.zip', bytes);
    expect(opened.root).toBe('delta');
    const t = await opened.details();
    expect(t.schema.map((c) => c.name)).toEqual(['id', 'tsNtz', 'tsNtzPartition']);
    expect(t.schema.find((c) => c.name === 'tsNtz')?.type).toBe('timestamp_ntz');
    expect(t.partitionColumns).toEqual(['tsNtzPartition']);
    expect(t.history.length).toBeGreaterThan(0);
    expect(t.versions).toContain(0);
    const old = await opened.catalog.snapshot('delta', 0);
    expect(old.version).toBe(0);

    // The same table needing a reader feature this reader does not know: refused, with why.
    const entries = await unzip(bytes);
    const log0 = entries.find((e) => e.name === 'delta/_delta_log/00000000000000000000.json')!;
    const future = { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['futureFeature'], writerFeatures: ['futureFeature'] } };
    const lines = new TextDecoder()
      .decode(log0.data)
      .split('\n')
      .filter((l) => l && !l.startsWith('{"protocol"'));
    log0.data = text(`${[...lines, JSON.stringify(future)].join('\n')}\n`);
    await expect(openZippedTable('future.zip', zip(entries))).rejects.toThrow(
      'delta: archive future.zip/delta needs the reader feature "futureFeature", which this reader does not support: unknown feature',
    );

    await expect(openZippedTable('none.zip', zip([{ name: 'a.txt', data: text('x') }]))).rejects.toThrow('none.zip holds no Delta table');
  });
});

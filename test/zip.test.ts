import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crc32, zip } from '../src/zip.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('zip', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('crc32 of known inputs', () => {
    expect(crc32(text(''))).toBe(0);
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(text('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    // Eight bytes a step, with a tail that is not a multiple of eight; values from Python's zlib.crc32.
    const odd = new Uint8Array(100_003).map((_, i) => (i * 7919) % 251);
    expect(crc32(new Uint8Array(2 ** 20))).toBe(0xa738ea1c);
    expect(crc32(odd)).toBe(0xc80ec9c3);
    // Continued over pieces cut anywhere.
    expect(crc32(odd.subarray(5), crc32(odd.subarray(0, 5)))).toBe(0xc80ec9c3);
    expect(crc32(odd.subarray(65_539), crc32(odd.subarray(1234, 65_539), crc32(odd.subarray(0, 1234))))).toBe(0xc80ec9c3);
  });

  test('an archive that unzip and Python read back byte for byte', async () => {
    const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
    const entries = [
      { name: 'events/_delta_log/00000000000000000000.json', data: text('{"commitInfo":{}}\n'), modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
      { name: 'events/part-00000 é.parquet', data: big },
      { name: 'events/empty', data: new Uint8Array(0) },
    ];
    const file = join(dir, 'table.zip');
    await writeFile(file, zip(entries));

    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toContain('No errors detected');
    const py = `
import sys, zipfile, hashlib, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.file_size, i.compress_type, list(i.date_time), hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))
`;
    const listed = JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' })) as [string, number, number, number[], string][];
    const sha = async (b: Uint8Array) => Buffer.from(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)).toString('hex');
    expect(listed.map(([n, size, method]) => [n, size, method])).toEqual(entries.map((e) => [e.name, e.data.byteLength, 0]));
    expect(listed[0]![3]).toEqual([2025, 1, 2, 3, 4, 6]);
    for (const [i, e] of entries.entries()) expect(listed[i]![4]).toBe(await sha(e.data));

    const out = join(dir, 'out');
    execFileSync('unzip', ['-q', file, '-d', out]);
    expect(execFileSync('find', [out, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(
      entries.map((e) => join(out, e.name)).sort(),
    );
  });

  test('an empty archive is valid', async () => {
    const file = join(dir, 'empty.zip');
    await writeFile(file, zip([]));
    expect(execFileSync('python3', ['-c', 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).infolist()))', file], { encoding: 'utf8' }).trim()).toBe(
      '0',
    );
  });

  test('refuses names that would unzip outside the folder, and duplicates', () => {
    const data = new Uint8Array(1);
    expect(() => zip([{ name: '../x', data }])).toThrow('zip: entry "../x" has a ".." part, which would put it outside the folder it is unpacked into');
    expect(() => zip([{ name: '/etc/x', data }])).toThrow('zip: entry "/etc/x" is an absolute path');
    expect(() => zip([{ name: 'a/./b', data }])).toThrow('zip: entry "a/./b" has an empty or "." part');
    expect(() => zip([{ name: 'a//b', data }])).toThrow('zip: entry "a//b" has an empty or "." part');
    expect(() =>
      zip([
        { name: 'a', data },
        { name: 'a', data },
      ]),
    ).toThrow('zip: two entries are named a');
  });
});

import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { ZipStorage } from '../src/storage/zip.ts';
import { unzip, ZipArchive } from '../src/unzip.ts';
import { deltaTableRoot } from '../src/worker/opened.ts';
import { zip, zipBlob, zipChunks } from '../src/zip.ts';
import { FIXTURES } from './helpers/fixtures.ts';
import { fileInput, writeRaw } from './helpers/raw-zip.ts';

/**
 * ZIP64 (large tables, more than 65,535 files, entries past 4 GiB): archives made by Python's
 * zipfile, Info-ZIP's zip and by hand are read; what zip.ts writes with ZIP64 records is read by
 * Python, Info-ZIP's unzip and unzip.ts. Every archive is made here, in a temp folder.
 */
const text = (s: string) => new TextEncoder().encode(s);
const python = (script: string, ...args: string[]) => execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
/** Per entry, as Python sees it: name, size, whether a ZIP64 extra field (0x0001) is in its central record. */
const LIST = `
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
def zip64(extra):
    i = 0
    while i + 4 <= len(extra):
        kind, size = int.from_bytes(extra[i:i+2], 'little'), int.from_bytes(extra[i+2:i+4], 'little')
        if kind == 1: return True
        i += 4 + size
    return False
print(json.dumps([[i.filename, i.file_size, zip64(i.extra), i.flag_bits] for i in z.infolist()]))
`;

describe('ZIP64', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip64-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('Python force_zip64: ZIP64 local headers, stored and deflated, read from bytes and from a file', async () => {
    const file = join(dir, 'forced.zip');
    python(
      `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    with z.open('t/_delta_log/00000000000000000000.json', 'w', force_zip64=True) as f: f.write(b'{"commitInfo":{}}\\n')
    with z.open(zipfile.ZipInfo('t/part-0.parquet'), 'w', force_zip64=True) as f: f.write(bytes(range(256)) * 1000)
`,
      file,
    );
    const bytes = new Uint8Array(await readFile(file));
    // The first local header carries the ZIP64 extra field (id 1, 16 bytes of sizes) after its name.
    const head = new DataView(bytes.buffer, bytes.byteOffset);
    const nameLength = head.getUint16(26, true);
    expect([head.getUint32(18, true), head.getUint16(30 + nameLength, true), head.getUint16(32 + nameLength, true)]).toEqual([0xffff_ffff, 1, 16]);
    for (const input of [bytes, await openAsBlob(file)]) {
      const entries = await unzip(input, 'forced.zip');
      expect(entries.map((e) => [e.name, e.data.byteLength])).toEqual([
        ['t/_delta_log/00000000000000000000.json', 18],
        ['t/part-0.parquet', 256_000],
      ]);
      expect(entries[1]!.data.subarray(0, 300)).toEqual(new Uint8Array(300).map((_, i) => i % 256));
    }
  });

  test('Info-ZIP zip -fz (ZIP64 central records and end records) and zip from a pipe (data descriptors): a Delta table reads', async () => {
    const table = join(FIXTURES, 'data-reader-timestamp_ntz');
    const forced = join(dir, 'fz.zip');
    execFileSync('zip', ['-r', '-q', '-fz', forced, 'delta'], { cwd: table });
    const listed = JSON.parse(python(LIST, forced)) as [string, number, boolean, number][];
    expect(listed.filter((e) => !e[0].endsWith('/')).every((e) => e[2])).toBe(true);
    const archive = await ZipArchive.open('fz.zip', await openAsBlob(forced));
    expect(archive.entries.map((e) => [e.name, e.size])).toEqual(listed.filter((e) => !e[0].endsWith('/')).map((e) => [e[0], e[1]]));
    const root = deltaTableRoot(archive.entries.map((e) => e.name));
    expect(root).toBe('delta');
    const snapshot = await loadSnapshot(new ZipStorage(archive), root!);
    expect(snapshot.schema.fields.map((c) => c.name)).toEqual(['id', 'tsNtz', 'tsNtzPartition']);

    const piped = join(dir, 'piped.zip');
    const content = 'a line of a log\n'.repeat(5000);
    execFileSync('bash', ['-c', `zip -q - - | cat > ${piped}`], { input: content });
    // Written as a stream: sizes unknown up front, so a ZIP64 local header and a data descriptor after the data.
    const head = new DataView((await readFile(piped)).buffer);
    expect([head.getUint16(6, true) & 8, head.getUint32(18, true), head.getUint16(30 + head.getUint16(26, true), true)]).toEqual([8, 0xffff_ffff, 1]);
    expect(JSON.parse(python(LIST, piped))).toEqual([['-', content.length, false, 8]]);
    const [entry] = await unzip(await openAsBlob(piped), 'piped.zip');
    expect(new TextDecoder().decode(entry!.data)).toBe(content);
  });

  test('more than 65,535 entries: Python writes a ZIP64 end record, and every entry reads', async () => {
    const file = join(dir, 'many.zip');
    python(
      `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(70000): z.writestr(f't/{i:05d}.json', str(i))
`,
      file,
    );
    const bytes = new Uint8Array(await readFile(file));
    const end = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 22);
    expect([end.getUint32(0, true), end.getUint16(10, true)]).toEqual([0x06054b50, 0xffff]);
    const archive = await ZipArchive.open('many.zip', bytes);
    expect(archive.entries.length).toBe(70_000);
    expect(archive.entries[69_999]!.name).toBe('t/69999.json');
    expect(new TextDecoder().decode(await archive.read(archive.entries[69_999]!))).toBe('69999');
    expect(new TextDecoder().decode(await archive.read(archive.entries[12_345]!))).toBe('12345');
  });

  test('entries that start past 4 GiB (a sparse file): offsets from ZIP64 extras, as Python reads them', async () => {
    const file = join(dir, 'far.zip');
    const start = 2 ** 32 + 2 ** 29;
    await writeRaw(
      file,
      [
        { name: 't/_delta_log/00000000000000000000.json', stored: text('{"commitInfo":{}}\n') },
        { name: 't/part-0.parquet', stored: text('PAR1 far away PAR1') },
      ],
      {
        start,
      },
    );
    expect((await stat(file)).size).toBeGreaterThan(start);
    const listed = python(
      `import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print([(i.filename, i.header_offset, z.read(i).decode()) for i in z.infolist()])`,
      file,
    );
    expect(listed.trim()).toBe(
      `[('t/_delta_log/00000000000000000000.json', ${start}, '{"commitInfo":{}}\\n'), ('t/part-0.parquet', ${start + 30 + 38 + 18}, 'PAR1 far away PAR1')]`,
    );
    const input = await fileInput(file);
    try {
      const archive = await ZipArchive.open('far.zip', input);
      expect(archive.entries.map((e) => [e.name, e.offset])).toEqual([
        ['t/_delta_log/00000000000000000000.json', start],
        ['t/part-0.parquet', start + 30 + 38 + 18],
      ]);
      expect(new TextDecoder().decode(await archive.read(archive.entries[1]!))).toBe('PAR1 far away PAR1');
    } finally {
      await input.close();
    }
  });
});

describe('zip.ts writes ZIP64 when asked, and when more than 65,535 entries need it', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip64-write-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('forceZip64: every record ZIP64; Python and unzip -t read it, and so does unzip.ts', async () => {
    const entries = [
      { name: 't/_delta_log/00000000000000000000.json', data: text('{"commitInfo":{}}\n'), modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
      { name: 't/part-0.parquet', data: new Uint8Array(70_000).map((_, i) => (i * 31) % 256), modified: new Date(2025, 0, 2, 3, 4, 6).getTime() },
    ];
    const bytes = zip(entries, { forceZip64: true });
    const file = join(dir, 'forced.zip');
    await writeFile(file, bytes);
    expect(JSON.parse(python(LIST, file))).toEqual([
      ['t/_delta_log/00000000000000000000.json', 18, true, 0x800],
      ['t/part-0.parquet', 70_000, true, 0x800],
    ]);
    expect(python('import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())', file).trim()).toBe('None');
    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toContain('No errors detected in compressed data of');
    // The end: a ZIP64 end record (56 bytes), its locator (20), then the classic end record (22).
    const tail = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 98);
    expect([tail.getUint32(0, true), tail.getUint32(56, true), tail.getUint32(76, true)]).toEqual([0x06064b50, 0x07064b50, 0x06054b50]);
    expect(await unzip(bytes)).toEqual(entries);
  });

  test('70,000 entries: the end records say 0xffff and ZIP64 holds the count; the chunks and the Blob are the same archive', async () => {
    const entries = Array.from({ length: 70_000 }, (_, i) => ({
      name: `t/${String(i).padStart(5, '0')}.json`,
      data: text(String(i)),
      modified: Date.UTC(2025, 0, 2),
    }));
    const bytes = zip(entries);
    const end = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 22);
    expect([end.getUint16(8, true), end.getUint16(10, true)]).toEqual([0xffff, 0xffff]);
    const file = join(dir, 'many.zip');
    await writeFile(file, bytes);
    expect(python('import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.read("t/69999.json").decode())', file).trim()).toBe(
      '70000 69999',
    );
    const archive = await ZipArchive.open('many.zip', bytes);
    expect(archive.entries.length).toBe(70_000);
    expect(new TextDecoder().decode(await archive.read(archive.entries[54_321]!))).toBe('54321');

    const chunks: Uint8Array[] = [];
    for await (const c of zipChunks(entries)) chunks.push(c);
    expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(await (await zipBlob(zipChunks(entries))).arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });
});

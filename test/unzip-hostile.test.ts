import { deflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { unzip, ZipArchive, ZipFormatError, ZipLimitError, ZipNameError } from '../src/unzip.ts';
import { crc32 } from '../src/zip.ts';
import { deflated, rawBytes, type RawEntry } from './helpers/raw-zip.ts';

/** Archives from a stranger: every class of refusal, with the exact message a user sees. */
const text = (s: string) => new TextEncoder().encode(s);
const file = (name: string, more: Partial<RawEntry> = {}): RawEntry => ({ name, stored: text('x'), ...more });
const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** What opening (and reading every entry of) an archive throws: [error name, message]. */
async function refusal(name: string, bytes: Uint8Array | Blob): Promise<[string, string]> {
  try {
    await unzip(bytes, name);
  } catch (err) {
    expect(err).toBeInstanceOf(ZipFormatError);
    return [(err as Error).name, (err as Error).message];
  }
  throw new Error(`${name} was read`);
}

describe('names', () => {
  test('a name that could unpack outside its folder is refused, naming the entry', async () => {
    const cases: [string, string][] = [
      ['t/../../etc/passwd', 'evil.zip: entry "t/../../etc/passwd" has a ".." part, which would put it outside the folder it is unpacked into'],
      ['..', 'evil.zip: entry ".." has a ".." part, which would put it outside the folder it is unpacked into'],
      ['/etc/passwd', 'evil.zip: entry "/etc/passwd" is an absolute path'],
      ['C:/Windows/x.dll', 'evil.zip: entry "C:/Windows/x.dll" starts with a drive letter'],
      ['c:x', 'evil.zip: entry "c:x" starts with a drive letter'],
      ['t\\..\\x', 'evil.zip: entry "t\\\\..\\\\x" has a backslash, which Windows reads as a folder separator'],
      ['t/a\0.parquet', 'evil.zip: entry "t/a\\u0000.parquet" has a NUL character'],
      ['.', 'evil.zip: entry "." has no name'],
    ];
    for (const [name, message] of cases) {
      expect(await refusal('evil.zip', rawBytes([file('t/ok.json'), file(name)])), name).toEqual(['ZipNameError', message]);
    }
    // A folder entry is checked as well.
    expect(await refusal('evil.zip', rawBytes([file('../up/')]))).toEqual([
      'ZipNameError',
      'evil.zip: entry "../up/" has a ".." part, which would put it outside the folder it is unpacked into',
    ]);
  });

  test('a symbolic link is refused, whatever it points at', async () => {
    const link = file('t/part-0.parquet', { stored: text('/etc/passwd'), mode: 0o120777 });
    expect(await refusal('links.zip', rawBytes([link]))).toEqual(['ZipNameError', 'links.zip: entry "t/part-0.parquet" is a symbolic link']);
    // An executable file and a folder's mode are fine.
    const fine = await unzip(rawBytes([file('t/', { stored: new Uint8Array(0), mode: 0o40755 }), file('t/run.sh', { mode: 0o100755 })]));
    expect(fine.map((e) => e.name)).toEqual(['t/run.sh']);
  });

  test('two entries that unpack to the same file, or a file where a folder must be, are refused', async () => {
    const cases: [string[], string][] = [
      [['t/a.json', 't/a.json'], 'dup.zip: entries "t/a.json" and "t/a.json" unpack to the same file'],
      [['t/a.json', 't/./a.json'], 'dup.zip: entries "t/a.json" and "t/./a.json" unpack to the same file'],
      [['t//a.json', './t/a.json'], 'dup.zip: entries "t//a.json" and "./t/a.json" unpack to the same file'],
      [['t/caf\u00e9', 't/cafe\u0301'], 'dup.zip: entries "t/caf\u00e9" and "t/cafe\u0301" unpack to the same file'],
      [
        ['t/_delta_log', 't/_delta_log/00000000000000000000.json'],
        'dup.zip: entry "t/_delta_log/00000000000000000000.json" would unpack inside "t/_delta_log", which is a file',
      ],
      [['t', 't/'], 'dup.zip: entry "t/" would unpack inside "t", which is a file'],
    ];
    for (const [names, message] of cases) {
      expect(await refusal('dup.zip', rawBytes(names.map((n) => file(n)))), names.join(' + ')).toEqual(['ZipNameError', message]);
    }
    // "." and empty parts are left out of the names the reader gives.
    expect((await unzip(rawBytes([file('./t//a.json'), file('t/b.json')]))).map((e) => e.name)).toEqual(['t/a.json', 't/b.json']);
  });

  test('names are refused before any entry is expanded', async () => {
    // The first entry would fail its CRC-32 check, but the name of the second is refused first.
    const archive = rawBytes([file('t/a.json', { crc: 1 }), file('/abs')]);
    expect(await refusal('order.zip', archive)).toEqual(['ZipNameError', 'order.zip: entry "/abs" is an absolute path']);
  });
});

describe('limits: refused from the declared sizes, before anything is expanded', () => {
  test('a bomb: an entry that would expand more than 100 to 1, past 1 MiB', async () => {
    const zeros = new Uint8Array(20 * MiB);
    const bomb = deflated('zeros.bin', zeros);
    const c = bomb.stored.byteLength;
    expect(c).toBeLessThan(zeros.byteLength / 1000);
    const ratio = Math.floor(zeros.byteLength / c);
    expect(await refusal('bomb.zip', rawBytes([bomb]))).toEqual([
      'ZipLimitError',
      `bomb.zip: entry "zeros.bin" would expand from ${c.toLocaleString('en-US')} to 20,971,520 bytes (${ratio} to 1), over the limit of 100 to 1 for an entry of more than 1 MiB`,
    ]);
    // Up to 1 MiB any ratio goes (a small file of a repeated value); one byte more does not.
    const [mib] = await unzip(rawBytes([deflated('t/1mib.bin', new Uint8Array(MiB))]));
    expect([mib!.data.byteLength, mib!.data.some((b) => b !== 0)]).toEqual([MiB, false]);
    expect((await refusal('over.zip', rawBytes([deflated('t/more.bin', new Uint8Array(MiB + 1))])))[0]).toBe('ZipLimitError');
    // Declared from nothing.
    expect(await refusal('empty.zip', rawBytes([file('n.bin', { stored: new Uint8Array(0), size: 2 * MiB })]))).toEqual([
      'ZipLimitError',
      'empty.zip: entry "n.bin" would expand from 0 to 2,097,152 bytes (from nothing), over the limit of 100 to 1 for an entry of more than 1 MiB',
    ]);
  });

  test('an entry over 2 GiB', async () => {
    const huge = file('t/huge.parquet', { size: 3 * GiB, compressedSize: 3 * GiB });
    expect(await refusal('big.zip', rawBytes([huge]))).toEqual([
      'ZipLimitError',
      'big.zip: entry "t/huge.parquet" would expand to 3,221,225,472 bytes, over the limit of 2 GiB for one entry',
    ]);
  });

  test('more than 32 GiB in all', async () => {
    const parts = Array.from({ length: 17 }, (_, i) => file(`t/part-${i}.parquet`, { size: 2 * GiB, compressedSize: 2 * GiB }));
    expect(await refusal('all.zip', rawBytes(parts))).toEqual([
      'ZipLimitError',
      'all.zip: entry "t/part-16.parquet" brings the expanded size to 36,507,222,016 bytes, over the limit of 32 GiB for one archive',
    ]);
  });

  test('more than 1,000,000 entries', async () => {
    // The end record's count is refused before the central directory is read.
    expect(await refusal('many.zip', rawBytes([file('a')], { count: 1_000_001 }))).toEqual([
      'ZipLimitError',
      'many.zip has 1,000,001 entries, over the limit of 1,000,000 for one archive',
    ]);
  });

  test('entries sharing their bytes (an overlapping bomb) are refused', async () => {
    const shared = deflated('t/a.bin', new Uint8Array(MiB));
    const archive = rawBytes([shared, { ...shared, name: 't/b.bin', sameAs: 0 }, { ...shared, name: 't/c.bin', sameAs: 0 }]);
    expect(await refusal('overlap.zip', archive)).toEqual([
      'ZipFormatError',
      'overlap.zip: entries "t/a.bin" and "t/b.bin" overlap, which only a zip bomb does (to expand the same bytes again and again)',
    ]);
  });

  test('a bomb that understates its size is stopped at the first chunk past the declared size', async () => {
    const zeros = new Uint8Array(64 * MiB);
    const liar = deflated('zeros.bin', zeros, { size: 1000 });
    for (const input of [rawBytes([liar]), new Blob([rawBytes([liar]) as Uint8Array<ArrayBuffer>])]) {
      const archive = await ZipArchive.open('liar.zip', input);
      const err = await archive.read(archive.entries[0]!).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZipLimitError);
      expect((err as Error).message).toBe('liar.zip: entry "zeros.bin" expands past the 1,000 bytes declared for it, so it was stopped there');
    }
  });
});

describe('damaged archives and unsupported features', () => {
  test('not a .zip, a CRC-32 mismatch, a cut-short entry, a broken deflate stream', async () => {
    expect(await refusal('notes.txt', text('not a zip at all, no, not at all'))).toEqual([
      'ZipFormatError',
      'notes.txt is not a .zip file (no end of central directory record)',
    ]);
    expect(await refusal('crc.zip', rawBytes([file('t/a.json', { crc: 12345 })]))).toEqual([
      'ZipFormatError',
      'crc.zip is damaged: entry "t/a.json" fails its CRC-32 check',
    ]);
    const short = rawBytes([file('t/a.json', { size: 50, compressedSize: 50 })]);
    expect(await refusal('short.zip', short)).toEqual(['ZipFormatError', 'short.zip is damaged: entry "t/a.json" is cut short']);
    const garbage = new Uint8Array(100).fill(0xff);
    const broken = await refusal('broken.zip', rawBytes([{ name: 't/a.json', stored: garbage, method: 8, size: 100, crc: crc32(garbage) }]));
    expect(broken[0]).toBe('ZipFormatError');
    expect(broken[1]).toMatch(/^broken\.zip is damaged: entry "t\/a\.json" does not inflate \(.+\)$/);
    // A deflate stream shorter than declared: its CRC-32 (and size) fail.
    const half = deflateRawSync(text('hello hello hello')).subarray(0, 5);
    const cut = await refusal(
      'cut.zip',
      rawBytes([{ name: 'h.txt', stored: new Uint8Array(half), method: 8, size: 17, crc: crc32(text('hello hello hello')) }]),
    );
    expect(cut[1]).toMatch(/^cut\.zip is damaged: entry "h\.txt" (fails its CRC-32 check|does not inflate \(.+\))$/);
  });

  test('encryption, other compression methods and multi-disk archives are refused with the reason', async () => {
    expect(await refusal('enc.zip', rawBytes([file('t/a.json', { flags: 0x0801 })]))).toEqual([
      'ZipFormatError',
      'enc.zip: entry "t/a.json" is encrypted, which is not supported',
    ]);
    expect(await refusal('bz.zip', rawBytes([file('t/a.json', { method: 12 })]))).toEqual([
      'ZipFormatError',
      'bz.zip: entry "t/a.json" uses compression method 12, which is not supported (only stored and deflate)',
    ]);
    const disks = rawBytes([file('a')]);
    disks[disks.length - 22 + 4] = 1;
    expect(await refusal('disks.zip', disks)).toEqual(['ZipFormatError', 'disks.zip spans several disks, which is not supported']);
  });

  test('a comment holding the end signature does not fool the reader', async () => {
    const plain = rawBytes([file('t/a.json')]);
    const comment = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(30).fill(0)]);
    const withComment = new Uint8Array(plain.byteLength + comment.byteLength);
    withComment.set(plain);
    withComment.set(comment, plain.byteLength);
    new DataView(withComment.buffer).setUint16(plain.byteLength - 2, comment.byteLength, true);
    expect((await unzip(withComment)).map((e) => e.name)).toEqual(['t/a.json']);
  });

  test('every refusal is a ZipFormatError, named for its class', () => {
    expect([new ZipFormatError('x').name, new ZipNameError('x').name, new ZipLimitError('x').name]).toEqual([
      'ZipFormatError',
      'ZipNameError',
      'ZipLimitError',
    ]);
    expect(new ZipNameError('x')).toBeInstanceOf(ZipFormatError);
    expect(new ZipLimitError('x')).toBeInstanceOf(ZipFormatError);
  });
});

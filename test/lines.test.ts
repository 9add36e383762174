import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { readLines } from '../src/cli/lines.ts';
import { jsonlChunks } from '../src/pipeline/lines.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const all = (chunks: Iterable<string[]>) => [...chunks].flat();

describe('JSON lines from an upload or a file', () => {
  test('BOM, CRLF and a final newline', () => {
    expect(all(jsonlChunks(bytes('\uFEFF{"a":1}\r\n{"b":2}\r\n'), 'f.jsonl'))).toEqual(['{"a":1}', '{"b":2}']);
    expect(all(jsonlChunks(bytes('{"a":1}\n\n{"b":2}'), 'f.jsonl'))).toEqual(['{"a":1}', '', '{"b":2}']);
  });

  test('chunks of 10,000 lines', () => {
    const chunks = [...jsonlChunks(bytes('x\n'.repeat(25_001)), 'f.jsonl')];
    expect(chunks.map((c) => c.length)).toEqual([10_000, 10_000, 5_001]);
  });

  test('refuses empty and binary files with one clear sentence', () => {
    expect(() => jsonlChunks(new Uint8Array(0), 'empty.jsonl')).toThrow('empty.jsonl is empty: there are no records to ingest');
    expect(() => jsonlChunks(bytes('\uFEFF'), 'bom.jsonl')).toThrow('bom.jsonl is empty: there are no records to ingest');
    expect(() => jsonlChunks(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]), 'x.zip')).toThrow(
      'x.zip looks like a binary file (a NUL byte at offset 4), not JSON lines; nothing was ingested',
    );
  });

  test('the command line reads a stream the same way, across piece boundaries', async () => {
    const text = '\uFEFF{"a":"é"}\r\n{"b":2}\r\n';
    const encoded = bytes(text);
    // Split inside the two-byte "é" and between CR and LF.
    const pieces = [encoded.subarray(0, 10), encoded.subarray(10, 14), encoded.subarray(14)];
    const lines = all(await readLines(Readable.from(pieces.map((p) => Buffer.from(p))), 'f.jsonl'));
    expect(lines).toEqual(all(jsonlChunks(encoded, 'f.jsonl')));
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}']);
    await expect(readLines(Readable.from([]), 'none.jsonl')).rejects.toThrow('none.jsonl is empty: there are no records to ingest');
  });
});

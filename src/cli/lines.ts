import type { Readable } from 'node:stream';

const CHUNK_LINES = 10_000;

/**
 * The lines of a JSONL file as chunks, refusing what is not text. Checks the first bytes before
 * any line is taken in, so a refused file leaves no trace. A UTF-8 BOM is dropped; CRLF ends
 * lines like LF; a final newline does not make an empty record.
 */
export async function readLines(stream: Readable, name: string): Promise<Iterable<string[]>> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  if (first.done || first.value.length === 0) throw new Error(`${name} is empty: there are no records to ingest`);
  const head: Buffer = first.value;
  const nul = head.subarray(0, 64 * 1024).indexOf(0);
  if (nul >= 0) throw new Error(`${name} looks like a binary file (a NUL byte at offset ${nul}), not JSON lines; nothing was ingested`);
  const lines: string[] = [];
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let isFirst = true;
  const take = (buf: Buffer | undefined): void => {
    let text = buf ? decoder.decode(buf, { stream: true }) : decoder.decode();
    if (isFirst) {
      text = text.replace(/^\uFEFF/, '');
      isFirst = false;
    }
    const parts = (pending + text).split('\n');
    pending = parts.pop()!;
    for (const p of parts) lines.push(p.endsWith('\r') ? p.slice(0, -1) : p);
  };
  take(head);
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) take(r.value);
  take(undefined);
  if (pending !== '') lines.push(pending.endsWith('\r') ? pending.slice(0, -1) : pending);
  if (lines.length === 0) throw new Error(`${name} is empty: there are no records to ingest`);
  return (function* (): Generator<string[]> {
    for (let i = 0; i < lines.length; i += CHUNK_LINES) yield lines.slice(i, i + CHUNK_LINES);
  })();
}

import type { Readable } from 'node:stream';
import { JsonlSplitter } from '../pipeline/lines.ts';

/**
 * The lines of a JSONL file as chunks, refusing what is not text (see JsonlSplitter, which the
 * page's upload uses too).
 */
export async function readLines(stream: Readable, name: string): Promise<Iterable<string[]>> {
  const splitter = new JsonlSplitter(name);
  for await (const piece of stream as AsyncIterable<Uint8Array>) {
    if (piece.byteLength > 0) splitter.push(piece);
  }
  return splitter.end();
}

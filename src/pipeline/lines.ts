/**
 * JSON lines from bytes, the same way for `cli ingest` (a file stream) and an upload in the page
 * (one buffer): refuse what is not text before any line is taken in, so a refused file leaves no
 * trace; drop a UTF-8 BOM; end lines at LF or CRLF; a final newline does not make an empty record.
 */

export const CHUNK_LINES = 10_000;

/** How much of the start of a file is searched for a NUL byte, the sign of a binary file. */
const SNIFF_BYTES = 64 * 1024;

export class JsonlSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly lines: string[] = [];
  private pending = '';
  private bytes = 0;

  /** `name` says which file, in messages. */
  constructor(private readonly name: string) {}

  /** The next piece of the file; throws on the first piece if the file looks binary. */
  push(piece: Uint8Array): void {
    if (this.bytes === 0) {
      const nul = piece.subarray(0, SNIFF_BYTES).indexOf(0);
      if (nul >= 0) throw new Error(`${this.name} looks like a binary file (a NUL byte at offset ${nul}), not JSON lines; nothing was ingested`);
    }
    this.take(this.decoder.decode(piece, { stream: true }), this.bytes === 0);
    this.bytes += piece.byteLength;
  }

  /** The lines in chunks of CHUNK_LINES; throws when the file held no record. */
  end(): Iterable<string[]> {
    if (this.bytes === 0) throw new Error(`${this.name} is empty: there are no records to ingest`);
    this.take(this.decoder.decode(), false);
    if (this.pending !== '') this.lines.push(stripCR(this.pending));
    this.pending = '';
    const lines = this.lines;
    if (lines.length === 0) throw new Error(`${this.name} is empty: there are no records to ingest`);
    return (function* (): Generator<string[]> {
      for (let i = 0; i < lines.length; i += CHUNK_LINES) yield lines.slice(i, i + CHUNK_LINES);
    })();
  }

  private take(text: string, first: boolean): void {
    if (first) text = text.replace(/^\uFEFF/, '');
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop()!;
    for (const p of parts) this.lines.push(stripCR(p));
  }
}

/** The lines of a whole file held in memory (an upload), in chunks. */
export function jsonlChunks(bytes: Uint8Array, name: string): Iterable<string[]> {
  const splitter = new JsonlSplitter(name);
  if (bytes.byteLength > 0) splitter.push(bytes);
  return splitter.end();
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

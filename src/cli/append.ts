import { readFile } from 'node:fs/promises';
import type { Engine } from '../engine/types.ts';
import { loadSnapshot } from '../delta/snapshot.ts';
import { TableWriter } from '../delta/writer.ts';
import { parseArgs, UsageError } from './args.ts';
import { readAppendInput } from './append-input.ts';
import { openLocation } from './location.ts';

/**
 * `append TABLE_DIR FILE`: the rows of FILE (Parquet, or JSON lines) added to an existing Delta
 * table, whoever wrote it, as one commit — or refused, with nothing written, when the table's
 * protocol asks for something this writer does not do or a row breaks one of its constraints.
 */
export async function appendCommand(argv: string[], engine: Engine, out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, []);
  const [dir, file, ...rest] = args.positional;
  if (!dir || !file || rest.length) throw new UsageError('usage: append TABLE_DIR FILE.parquet|FILE.jsonl');
  const storage = openLocation(dir);
  // The table first: a table this writer may not append to is refused before the file is read.
  const snapshot = await loadSnapshot(storage, '');
  const writer = new TableWriter(storage, '', snapshot, { mode: 'append', engine });
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${file} cannot be read (${err.code ?? err.message})`);
  });
  const rows = readAppendInput(
    engine,
    file,
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    snapshot.schema,
    snapshot.metadata.partitionColumns,
  );
  await writer.write(rows);
  const r = await writer.commit();
  out.write(
    `version ${r.version}: appended ${r.rows.toLocaleString('en-US')} row${r.rows === 1 ? '' : 's'} in ${r.added.length} file${r.added.length === 1 ? '' : 's'} to ${dir}\n`,
  );
}

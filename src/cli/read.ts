import { rename, writeFile } from 'node:fs/promises';
import { encodeParquet } from '../parquet/codec.ts';
import { loadSnapshot, type Snapshot } from '../delta/snapshot.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { jsonLines } from '../delta/export.ts';
import type { Storage } from '../storage/types.ts';
import type { Engine } from '../engine/types.ts';
import { intOption, parseArgs, stringOption, UsageError } from './args.ts';
import { openLocation } from './location.ts';

/** The engine table `read` loads a table's rows into. */
export const READ_TABLE = 'delta_read';

/**
 * What `read` does before it prints: the table's snapshot at `version` (default: the latest),
 * its rows loaded into the engine as READ_TABLE. Also used by scripts/read-versions.ts, which
 * reads every version of many tables in one process.
 */
export async function readTable(engine: Engine, storage: Storage, version?: number): Promise<{ snapshot: Snapshot; rows: number }> {
  const snapshot = await loadSnapshot(storage, '', version);
  const rows = await scanIntoEngine(engine, storage, snapshot, READ_TABLE);
  return { snapshot, rows };
}

/** The rows READ_TABLE holds, as `read` prints them: one JSON object a line, typed by the schema. */
export function readLines(engine: Engine, snapshot: Snapshot): Generator<string> {
  return jsonLines(engine, READ_TABLE, snapshot.schema);
}

export async function readCommand(argv: string[], engine: Engine, out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, ['version', 'out']);
  const [dir, ...rest] = args.positional;
  if (!dir || rest.length) throw new UsageError('usage: read TABLE_DIR [--version N] [--out FILE.parquet]');
  const version = args.options.has('version') ? intOption(args, 'version', 0) : undefined;
  const { snapshot, rows } = await readTable(engine, openLocation(dir), version);
  const target = stringOption(args, 'out');
  if (target) {
    const bytes = encodeParquet(engine.queryIPC(`SELECT * FROM ${READ_TABLE}`));
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, target);
    process.stderr.write(`wrote ${rows} rows of ${dir} at version ${snapshot.version} to ${target} (${bytes.byteLength} bytes)\n`);
    return;
  }
  for (const line of readLines(engine, snapshot)) {
    if (!out.write(`${line}\n`)) await new Promise((r) => out.once('drain', r));
  }
}

import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { encodeParquet } from '../parquet/codec.ts';
import { NodeStorage } from '../storage/node.ts';
import { loadSnapshot } from '../delta/snapshot.ts';
import { scanIntoEngine } from '../delta/scan.ts';
import { jsonLines } from '../delta/export.ts';
import type { Engine } from '../engine/types.ts';
import { intOption, parseArgs, stringOption, UsageError } from './args.ts';

export async function readCommand(argv: string[], engine: Engine, out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, ['version', 'out']);
  const [dir, ...rest] = args.positional;
  if (!dir || rest.length) throw new UsageError('usage: read TABLE_DIR [--version N] [--out FILE.parquet]');
  const version = args.options.has('version') ? intOption(args, 'version', 0) : undefined;
  const storage = new NodeStorage(resolve(dir));
  const snapshot = await loadSnapshot(storage, '', version);
  const rows = await scanIntoEngine(engine, storage, snapshot, 'delta_read');
  const target = stringOption(args, 'out');
  if (target) {
    const bytes = encodeParquet(engine.queryIPC('SELECT * FROM delta_read'));
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, target);
    process.stderr.write(`wrote ${rows} rows of ${dir} at version ${snapshot.version} to ${target} (${bytes.byteLength} bytes)\n`);
    return;
  }
  for (const line of jsonLines(engine, 'delta_read', snapshot.schema)) {
    if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
  }
}

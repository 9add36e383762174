import { CodedError } from '../errors.ts';
import { parallel } from '../storage/object.ts';
import type { FileInfo, Storage } from '../storage/types.ts';
import { parseArgs, UsageError } from './args.ts';
import { openLocation } from './location.ts';
import { findTables } from './maintenance.ts';

/** The target holds a different commit at a version the source has: the lakehouses went apart. */
export class DivergedError extends CodedError {
  static readonly code = 'DIVERGED';
  override name = 'DivergedError';
}

export interface CopiedTable {
  table: string;
  /** the source's latest version */
  version: number;
  commits: number;
  files: number;
  bytes: number;
}

const COMMIT = /_delta_log\/(\d{20})\.json$/;

/**
 * Every Delta table below `from` copied to `to` with its history: data files first, then the
 * commits in order, each a conditional put, then checkpoints and `_last_checkpoint`. What the
 * target holds already is kept: the same commit is skipped (so a copy cut short is finished by
 * running it again, and a later one sends only what is new), a different one stops the table
 * with DivergedError before anything of its later history is written. A writer on the target
 * never sees a commit whose files are missing, and no commit there is ever overwritten.
 */
export async function copyLakehouse(from: Storage, to: Storage, fromName: string): Promise<CopiedTable[]> {
  const tables = await findTables(from, fromName);
  const present = new Map((await to.list('')).map((f) => [f.path, f]));
  const out: CopiedTable[] = [];
  for (const table of tables) {
    const base = table ? `${table}/` : '';
    const files = await from.list(table);
    const commits = files.filter((f) => COMMIT.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
    const logRest = files.filter((f) => f.path.startsWith(`${base}_delta_log/`) && !COMMIT.test(f.path));
    const data = files.filter((f) => !f.path.startsWith(`${base}_delta_log/`));
    const r: CopiedTable = { table, version: commits.length ? Number(COMMIT.exec(commits.at(-1)!.path)![1]) : -1, commits: 0, files: 0, bytes: 0 };
    const copy = async (f: FileInfo) => {
      const known = present.get(f.path);
      if (known && known.size === f.size) return;
      await to.write(f.path, await from.read(f.path));
      r.files++;
      r.bytes += f.size;
    };
    await parallel(data, 8, copy);
    for (const c of commits) {
      const bytes = await from.read(c.path);
      if (await to.putIfAbsent(c.path, bytes)) {
        r.commits++;
        r.bytes += bytes.byteLength;
        continue;
      }
      const theirs = await to.read(c.path);
      if (theirs.byteLength !== bytes.byteLength || theirs.some((b, i) => b !== bytes[i])) {
        throw new DivergedError(
          `${c.path} differs between ${from.description} and ${to.description}: the two lakehouses went apart at version ` +
            `${Number(COMMIT.exec(c.path)![1])} of ${table || 'the table'}, so its history there was left as it was`,
        );
      }
    }
    // Checkpoints only for versions that exist there now; _last_checkpoint last.
    const last = logRest.filter((f) => f.path.endsWith('/_last_checkpoint'));
    await parallel(
      logRest.filter((f) => !last.includes(f)),
      8,
      copy,
    );
    for (const f of last) await copy(f);
    out.push(r);
  }
  return out;
}

/** `push DIR URL` / `pull URL DIR`: a lakehouse (or one table) copied with its history. */
export async function copyCommand(command: 'push' | 'pull', argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, []);
  const [source, target, ...rest] = args.positional;
  if (!source || !target || rest.length) {
    throw new UsageError(
      command === 'push' ? 'usage: push DIR s3://BUCKET/PREFIX|az://CONTAINER/PREFIX' : 'usage: pull s3://BUCKET/PREFIX|az://CONTAINER/PREFIX DIR',
    );
  }
  const started = performance.now();
  const copied = await copyLakehouse(openLocation(source), openLocation(target), source);
  const seconds = (performance.now() - started) / 1000;
  const lines = copied.map(
    (c) =>
      `${(c.table || source).padEnd(30)} version ${c.version}  ${c.commits} commit${c.commits === 1 ? '' : 's'}, ${c.files} file${c.files === 1 ? '' : 's'} copied`,
  );
  const bytes = copied.reduce((n, c) => n + c.bytes, 0);
  lines.push(
    `${copied.length} table${copied.length === 1 ? '' : 's'} from ${source} to ${target}: ${(bytes / 2 ** 20).toFixed(1)} MB in ${seconds.toFixed(1)} s`,
  );
  out.write(`${lines.join('\n')}\n`);
}

import { CodedError } from '../errors.ts';
import { parallel } from '../storage/object.ts';
import type { FileInfo, Storage } from '../storage/types.ts';

/**
 * A lakehouse (every Delta table below a folder) copied to another storage with its history:
 * `cli push`/`cli pull` between a folder and a bucket, and the page's push and pull between the
 * browser's lakehouse and a bucket.
 */

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

/** How far a copy is: the table being copied (its index among `tables`), and its files sent so far of those it has. */
export interface CopyProgress {
  table: string;
  index: number;
  tables: number;
  done: number;
  total: number;
  bytes: number;
}

export interface CopyOptions {
  /** copy only the tables this keeps (default: every table found) */
  tables?: (table: string) => boolean;
  onProgress?: (p: CopyProgress) => void;
}

const COMMIT = /_delta_log\/(\d{20})\.json$/;

/**
 * The Delta tables at `dir` of `storage` (named `name` in the message): the folder itself when
 * it has a `_delta_log`, otherwise every table below it (a lakehouse root such as out/delta),
 * as paths relative to it.
 */
export async function findTables(storage: Storage, name: string): Promise<string[]> {
  const files = await storage.list('');
  if (files.some((f) => f.path.startsWith('_delta_log/'))) return [''];
  const tables = new Set<string>();
  for (const f of files) {
    const segs = f.path.split('/');
    const i = segs.indexOf('_delta_log');
    if (i > 0) tables.add(segs.slice(0, i).join('/'));
  }
  if (tables.size === 0) throw new Error(`${name} is neither a Delta table nor a folder with Delta tables below it`);
  return [...tables].sort();
}

/**
 * Every Delta table below `from` copied to `to` with its history: data files first, then the
 * commits in order, each a conditional put, then checkpoints and `_last_checkpoint`. What the
 * target holds already is kept: the same commit is skipped (so a copy cut short is finished by
 * running it again, and a later one sends only what is new), a different one stops the table
 * with DivergedError before anything of its later history is written. A writer on the target
 * never sees a commit whose files are missing, and no commit there is ever overwritten.
 */
export async function copyLakehouse(from: Storage, to: Storage, fromName: string, options: CopyOptions = {}): Promise<CopiedTable[]> {
  const tables = (await findTables(from, fromName)).filter(options.tables ?? (() => true));
  const present = new Map((await to.list('')).map((f) => [f.path, f]));
  const out: CopiedTable[] = [];
  for (const [index, table] of tables.entries()) {
    const base = table ? `${table}/` : '';
    const files = await from.list(table);
    const commits = files.filter((f) => COMMIT.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
    const logRest = files.filter((f) => f.path.startsWith(`${base}_delta_log/`) && !COMMIT.test(f.path));
    const data = files.filter((f) => !f.path.startsWith(`${base}_delta_log/`));
    const r: CopiedTable = { table, version: commits.length ? Number(COMMIT.exec(commits.at(-1)!.path)![1]) : -1, commits: 0, files: 0, bytes: 0 };
    let done = 0;
    const step = () => options.onProgress?.({ table, index, tables: tables.length, done: ++done, total: files.length, bytes: r.bytes });
    const copy = async (f: FileInfo) => {
      const known = present.get(f.path);
      if (!known || known.size !== f.size) {
        await to.write(f.path, await from.read(f.path));
        r.files++;
        r.bytes += f.size;
      }
      step();
    };
    options.onProgress?.({ table, index, tables: tables.length, done: 0, total: files.length, bytes: 0 });
    await parallel(data, 8, copy);
    for (const c of commits) {
      const bytes = await from.read(c.path);
      if (await to.putIfAbsent(c.path, bytes)) {
        r.commits++;
        r.bytes += bytes.byteLength;
        step();
        continue;
      }
      const theirs = await to.read(c.path);
      if (theirs.byteLength !== bytes.byteLength || theirs.some((b, i) => b !== bytes[i])) {
        throw new DivergedError(
          `${c.path} differs between ${from.description} and ${to.description}: the two lakehouses went apart at version ` +
            `${Number(COMMIT.exec(c.path)![1])} of ${table || 'the table'}, so its history there was left as it was`,
        );
      }
      step();
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

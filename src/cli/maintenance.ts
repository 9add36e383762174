import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FileInfo, Storage } from '../storage/types.ts';
import { optimizeTable, DEFAULT_TARGET_FILE_SIZE, type OptimizeResult } from '../delta/optimize.ts';
import { vacuumTable, type VacuumResult } from '../delta/vacuum.ts';
import { findTables } from '../delta/copy.ts';
import { loadSnapshot, tryListLog, where } from '../delta/snapshot.ts';
import { checkWritable, type WriteOperation } from '../delta/write-protocol.ts';
import { numberOption, parseArgs, UsageError } from './args.ts';
import { openLocation } from './location.ts';

/**
 * The `.tmp` files below `root/dir`, which NodeStorage.list leaves out: a write cut short (a
 * kill, a full disk) leaves its part there, and only VACUUM takes it away.
 */
export function nodeTemporaryFiles(root: string): (dir: string) => Promise<FileInfo[]> {
  return async (dir) => {
    const out: FileInfo[] = [];
    const walk = async (folder: string): Promise<void> => {
      const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = join(folder, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.endsWith('.tmp')) {
          const st = await stat(full).catch(() => undefined);
          if (st) out.push({ path: relative(root, full).split(sep).join('/'), size: st.size, modificationTime: Math.floor(st.mtimeMs) });
        }
      }
    };
    await walk(join(root, dir));
    return out;
  };
}

/** A log folder with no commit yet: the first write of the table was cut short. */
async function uncreated(storage: Storage, table: string): Promise<boolean> {
  return (await tryListLog(storage, table)) === undefined;
}

const NOT_CREATED = 'skipped: its _delta_log has no commit yet (the first write was cut short); nothing to do';

/** Every table's protocol allows the operation, or nothing is done to any of them (WriteRefusedError). */
async function checkAll(storage: Storage, tables: string[], operation: WriteOperation): Promise<void> {
  for (const table of tables) checkWritable(await loadSnapshot(storage, table), operation, where(storage, table));
}

const name = (dir: string, table: string) => table || dir;

export async function optimizeCommand(argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, ['target-size-mb']);
  const [dir, ...rest] = args.positional;
  if (!dir || rest.length) throw new UsageError('usage: optimize TABLE_DIR|LAKEHOUSE_DIR [--target-size-mb N]');
  const targetFileSize = numberOption(args, 'target-size-mb', DEFAULT_TARGET_FILE_SIZE / 2 ** 20, 0.001, 1e6) * 2 ** 20;
  const storage = openLocation(dir);
  const lines: string[] = [];
  const tables: string[] = [];
  for (const table of await findTables(storage, dir)) {
    if (table && (await uncreated(storage, table))) lines.push(`${name(dir, table)}  ${NOT_CREATED}`);
    else tables.push(table);
  }
  await checkAll(storage, tables, 'optimize');
  for (const table of tables) {
    lines.push(`${name(dir, table)}  ${describeOptimize(await optimizeTable(storage, table, { targetFileSize }))}`);
  }
  out.write(`${lines.join('\n')}\n`);
}

export function describeOptimize(r: OptimizeResult): string {
  if (r.version === null) return `nothing to compact at version ${r.readVersion} (no partition has two or more files under the target size)`;
  return (
    `version ${r.version} OPTIMIZE: ${plural(r.filesRemoved, 'file')} (${mb(r.bytesRemoved)}) -> ${plural(r.filesAdded, 'file')} (${mb(r.bytesAdded)}), ` +
    `${r.rows.toLocaleString('en-US')} rows, dataChange false; versions before ${r.version} stay readable until VACUUM`
  );
}

export async function vacuumCommand(argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, ['retention-hours'], ['dry-run', 'force']);
  const [dir, ...rest] = args.positional;
  if (!dir || rest.length) throw new UsageError('usage: vacuum TABLE_DIR|LAKEHOUSE_DIR [--retention-hours H] [--dry-run] [--force]');
  const retentionHours = args.options.has('retention-hours') ? numberOption(args, 'retention-hours', 0, 0, 1e9) : undefined;
  const dryRun = args.options.has('dry-run');
  const force = args.options.has('force');
  const storage = openLocation(dir);
  const lines: string[] = [];
  let files = 0;
  let bytes = 0;
  const tables: string[] = [];
  for (const table of await findTables(storage, dir)) {
    if (table && (await uncreated(storage, table))) lines.push(`${name(dir, table)}  ${NOT_CREATED}`);
    else tables.push(table);
  }
  // Check every table's protocol and retention before deleting anything anywhere.
  await checkAll(storage, tables, 'vacuum');
  if (!force && retentionHours !== undefined) {
    for (const table of tables) await vacuumTable(storage, table, { retentionHours, dryRun: true });
  }
  for (const table of tables) {
    const r = await vacuumTable(storage, table, { retentionHours, dryRun, force });
    if (dryRun)
      for (const f of r.files)
        lines.push(`  would delete ${join(table, f.path)}  ${f.size} bytes (${f.reason === 'untracked' ? 'never committed' : 'removed'})`);
    lines.push(`${name(dir, table)}  ${describeVacuum(r)}`);
    files += r.files.length;
    bytes += r.bytes;
  }
  if (tables.length > 1) lines.push(`total: ${dryRun ? 'would delete' : 'deleted'} ${plural(files, 'file')} (${mb(bytes)})`);
  if (files > 0 && dryRun) lines.push('versions that need these files (replaced before the cutoff) could no longer be read afterwards');
  if (files > 0 && !dryRun)
    lines.push(
      'versions that needed the deleted files (replaced before the cutoff) can no longer be read; the latest version, and those after the cutoff, can',
    );
  out.write(`${lines.join('\n')}\n`);
}

export function describeVacuum(r: VacuumResult): string {
  const untracked = r.files.filter((f) => f.reason === 'untracked').length;
  const what = `${r.dryRun ? 'would delete' : 'deleted'} ${plural(r.files.length, 'file')} (${mb(r.bytes)})`;
  const detail = r.files.length ? `: ${r.files.length - untracked} removed from the table, ${untracked} never committed` : '';
  return `${what}${detail}; retention ${r.retentionHours} h, cutoff ${new Date(r.cutoff).toISOString()}, latest version ${r.version}`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function mb(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 2 ** 20).toFixed(1)} MB`;
}

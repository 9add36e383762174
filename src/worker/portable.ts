import { LOG_DIR, decodeDataPath } from '../delta/actions.ts';
import { listLog, loadSnapshot } from '../delta/snapshot.ts';
import { MemoryStorage } from '../storage/memory.ts';
import type { Storage } from '../storage/types.ts';
import { unzip } from '../unzip.ts';
import { zip, type ZipEntry } from '../zip.ts';
import { viewName } from './catalog.ts';

/**
 * The whole lakehouse as one .zip and back (issue 7, item 2). The archive holds one folder,
 * `creatorops-lakehouse/`, and below it every table's Delta folder exactly as it is stored —
 * Parquet data files (those of old versions too, for time travel) and the whole `_delta_log`
 * (commits, checkpoints, `_last_checkpoint`) — so each folder is a Delta table that Spark or
 * delta-rs can read where it lies, and an import restores every table with its full history.
 */

export const EXPORT_FOLDER = 'creatorops-lakehouse';

export interface Archive {
  fileName: string;
  bytes: Uint8Array;
}

export interface ExportResult extends Archive {
  tables: { path: string; files: number; bytes: number }[];
}

/** Every file of `tables` (paths relative to the lakehouse root) in one .zip below `creatorops-lakehouse/`. */
export async function exportLakehouse(storage: Storage, tables: readonly string[]): Promise<ExportResult> {
  if (tables.length === 0) throw new Error('the lakehouse is empty: run the pipeline first, then export it');
  const entries: ZipEntry[] = [];
  const summary: ExportResult['tables'] = [];
  for (const table of tables) {
    const files = await storage.list(table);
    summary.push({ path: table, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) });
    for (const f of files) entries.push({ name: `${EXPORT_FOLDER}/${f.path}`, data: await storage.read(f.path), modified: f.modificationTime });
  }
  return { fileName: `${EXPORT_FOLDER}.zip`, bytes: zip(entries), tables: summary };
}

export interface ImportedTable {
  path: string;
  /** the folder of the archive it came from */
  from: string;
  version: number;
  /** commits in its log */
  commits: number;
  files: number;
  bytes: number;
}

export interface ImportResult {
  tables: ImportedTable[];
  files: number;
  bytes: number;
  /** the tables that were in the lakehouse before, now replaced */
  replaced: string[];
}

export interface ImportOptions {
  /** the lakehouse's table paths (e.g. `silver/events`) */
  known: readonly string[];
  /** the tables the lakehouse holds now */
  present: () => Promise<string[]>;
  /** replace a lakehouse that is not empty (the page asks first); without it, such an import is refused */
  replace?: boolean;
  /** empty the lakehouse (called only when `replace` and it holds tables) */
  clear: () => Promise<void>;
}

/** Folders of the archive holding a `_delta_log/`, not themselves inside one. */
function tableRoots(names: readonly string[]): string[] {
  const roots = new Set<string>();
  for (const n of names) {
    const m = /^(?:(.*)\/)?_delta_log\/[^/]+$/.exec(n);
    if (!m) continue;
    const root = m[1] ?? '';
    if (!root.split('/').includes(LOG_DIR)) roots.add(root);
  }
  return [...roots].sort();
}

/**
 * Which lakehouse table a folder of the archive is: `…/silver/events` (an export of the whole
 * lakehouse, under any top folder), or `silver_events` (one table, as **Download as .zip** makes it).
 */
function tableFor(root: string, known: readonly string[]): string | undefined {
  return known.find((path) => root === path || root.endsWith(`/${path}`)) ?? known.find((path) => root.split('/').pop() === viewName(path));
}

/**
 * Put the tables of a .zip into the lakehouse. Checked before anything is written: the archive
 * holds Delta tables, each one a table of this lakehouse, each one's log readable at its latest
 * version with every live data file present at its logged size. A lakehouse that already holds
 * tables is only replaced when `replace` says so. Data files are written before the log, and the
 * log in version order, so an import cut short leaves each table at a version it can read.
 */
export async function importLakehouse(storage: Storage, name: string, bytes: Uint8Array, options: ImportOptions): Promise<ImportResult> {
  const entries = await unzip(bytes);
  const roots = tableRoots(entries.map((e) => e.name));
  if (roots.length === 0) {
    throw new Error(`${name} holds no Delta table: no folder in it has a _delta_log (export a lakehouse with “Export lakehouse (.zip)”)`);
  }
  const mapped = roots.map((root) => ({ root, path: tableFor(root, options.known) }));
  const strangers = mapped.filter((m) => m.path === undefined).map((m) => m.root || '(the archive’s root)');
  if (strangers.length > 0) {
    throw new Error(
      `${name} holds Delta tables that are not tables of this lakehouse: ${strangers.join(', ')} ` +
        `(its tables are ${options.known.join(', ')}); to look at another table, use “Open a Delta table” instead`,
    );
  }
  const seen = new Map<string, string>();
  for (const m of mapped) {
    const before = seen.get(m.path!);
    if (before !== undefined) throw new Error(`${name} holds two copies of table ${m.path}: ${before || '(root)'} and ${m.root || '(root)'}`);
    seen.set(m.path!, m.root);
  }

  // Each table, at its place in the lakehouse, in memory first: read its log as the app will.
  const staged = new MemoryStorage(name);
  const files: { path: string; data: Uint8Array }[] = [];
  const tables: ImportedTable[] = [];
  for (const { root, path } of mapped) {
    const prefix = root === '' ? '' : `${root}/`;
    const own = entries.filter((e) => e.name.startsWith(prefix) && !roots.some((r) => r !== root && r.length > root.length && e.name.startsWith(`${r}/`)));
    for (const e of own) {
      const at = `${path}/${e.name.slice(prefix.length)}`;
      await staged.write(at, e.data);
      files.push({ path: at, data: e.data });
    }
    let version: number;
    let commits: number;
    try {
      const log = await listLog(staged, path!);
      const snapshot = await loadSnapshot(staged, path!, undefined, log);
      for (const add of snapshot.files) {
        const file = `${path}/${decodeDataPath(add.path)}`;
        const info = await staged.stat(file);
        if (!info) throw new Error(`data file ${decodeDataPath(add.path)} of version ${snapshot.version} is missing`);
        if (info.size !== add.size) throw new Error(`data file ${decodeDataPath(add.path)} has ${info.size} bytes, its log says ${add.size}`);
      }
      version = snapshot.version;
      commits = log.commits.size;
    } catch (err) {
      throw new Error(`${name}: table ${path} (folder ${root || '(root)'}) cannot be imported: ${(err as Error).message}`, { cause: err });
    }
    const mine = files.filter((f) => f.path.startsWith(`${path}/`));
    tables.push({ path: path!, from: root, version, commits, files: mine.length, bytes: mine.reduce((s, f) => s + f.data.byteLength, 0) });
  }

  const present = await options.present();
  if (present.length > 0 && !options.replace) {
    throw new Error(
      `the lakehouse is not empty (${present.join(', ')}): importing ${name} would replace all of it; ` +
        'confirm the replacement, or export the lakehouse first to keep a copy',
    );
  }
  if (present.length > 0) await options.clear();

  // Data first, then the log: commits in version order, checkpoints and _last_checkpoint last.
  const isLog = (p: string) => p.includes(`/${LOG_DIR}/`);
  const logRank = (p: string) => (p.endsWith('.json') ? 0 : p.endsWith('_last_checkpoint') ? 2 : 1);
  const ordered = [
    ...files.filter((f) => !isLog(f.path)),
    ...files.filter((f) => isLog(f.path)).sort((a, b) => logRank(a.path) - logRank(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  ];
  for (const f of ordered) await storage.write(f.path, f.data);
  return {
    tables: tables.sort((a, b) => options.known.indexOf(a.path) - options.known.indexOf(b.path)),
    files: files.length,
    bytes: files.reduce((s, f) => s + f.data.byteLength, 0),
    replaced: present,
  };
}

import { LOG_DIR, decodeDataPath, parseLogFileName } from '../delta/actions.ts';
import { deletionVectorFile } from '../delta/deletion-vectors.ts';
import { listLog, loadSnapshot } from '../delta/snapshot.ts';
import type { FileInfo, Storage } from '../storage/types.ts';
import { ZipStorage } from '../storage/zip.ts';
import { ZipArchive, type ZipInput, type ZipItem } from '../unzip.ts';
import { zipChunks, type ZipEntry } from '../zip.ts';
import { viewName } from './catalog.ts';
import { tableRoots } from './opened.ts';
import type { ExportedTable, ImportedTable, ImportResult } from './protocol.ts';

/**
 * The whole lakehouse as one .zip and back (issue 7, item 2). The archive holds one folder,
 * `creatorops-lakehouse/`, and below it every table's Delta folder exactly as it is stored —
 * Parquet data files (those of old versions too, for time travel) and the whole `_delta_log`
 * (commits, checkpoints, `_last_checkpoint`) — so each folder is a Delta table that Spark or
 * delta-rs can read where it lies, and an import restores every table with its full history.
 */

export const EXPORT_FOLDER = 'creatorops-lakehouse';

export interface ExportPlan {
  fileName: string;
  tables: ExportedTable[];
  /** the archive, one chunk at a time: each data file is read only when the one before is out */
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Every file of `tables` (paths relative to the lakehouse root) in one .zip below
 * `creatorops-lakehouse/`. The files are listed now and read as the chunks are taken, so making
 * the archive holds one data file at a time, whatever the size of the lakehouse.
 */
export async function exportLakehouse(storage: Storage, tables: readonly string[]): Promise<ExportPlan> {
  if (tables.length === 0) throw new Error('the lakehouse is empty: run the pipeline first, then export it');
  const files: FileInfo[] = [];
  const summary: ExportedTable[] = [];
  for (const table of tables) {
    const listed = await storage.list(table);
    summary.push({ path: table, files: listed.length, bytes: listed.reduce((s, f) => s + f.size, 0) });
    files.push(...listed);
  }
  async function* entries(): AsyncGenerator<ZipEntry> {
    for (const f of files) yield { name: `${EXPORT_FOLDER}/${f.path}`, data: await storage.read(f.path), modified: f.modificationTime };
  }
  return { fileName: `${EXPORT_FOLDER}.zip`, tables: summary, chunks: zipChunks(entries()) };
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
  /** only check the archive (every entry expanded): what would be imported and replaced, nothing written */
  check?: boolean;
}

/** Folders of the archive holding a `_delta_log/`, not themselves inside one. */
/**
 * Which lakehouse table a folder of the archive is: `…/silver/events` (an export of the whole
 * lakehouse, under any top folder), or `silver_events` (one table, as **Download as .zip** makes it).
 */
function tableFor(root: string, known: readonly string[]): string | undefined {
  return known.find((path) => root === path || root.endsWith(`/${path}`)) ?? known.find((path) => root.split('/').pop() === viewName(path));
}

/**
 * Put the tables of a .zip into the lakehouse. Checked before anything is written: the archive
 * (names, sizes: see unzip.ts) holds Delta tables, each one a table of this lakehouse, each one's
 * log readable at its latest version with every live data file present at its logged size, and
 * every file expanding to its CRC-32. A lakehouse that already holds tables is only replaced when
 * `replace` says so. Data files are written before the log, and the log in version order, so an
 * import cut short leaves each table at a version it can read. The archive is read in place, one
 * entry at a time (a picked File is never read whole), so memory holds one file, not the archive.
 */
export async function importLakehouse(storage: Storage, name: string, input: ZipInput, options: ImportOptions): Promise<ImportResult> {
  const archive = await ZipArchive.open(name, input);
  const entries = archive.entries;
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

  // Each table's entries at its place in the lakehouse, read from the archive as the app will read them.
  const files: { path: string; item: ZipItem }[] = [];
  for (const { root, path } of mapped) {
    const prefix = root === '' ? '' : `${root}/`;
    const own = entries.filter((e) => e.name.startsWith(prefix) && !roots.some((r) => r !== root && r.length > root.length && e.name.startsWith(`${r}/`)));
    for (const e of own) files.push({ path: `${path}/${e.name.slice(prefix.length)}`, item: e });
  }
  const staged = new ZipStorage(
    archive,
    files.map((f) => [f.path, f.item]),
  );
  const tables: ImportedTable[] = [];
  for (const { root, path } of mapped) {
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
        const vector = add.deletionVector && deletionVectorFile(add.deletionVector);
        if (vector && !(await staged.stat(`${path}/${vector}`))) {
          throw new Error(`the deletion vector file ${vector} of data file ${decodeDataPath(add.path)} (version ${snapshot.version}) is missing`);
        }
      }
      version = snapshot.version;
      commits = log.commits.size;
    } catch (err) {
      throw new Error(`${name}: table ${path} (folder ${root || '(root)'}) cannot be imported: ${(err as Error).message}`, { cause: err });
    }
    const mine = files.filter((f) => f.path.startsWith(`${path}/`));
    tables.push({ path: path!, from: root, version, commits, files: mine.length, bytes: mine.reduce((s, f) => s + f.item.size, 0) });
  }

  const present = await options.present();
  if (present.length > 0 && !options.replace && !options.check) {
    throw new Error(
      `the lakehouse is not empty (${present.join(', ')}): importing ${name} would replace all of it; ` +
        'confirm the replacement, or export the lakehouse first to keep a copy',
    );
  }
  // Every file expanded and checked once before the lakehouse is touched, none kept: a damaged
  // entry must not be found after the tables it would replace are gone.
  for (const f of files) await archive.read(f.item);
  const sorted = tables.sort((a, b) => options.known.indexOf(a.path) - options.known.indexOf(b.path));
  const result = { tables: sorted, files: files.length, bytes: files.reduce((s, f) => s + f.item.size, 0), replaced: present };
  if (options.check) return result;
  if (present.length > 0) await options.clear();

  // Data first, then the log: commits in version order, then sidecars, checkpoints, and _last_checkpoint last.
  const isLog = (p: string) => p.includes(`/${LOG_DIR}/`);
  const logRank = (p: string) => {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (parseLogFileName(name)?.kind === 'commit') return 0;
    if (p.includes(`/${LOG_DIR}/_sidecars/`)) return 1;
    return name === '_last_checkpoint' ? 3 : 2;
  };
  const ordered = [
    ...files.filter((f) => !isLog(f.path)),
    ...files.filter((f) => isLog(f.path)).sort((a, b) => logRank(a.path) - logRank(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  ];
  for (const f of ordered) await storage.write(f.path, await archive.read(f.item));
  return result;
}

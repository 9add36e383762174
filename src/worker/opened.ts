import { LOG_DIR } from '../delta/actions.ts';
import { CodedError } from '../errors.ts';
import { checkRange, NotFoundError, joinPath, type FileInfo, type Storage } from '../storage/types.ts';
import { ZipStorage } from '../storage/zip.ts';
import { ZipArchive, type ZipInput } from '../unzip.ts';
import { Catalog } from './catalog.ts';
import type { FolderFile, TableDetails } from './protocol.ts';

/**
 * Delta tables brought in from outside (exported from Databricks, written by Spark or delta-rs):
 * a `.zip` or a folder the user picks, both read lazily from the browser's File objects (the
 * `_delta_log` when it opens, a Parquet file only when a view or a query needs its rows; an entry
 * of a .zip is inflated when read, see ZipStorage). Each is mounted read-only into the lakehouse's namespace as
 * `opened/<name>`, so the same Catalog, table cache, explorer views and SQL console serve it as
 * they serve the lakehouse's own tables (console name `opened_<name>`).
 */

/** Where opened tables are mounted: `opened/<name>`; never a folder of the lakehouse itself. */
export const OPENED_DIR = 'opened';

export interface TableSource {
  /** the archive's or the folder's name, as the user chose it; for a bucket's table, its folder there */
  name: string;
  /** `store`: a table of a connected bucket or container (remote.ts) */
  kind: 'zip' | 'folder' | 'store';
  storage: Storage;
  /** the folder of `storage` holding `_delta_log` ('' for its root) */
  root: string;
}

/** The mount path of a table named `name` (a file or folder name): `opened/<lowercase letters, digits and _>`. */
export function openedPath(name: string): string {
  const slug = name
    .replace(/\.zip$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${OPENED_DIR}/${slug || 'table'}`;
}

/** The folders holding a Delta table among `paths` (those with `_delta_log/` in them; '' for the root), in name order. */
export function tableRoots(paths: readonly string[]): string[] {
  const roots = new Set<string>();
  for (const p of paths) {
    const m = /^(?:(.*)\/)?_delta_log\/[^/]+$/.exec(p);
    const root = m?.[1] ?? '';
    if (m && !root.split('/').includes(LOG_DIR)) roots.add(root);
  }
  return [...roots].sort();
}

/** The shallowest folder holding a Delta table (the first by name among equals); undefined when there is none. */
export function deltaTableRoot(paths: readonly string[]): string | undefined {
  const depth = (root: string) => (root === '' ? 0 : root.split('/').length);
  return tableRoots(paths).reduce<string | undefined>((best, r) => (best === undefined || depth(r) < depth(best) ? r : best), undefined);
}

/** A .zip or a folder that holds more than one Delta table, opened without saying which. */
export class SeveralTablesError extends CodedError {
  static readonly code = 'SEVERAL_TABLES';
  override name = 'SeveralTablesError';
  constructor(
    what: string,
    readonly roots: string[],
  ) {
    super(
      `${what} holds ${roots.length} Delta tables (${roots.map((r) => r || '(its root)').join(', ')}): choose one to open, ` +
        'or bring a whole exported lakehouse in with “Import a lakehouse (.zip)” in the Explorer',
    );
  }
}

/**
 * The table of `paths` to open: `root` when given (it must hold one), else the only one there is.
 * The source's name then says which table of it this is, so two tables of one archive mount apart.
 */
function chooseRoot(what: string, name: string, paths: readonly string[], root: string | undefined): { root: string; name: string } {
  const roots = tableRoots(paths);
  if (roots.length === 0) throw new Error(`${what} holds no Delta table: no folder in it has a _delta_log`);
  if (root !== undefined) {
    if (!roots.includes(root))
      throw new Error(`${what} has no Delta table in its folder ${root || '(its root)'}; its tables are ${roots.map((r) => r || '(its root)').join(', ')}`);
    return { root, name: roots.length === 1 ? name : `${name.replace(/\.zip$/i, '')}_${root}` };
  }
  if (roots.length > 1) throw new SeveralTablesError(what, roots);
  return { root: roots[0]!, name };
}

/** The folders of a .zip or a picked folder that hold a Delta table ('' for its root), in name order. */
export async function tablesIn(name: string, from: ZipInput | readonly FolderFile[]): Promise<string[]> {
  if (Array.isArray(from)) return tableRoots((from as readonly FolderFile[]).map((f) => f.path.replace(/^\/+/, '')));
  return tableRoots((await ZipArchive.open(name, from as ZipInput)).entries.map((e) => e.name));
}

/** A .zip as a table: its central directory read and checked (names, sizes), no entry expanded yet. */
export async function zipSource(name: string, archive: ZipInput, root?: string): Promise<TableSource> {
  const zip = await ZipArchive.open(name, archive);
  const chosen = chooseRoot(
    name,
    name,
    zip.entries.map((e) => e.name),
    root,
  );
  return { name: chosen.name, kind: 'zip', storage: new ZipStorage(zip), root: chosen.root };
}

/**
 * The files of a picked folder, read only when asked: a `File` from `<input webkitdirectory>` or
 * `FileSystemFileHandle.getFile()` is a handle on the disk, not its bytes. Read-only; it records
 * which files were read, so the page can show that only the needed Parquet files were.
 */
export class FolderStorage implements Storage {
  readonly description: string;
  private readonly files = new Map<string, FolderFile>();
  /** every path read, in order of first read */
  readonly readPaths: string[] = [];

  constructor(files: readonly FolderFile[], description: string) {
    for (const f of files) this.files.set(f.path.replace(/^\/+/, ''), f);
    this.description = description;
  }

  async read(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f) throw new NotFoundError(path, this.description);
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    return new Uint8Array(await f.file.arrayBuffer());
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    const f = this.files.get(path);
    if (!f) throw new NotFoundError(path, this.description);
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    return new Uint8Array(await f.file.slice(offset, offset + length).arrayBuffer());
  }

  async list(dir: string): Promise<FileInfo[]> {
    const prefix = dir === '' ? '' : dir.replace(/\/?$/, '/');
    const out: FileInfo[] = [];
    for (const [path, f] of this.files) if (path.startsWith(prefix)) out.push({ path, size: f.file.size, modificationTime: f.modified ?? 0 });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const f = this.files.get(path);
    return f && { path, size: f.file.size, modificationTime: f.modified ?? 0 };
  }

  write(): Promise<void> {
    return readOnly(this.description);
  }
  putIfAbsent(): Promise<boolean> {
    return readOnly(this.description);
  }
  delete(): Promise<void> {
    return readOnly(this.description);
  }
  deleteDir(): Promise<void> {
    return readOnly(this.description);
  }
}

/** A path below a store's address (`s3://bucket/prefix`), which joinPath would fold. */
export const within = (where: string, path: string): string => (path ? `${where.replace(/\/+$/, '')}/${path}` : where);

/** A write to a table opened from a .zip, a folder or a bucket, which the page only reads. */
export class ReadOnlyTableError extends CodedError {
  static readonly code = 'READ_ONLY_TABLE';
  override name = 'ReadOnlyTableError';
}

/** Why writing below `where`, a table's source, is refused. */
export function readOnlyMessage(where: string, kind: TableSource['kind']): string {
  return kind === 'store'
    ? `${where} is opened read-only from object storage: the page does not write to it (to change it, pull the lakehouse into this browser, or run the CLI against the bucket)`
    : `${where} is an opened table: it is read-only`;
}

function readOnly(where: string, kind: TableSource['kind'] = 'folder'): Promise<never> {
  return Promise.reject(new ReadOnlyTableError(readOnlyMessage(where, kind)));
}

/**
 * A table of a connected bucket or container as an opened table's source: reads go to the
 * store (a commit file once), and are recorded (the page shows that only the files a view needs were fetched);
 * anything that would write is refused.
 */
export class StoreTableStorage implements Storage {
  readonly description: string;
  /** every path read, in order of first read */
  readonly readPaths: string[] = [];

  constructor(private readonly base: Storage) {
    this.description = base.description;
  }

  /** commit files read, by path: a commit is never replaced (conditional puts), so each is fetched once */
  private readonly commits = new Map<string, Promise<Uint8Array>>();

  read(path: string): Promise<Uint8Array> {
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    if (!/\/_delta_log\/\d{20}\.json$/.test(`/${path}`)) return this.base.read(path);
    let bytes = this.commits.get(path);
    if (!bytes) {
      bytes = this.base.read(path);
      this.commits.set(path, bytes);
      bytes.catch(() => this.commits.delete(path));
    }
    return bytes.then((b) => b.slice());
  }
  readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    return this.base.readRange(path, offset, length);
  }
  list(dir: string): Promise<FileInfo[]> {
    return this.base.list(dir);
  }
  stat(path: string): Promise<FileInfo | undefined> {
    return this.base.stat(path);
  }
  write(path: string, _data: Uint8Array): Promise<void> {
    return readOnly(within(this.description, path), 'store');
  }
  putIfAbsent(path: string, _data: Uint8Array): Promise<boolean> {
    return readOnly(within(this.description, path), 'store');
  }
  delete(path: string): Promise<void> {
    return readOnly(within(this.description, path), 'store');
  }
  deleteDir(dir: string): Promise<void> {
    return readOnly(within(this.description, dir), 'store');
  }
}

/** The files below a directory handle (File System Access API), as lazy Files: nothing is read. */
export async function filesOfDirectory(handle: FileSystemDirectoryHandle): Promise<FolderFile[]> {
  type Entries = { entries(): AsyncIterable<[string, FileSystemHandle]> };
  const out: FolderFile[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
    for await (const [name, h] of (dir as unknown as Entries).entries()) {
      if (h.kind === 'directory') await walk(h as FileSystemDirectoryHandle, `${prefix}${name}/`);
      else {
        const file = await (h as FileSystemFileHandle).getFile();
        out.push({ path: `${prefix}${name}`, file, modified: file.lastModified });
      }
    }
  };
  await walk(handle, '');
  return out;
}

/** A picked folder as a table: the shallowest folder in it holding `_delta_log`. */
export function folderSource(name: string, files: readonly FolderFile[], root?: string): TableSource {
  const paths = files.map((f) => f.path.replace(/^\/+/, ''));
  if (tableRoots(paths).length === 0) throw new Error(`the folder ${name} holds no Delta table: neither it nor a folder in it has a _delta_log`);
  const chosen = chooseRoot(`the folder ${name}`, name, paths, root);
  return { name: chosen.name, kind: 'folder', storage: new FolderStorage(files, `folder ${name}`), root: chosen.root };
}

/**
 * The lakehouse's storage with opened tables mounted at `opened/<name>`: reads below a mount go
 * to its source (read-only), everything else to the lakehouse.
 */
export class MountedStorage implements Storage {
  private readonly mounts = new Map<string, TableSource>();

  constructor(private readonly base: Storage) {}

  get description(): string {
    return this.base.description;
  }

  mount(path: string, source: TableSource): void {
    this.mounts.set(path, source);
  }

  unmount(path: string): void {
    this.mounts.delete(path);
  }

  source(path: string): TableSource | undefined {
    return this.mounts.get(path);
  }

  /** Where opened tables are mounted. */
  paths(): string[] {
    return [...this.mounts.keys()];
  }

  /** An opened table is named by what the user opened (`dv.zip`, `folder my-table`), not by its mount. */
  describe(dir: string): string {
    const r = this.route(dir);
    if (!r) return dir ? `${this.base.description.replace(/\/$/, '')}/${dir}` : this.base.description;
    if (r.source.kind === 'store') return within(r.source.storage.description, r.inner);
    const label = r.source.kind === 'zip' ? r.source.name : `folder ${r.source.name}`;
    return r.inner ? `${label}/${r.inner}` : label;
  }

  /** The mount a path lies in, and the path inside its source. */
  private route(path: string): { at: string; source: TableSource; inner: string } | undefined {
    for (const [at, source] of this.mounts) {
      if (path === at || path.startsWith(`${at}/`)) return { at, source, inner: joinPath(source.root, path.slice(at.length + 1)) };
    }
    return undefined;
  }

  read(path: string): Promise<Uint8Array> {
    const r = this.route(path);
    return r ? r.source.storage.read(r.inner) : this.base.read(path);
  }

  readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const r = this.route(path);
    return r ? r.source.storage.readRange(r.inner, offset, length) : this.base.readRange(path, offset, length);
  }

  async list(dir: string): Promise<FileInfo[]> {
    const r = this.route(dir);
    if (!r) return this.base.list(dir);
    const prefix = r.source.root === '' ? '' : `${r.source.root}/`;
    return (await r.source.storage.list(r.inner)).map((f) => ({ ...f, path: joinPath(r.at, f.path.slice(prefix.length)) }));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const r = this.route(path);
    if (!r) return this.base.stat(path);
    const info = await r.source.storage.stat(r.inner);
    return info && { ...info, path };
  }

  async listTemporary(dir: string): Promise<FileInfo[]> {
    if (this.route(dir)) return [];
    return this.base.listTemporary ? this.base.listTemporary(dir) : [];
  }

  private refuse(path: string): Promise<never> {
    const r = this.route(path)!;
    if (r.source.kind !== 'store') return Promise.reject(new ReadOnlyTableError(`${path} belongs to an opened table, which is read-only`));
    return Promise.reject(new ReadOnlyTableError(`${path}: ${readOnlyMessage(within(r.source.storage.description, r.source.root), 'store')}`));
  }

  write(path: string, data: Uint8Array): Promise<void> {
    return this.route(path) ? this.refuse(path) : this.base.write(path, data);
  }
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    return this.route(path) ? this.refuse(path) : this.base.putIfAbsent(path, data);
  }
  delete(path: string): Promise<void> {
    return this.route(path) ? this.refuse(path) : this.base.delete(path);
  }
  deleteDir(dir: string): Promise<void> {
    return this.route(dir) ? this.refuse(dir) : this.base.deleteDir(dir);
  }
}

/** Where the opened table at `path` comes from, as TableDetails says it (undefined: one of the lakehouse's own). */
export function openedFrom(mounted: MountedStorage, path: string): TableDetails['openedFrom'] {
  const source = mounted.source(path);
  return source && { kind: source.kind, where: mounted.describe(path) };
}

/** A table opened from a .zip on its own, outside any lakehouse (kept for callers that need no engine). */
export interface OpenedTable {
  name: string;
  root: string;
  storage: Storage;
  catalog: Catalog;
  details(): Promise<TableDetails>;
}

export async function openZippedTable(name: string, archive: ZipInput): Promise<OpenedTable> {
  const { storage, root } = await zipSource(name, archive);
  const catalog = new Catalog(storage, [root]);
  const opened: OpenedTable = { name, root, storage, catalog, details: () => catalog.details(root) };
  await opened.details(); // refuse now what cannot be read
  return opened;
}

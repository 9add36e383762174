import { withLock } from './locks.ts';
import { checkRange, NotFoundError, type FileInfo, type Storage } from './types.ts';

// Parts of the File System API that TypeScript's DOM lib does not declare yet.
interface MovableHandle {
  move(parent: FileSystemDirectoryHandle, name: string): Promise<void>;
}
interface IterableDirectory {
  entries(): AsyncIterable<[string, FileSystemHandle]>;
}
interface SyncHandleFile {
  createSyncAccessHandle?(): Promise<FileSystemSyncAccessHandle>;
}

/** Files being written: ours (".<uuid>.tmp") and Chromium's createWritable swap files. */
const IN_FLIGHT = /^\..*\.tmp$|\.crswap$/;

/**
 * Files under one folder of the Origin Private File System, for a dedicated worker (there every
 * write goes through a synchronous access handle; elsewhere through createWritable).
 *
 * Every write goes to a hidden temp file in the target folder, which is then move()d onto the
 * final name. Chromium's move() replaces an existing file in one step, so a reader sees the old
 * bytes or the new ones, never a part. createWritable() alone is not enough: it makes the final
 * name exist, empty, from the moment the file is opened.
 */
export class OpfsStorage implements Storage {
  readonly description: string;

  private constructor(
    private readonly root: FileSystemDirectoryHandle,
    private readonly rootPath: string,
  ) {
    this.description = `OPFS ${rootPath}/`;
  }

  /** The storage rooted at `rootPath` (created if missing) of this origin's OPFS. */
  static async open(rootPath = 'lakehouse'): Promise<OpfsStorage> {
    let dir = await navigator.storage.getDirectory();
    for (const name of segments(rootPath)) dir = await dir.getDirectoryHandle(name, { create: true });
    return new OpfsStorage(dir, segments(rootPath).join('/'));
  }

  async read(path: string): Promise<Uint8Array> {
    return this.readFile(path, (file) => file);
  }

  /** Only the bytes asked for: File.slice reads that part of the file, not all of it. */
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    return this.readFile(path, (file) => file.slice(offset, offset + length));
  }

  private async readFile(path: string, part: (file: File) => Blob): Promise<Uint8Array> {
    // A concurrent replace of the file invalidates a File already taken from it; take it again.
    for (let attempt = 1; ; attempt++) {
      try {
        const handle = await this.file(path);
        if (!handle) throw new NotFoundError(path, this.description);
        return new Uint8Array(await part(await handle.getFile()).arrayBuffer());
      } catch (err) {
        if (errorName(err) === 'NotReadableError' && attempt < 3) continue;
        // Deleted between finding the handle and reading it.
        if (errorName(err) === 'NotFoundError') throw new NotFoundError(path, this.description);
        throw this.wrap('read', path, err);
      }
    }
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    try {
      const { parent, name } = await this.parentOf(path, true);
      const temp = await writeTemp(parent, data);
      try {
        await (temp as unknown as MovableHandle).move(parent, name);
      } catch (err) {
        await removeQuietly(parent, temp.name);
        throw err;
      }
    } catch (err) {
      throw this.wrap('write', path, err);
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    try {
      const { parent, name } = await this.parentOf(path, true);
      if (await hasEntry(parent, name)) return false;
      const temp = await writeTemp(parent, data);
      let moved = false;
      try {
        // move() would replace a file that appeared since the check above, so the check and the
        // move happen under a lock that every putIfAbsent into this folder takes, across the
        // tabs and workers of this origin.
        const lock = `delta-commit:${this.rootPath}/${parentPath(path)}`;
        moved = await withLock(lock, async () => {
          if (await hasEntry(parent, name)) return false;
          await (temp as unknown as MovableHandle).move(parent, name);
          return true;
        });
        return moved;
      } finally {
        if (!moved) await removeQuietly(parent, temp.name);
      }
    } catch (err) {
      throw this.wrap('create', path, err);
    }
  }

  async list(dir: string): Promise<FileInfo[]> {
    return this.walk(dir, false);
  }

  /** The temporary files `list` leaves out: writes in flight, or cut short (a closed tab, a full disk). */
  async listTemporary(dir: string): Promise<FileInfo[]> {
    return this.walk(dir, true);
  }

  private async walk(dir: string, temporary: boolean): Promise<FileInfo[]> {
    const base = segments(dir);
    const out: FileInfo[] = [];
    const walk = async (folder: FileSystemDirectoryHandle, prefix: string[]): Promise<void> => {
      const pending: Promise<void>[] = [];
      for await (const [name, handle] of (folder as unknown as IterableDirectory).entries()) {
        if (handle.kind === 'directory') {
          pending.push(walk(handle as FileSystemDirectoryHandle, [...prefix, name]));
        } else if (IN_FLIGHT.test(name) === temporary) {
          pending.push(
            (handle as FileSystemFileHandle).getFile().then(
              (file) => void out.push({ path: [...prefix, name].join('/'), size: file.size, modificationTime: file.lastModified }),
              // Deleted while we were listing: it is not there.
              (err: unknown) => {
                if (errorName(err) !== 'NotFoundError') throw err;
              },
            ),
          );
        }
      }
      await Promise.all(pending);
    };
    try {
      const folder = await this.folder(base, false);
      if (folder) await walk(folder, base);
    } catch (err) {
      throw this.wrap(temporary ? 'list temporary files in' : 'list', dir, err);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const handle = await this.file(path);
      if (!handle) return undefined;
      const file = await handle.getFile();
      return { path, size: file.size, modificationTime: file.lastModified };
    } catch (err) {
      if (errorName(err) === 'NotFoundError') return undefined;
      throw this.wrap('stat', path, err);
    }
  }

  async delete(path: string): Promise<void> {
    try {
      const { parent, name } = await this.parentOf(path, false);
      if (parent) await removeQuietly(parent, name);
    } catch (err) {
      throw this.wrap('delete', path, err);
    }
  }

  async deleteDir(dir: string): Promise<void> {
    const path = segments(dir);
    try {
      const name = path.pop();
      const parent = await this.folder(path, false);
      if (!parent) return;
      if (name !== undefined) return await removeQuietly(parent, name, true);
      // The root itself stays; everything in it goes.
      const names: string[] = [];
      for await (const [child] of (parent as unknown as IterableDirectory).entries()) names.push(child);
      for (const child of names) await removeQuietly(parent, child, true);
    } catch (err) {
      throw this.wrap('delete folder', dir, err);
    }
  }

  /** The folder at `path` below the root; undefined when it (or a parent) is missing. */
  private async folder(path: string[], create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    let dir = this.root;
    for (const name of path) {
      try {
        dir = await dir.getDirectoryHandle(name, { create });
      } catch (err) {
        if (!create && (errorName(err) === 'NotFoundError' || errorName(err) === 'TypeMismatchError')) return undefined;
        throw err;
      }
    }
    return dir;
  }

  private async parentOf(path: string, create: true): Promise<{ parent: FileSystemDirectoryHandle; name: string }>;
  private async parentOf(path: string, create: false): Promise<{ parent: FileSystemDirectoryHandle | undefined; name: string }>;
  private async parentOf(path: string, create: boolean) {
    const parts = segments(path);
    const name = parts.pop();
    if (name === undefined) throw new Error(`opfs: "${path}" names no file`);
    return { parent: await this.folder(parts, create), name };
  }

  private async file(path: string): Promise<FileSystemFileHandle | undefined> {
    const { parent, name } = await this.parentOf(path, false);
    if (!parent) return undefined;
    try {
      return await parent.getFileHandle(name);
    } catch (err) {
      if (errorName(err) === 'NotFoundError' || errorName(err) === 'TypeMismatchError') return undefined;
      throw err;
    }
  }

  private wrap(op: string, path: string, err: unknown): Error {
    if (err instanceof NotFoundError) return err;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new Error(`opfs: cannot ${op} ${path} in ${this.description} (${message})`, { cause: err });
  }
}

/** Path segments; '' and '/' name the root. */
function segments(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) if (p === '.' || p === '..') throw new Error(`opfs: path "${path}" may not contain "${p}"`);
  return parts;
}

function parentPath(path: string): string {
  return segments(path).slice(0, -1).join('/');
}

async function writeTemp(parent: FileSystemDirectoryHandle, data: Uint8Array): Promise<FileSystemFileHandle> {
  const handle = await parent.getFileHandle(`.${crypto.randomUUID()}.tmp`, { create: true });
  try {
    await writeWhole(handle, data);
  } catch (err) {
    await removeQuietly(parent, handle.name);
    throw err;
  }
  return handle;
}

async function writeWhole(handle: FileSystemFileHandle, data: Uint8Array): Promise<void> {
  const syncable = handle as unknown as SyncHandleFile;
  if (typeof syncable.createSyncAccessHandle !== 'function') {
    const writable = await handle.createWritable();
    await writable.write(data as Uint8Array<ArrayBuffer>);
    await writable.close();
    return;
  }
  const access = await syncable.createSyncAccessHandle();
  try {
    let at = 0;
    while (at < data.byteLength) {
      const written = access.write(data.subarray(at) as Uint8Array<ArrayBuffer>, { at });
      if (written <= 0) throw new Error(`wrote ${at} of ${data.byteLength} bytes, then nothing`);
      at += written;
    }
    access.truncate(data.byteLength);
    access.flush();
  } finally {
    access.close();
  }
}

async function hasEntry(parent: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await parent.getFileHandle(name);
    return true;
  } catch (err) {
    if (errorName(err) === 'NotFoundError') return false;
    // A folder of that name: the name is taken.
    if (errorName(err) === 'TypeMismatchError') return true;
    throw err;
  }
}

async function removeQuietly(parent: FileSystemDirectoryHandle, name: string, recursive = false): Promise<void> {
  try {
    await parent.removeEntry(name, { recursive });
  } catch (err) {
    if (errorName(err) !== 'NotFoundError') throw err;
  }
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : undefined;
}

import { promises as fs, type Dirent } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { checkRange, NotFoundError, type FileInfo, type Storage } from './types.ts';

/** Files under a folder on disk. The only module of the Delta layer that knows about Node. */
export class NodeStorage implements Storage {
  readonly description: string;
  readonly location: string;

  constructor(private readonly root: string) {
    this.description = root;
    this.location = pathToFileURL(resolve(root)).href;
  }

  /** The file on disk; a path that would leave the root is refused whatever asked for it. */
  private abs(path: string): string {
    const full = join(this.root, ...path.split('/'));
    const rel = relative(this.root, full);
    if (rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new Error(`storage: ${JSON.stringify(path)} lies outside ${this.root}, so it is not opened`);
    }
    return full;
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await fs.readFile(this.abs(path)));
    } catch (err) {
      if (code(err) === 'ENOENT') throw new NotFoundError(path, this.root);
      throw err;
    }
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    let file: fs.FileHandle;
    try {
      file = await fs.open(this.abs(path), 'r');
    } catch (err) {
      if (code(err) === 'ENOENT') throw new NotFoundError(path, this.root);
      throw err;
    }
    try {
      const out = new Uint8Array(Math.max(0, Math.min(length, (await file.stat()).size - offset)));
      let at = 0;
      while (at < out.byteLength) {
        const { bytesRead } = await file.read(out, at, out.byteLength - at, offset + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return at === out.byteLength ? out : out.subarray(0, at);
    } finally {
      await file.close();
    }
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const target = this.abs(path);
    await fs.mkdir(dirname(target), { recursive: true });
    // Write beside, then rename: a reader sees the old file or the new one, never a part.
    const tmp = `${target}.${randomUUID()}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    const target = this.abs(path);
    await fs.mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${randomUUID()}.tmp`);
    await fs.writeFile(tmp, data);
    try {
      // link() fails with EEXIST when the target exists: an atomic "create if absent" of a
      // fully written file.
      await fs.link(tmp, target);
      return true;
    } catch (err) {
      if (code(err) === 'EEXIST') return false;
      throw err;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async list(dir: string): Promise<FileInfo[]> {
    return this.walk(dir, false);
  }

  /** The `.tmp` files `list` leaves out: writes in flight, or cut short (a kill, a full disk). */
  async listTemporary(dir: string): Promise<FileInfo[]> {
    return this.walk(dir, true);
  }

  private async walk(dir: string, temporary: boolean): Promise<FileInfo[]> {
    const base = this.abs(dir);
    const out: FileInfo[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(folder, { withFileTypes: true });
      } catch (err) {
        if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        const full = join(folder, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && e.name.endsWith('.tmp') === temporary) {
          // Another process may remove a file between readdir and stat: it is simply gone.
          const st = await fs.stat(full).catch((err: unknown) => {
            if (code(err) === 'ENOENT') return undefined;
            throw err;
          });
          if (st) out.push({ path: relative(this.root, full).split(sep).join('/'), size: st.size, modificationTime: Math.floor(st.mtimeMs) });
        }
      }
    };
    await walk(base);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const st = await fs.stat(this.abs(path));
      return { path, size: st.size, modificationTime: Math.floor(st.mtimeMs) };
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(path: string): Promise<void> {
    await fs.rm(this.abs(path), { force: true });
  }

  async deleteDir(dir: string): Promise<void> {
    await fs.rm(this.abs(dir), { recursive: true, force: true });
  }
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

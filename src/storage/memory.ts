import { byteRange, NotFoundError, type FileInfo, type Storage } from './types.ts';

interface Entry {
  data: Uint8Array;
  modificationTime: number;
}

/** Files in a Map: for tests, and for tables opened from a dropped .zip. */
export class MemoryStorage implements Storage {
  constructor(readonly description = 'memory') {}
  private readonly files = new Map<string, Entry>();

  async read(path: string): Promise<Uint8Array> {
    return this.data(path);
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    return byteRange(this.data(path), offset, length);
  }

  private data(path: string): Uint8Array {
    const entry = this.files.get(path);
    if (!entry) throw new NotFoundError(path, this.description);
    return entry.data;
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, { data: data.slice(), modificationTime: Date.now() });
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    if (this.files.has(path)) return false;
    this.files.set(path, { data: data.slice(), modificationTime: Date.now() });
    return true;
  }

  async list(dir: string): Promise<FileInfo[]> {
    const prefix = dir === '' ? '' : dir.replace(/\/?$/, '/');
    const out: FileInfo[] = [];
    for (const [path, e] of this.files) {
      if (path.startsWith(prefix)) out.push({ path, size: e.data.byteLength, modificationTime: e.modificationTime });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const e = this.files.get(path);
    return e && { path, size: e.data.byteLength, modificationTime: e.modificationTime };
  }

  async delete(path: string): Promise<void> {
    this.files.delete(path);
  }

  async deleteDir(dir: string): Promise<void> {
    const prefix = dir.replace(/\/?$/, '/');
    for (const path of [...this.files.keys()]) if (path.startsWith(prefix)) this.files.delete(path);
  }
}

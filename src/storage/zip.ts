import type { ZipArchive, ZipItem } from '../unzip.ts';
import { NotFoundError, type FileInfo, type Storage } from './types.ts';

/**
 * The files of a .zip as a read-only Storage: only the central directory is in memory, and a file
 * is inflated (and its CRC-32 checked) each time it is read, so a table opened from a .zip costs
 * the memory of the files a view or a query needs, like a folder. Records which paths were read.
 */
export class ZipStorage implements Storage {
  readonly description: string;
  private readonly files = new Map<string, ZipItem>();
  /** every path read, in order of first read */
  readonly readPaths: string[] = [];

  /** `paths`: where each entry is, when not at its own name (an import puts tables at their lakehouse paths). */
  constructor(
    private readonly archive: ZipArchive,
    paths: Iterable<[string, ZipItem]> = archive.entries.map((e) => [e.name, e]),
  ) {
    this.description = `archive ${archive.name}`;
    for (const [path, item] of paths) this.files.set(path, item);
  }

  async read(path: string): Promise<Uint8Array> {
    const item = this.files.get(path);
    if (!item) throw new NotFoundError(path, this.description);
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    return this.archive.read(item);
  }

  /** Stored entries are read in place; deflated ones are inflated whole (deflate cannot start midway). */
  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const item = this.files.get(path);
    if (!item) throw new NotFoundError(path, this.description);
    if (!this.readPaths.includes(path)) this.readPaths.push(path);
    return this.archive.readRange(item, offset, length);
  }

  async list(dir: string): Promise<FileInfo[]> {
    const prefix = dir === '' ? '' : dir.replace(/\/?$/, '/');
    const out: FileInfo[] = [];
    for (const [path, item] of this.files) if (path.startsWith(prefix)) out.push({ path, size: item.size, modificationTime: item.modified });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const item = this.files.get(path);
    return item && { path, size: item.size, modificationTime: item.modified };
  }

  write(): Promise<void> {
    return this.readOnly();
  }
  putIfAbsent(): Promise<boolean> {
    return this.readOnly();
  }
  delete(): Promise<void> {
    return this.readOnly();
  }
  deleteDir(): Promise<void> {
    return this.readOnly();
  }

  private readOnly(): Promise<never> {
    return Promise.reject(new Error(`${this.description} is read-only`));
  }
}

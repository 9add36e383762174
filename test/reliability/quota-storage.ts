import type { FileInfo, Storage } from '../../src/storage/types.ts';

/**
 * A Storage that fills up: once the bytes stored would exceed `budget`, writes fail as a full disk
 * does — in Node an Error with code ENOSPC (leaving the part that fitted in a temporary file, as
 * a real `writeFile` cut short by ENOSPC does), in the browser a DOMException named
 * QuotaExceededError. Raise `budget` to free space.
 */
export class QuotaStorage implements Storage {
  readonly description: string;
  /** every write that was attempted, in order: where each stage's bytes go */
  readonly writes: { path: string; bytes: number; usedAfter: number }[] = [];
  failures = 0;

  private constructor(
    private readonly inner: Storage,
    public budget: number,
    private readonly flavour: 'node' | 'browser',
    public used: number,
  ) {
    this.description = inner.description;
  }

  static async over(inner: Storage, budget: number, flavour: 'node' | 'browser' = 'node'): Promise<QuotaStorage> {
    const used = (await inner.list('')).reduce((s, f) => s + f.size, 0);
    return new QuotaStorage(inner, budget, flavour, used);
  }

  private async room(path: string, data: Uint8Array, replaces: number): Promise<void> {
    const after = this.used - replaces + data.byteLength;
    if (after <= this.budget) return;
    this.failures++;
    if (this.flavour === 'browser') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const fits = Math.max(0, this.budget - this.used);
    if (fits > 0) {
      await this.inner.write(`${path}.${crypto.randomUUID()}.tmp`, data.subarray(0, fits));
      this.used += fits;
    }
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const old = (await this.inner.stat(path))?.size ?? 0;
    await this.room(path, data, old);
    await this.inner.write(path, data);
    this.used += data.byteLength - old;
    this.writes.push({ path, bytes: data.byteLength, usedAfter: this.used });
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    await this.room(path, data, 0);
    const created = await this.inner.putIfAbsent(path, data);
    if (created) {
      this.used += data.byteLength;
      this.writes.push({ path, bytes: data.byteLength, usedAfter: this.used });
    }
    return created;
  }

  readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.readRange(path, offset, length);
  }

  read(path: string): Promise<Uint8Array> {
    return this.inner.read(path);
  }

  list(dir: string): Promise<FileInfo[]> {
    return this.inner.list(dir);
  }

  stat(path: string): Promise<FileInfo | undefined> {
    return this.inner.stat(path);
  }

  async delete(path: string): Promise<void> {
    this.used -= (await this.inner.stat(path))?.size ?? 0;
    await this.inner.delete(path);
  }

  async deleteDir(dir: string): Promise<void> {
    this.used -= (await this.inner.list(dir)).reduce((s, f) => s + f.size, 0);
    await this.inner.deleteDir(dir);
  }
}

import { CodedError } from '../errors.ts';

/**
 * Where Delta tables live. Paths are relative to the storage root and use '/' as separator
 * (e.g. "silver/events/_delta_log/00000000000000000000.json"). Implementations: memory (tests),
 * the Node filesystem (CLI) and OPFS (the browser worker).
 */
export interface Storage {
  /** The bytes of a file; throws NotFoundError when it does not exist. */
  read(path: string): Promise<Uint8Array>;
  /**
   * `length` bytes of a file from byte `offset` (fewer at its end, none from past it); throws
   * NotFoundError when it does not exist. A Parquet reader takes a footer and the row groups it
   * needs this way, not a whole file.
   */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Create or replace a file. Data files are never replaced (their names are unique). */
  write(path: string, data: Uint8Array): Promise<void>;
  /**
   * Create a file only if it does not exist yet, atomically: readers never see it half-written,
   * and of two callers racing for one path exactly one gets `true`.
   */
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean>;
  /** The files below a folder (recursively), paths relative to the storage root; [] if none. */
  list(dir: string): Promise<FileInfo[]>;
  /**
   * The temporary files below a folder that `list` leaves out because a write may be in flight
   * (`.<uuid>.tmp` and the like); a write cut short leaves them for good, and VACUUM removes old ones.
   */
  listTemporary?(dir: string): Promise<FileInfo[]>;
  /** Size and time of one file, or undefined when it does not exist. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** Remove a file; removing a missing file is not an error. */
  delete(path: string): Promise<void>;
  /** Remove a folder and everything below it. */
  deleteDir(dir: string): Promise<void>;
  /** A short human-readable description of where the files are, for messages. */
  readonly description: string;
  /**
   * The root's absolute address (`file:///…`), when it has one: a table's log may name its files
   * by absolute paths, which are followed only when they lie below it.
   */
  readonly location?: string;
  /** How messages name a folder of this storage, when `description/folder` would not say it best. */
  describe?(dir: string): string;
}

export interface FileInfo {
  path: string;
  size: number;
  /** milliseconds since the epoch */
  modificationTime: number;
}

export class NotFoundError extends CodedError {
  static readonly code = 'NOT_FOUND';
  override name = 'NotFoundError';
  readonly path: string;
  constructor(path: string, where: string) {
    super(`no file ${path} in ${where}`);
    this.path = path;
  }
}

/** The bytes of `data` that `readRange(…, offset, length)` returns: for storages that hold a file whole. */
export function byteRange(data: Uint8Array, offset: number, length: number): Uint8Array {
  checkRange(offset, length);
  return data.subarray(Math.min(offset, data.byteLength), Math.min(offset + length, data.byteLength));
}

/** A range of bytes must start at a whole number ≥ 0 and have a whole length ≥ 0. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`storage: a range of bytes needs a whole offset and length ≥ 0, got offset ${offset} and length ${length}`);
}

export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .join('/')
    .replace(/\/+/g, '/')
    .replace(/^\.\//, '');
}

export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || (err instanceof Error && err.name === 'NotFoundError');
}

import { CodedError } from '../errors.ts';
import { checkRange, NotFoundError, type FileInfo, type Storage } from './types.ts';

/**
 * The few requests an object store answers, by full object key. S3 and Azure Blob Storage each
 * implement it (s3.ts, azure.ts); ObjectStorage turns it into a Storage below a prefix.
 */
export interface ObjectClient {
  /** `s3://bucket/prefix`, `az://container/prefix`: where messages say the files are */
  readonly description: string;
  /**
   * the bytes, or undefined when there is no such object; with `range`, only those (an HTTP Range
   * request: fewer at the object's end, none from past it)
   */
  get(key: string, range?: ByteRange): Promise<Uint8Array | undefined>;
  /**
   * Store an object whole. With `ifAbsent`, a conditional put (`If-None-Match: *`): `false` when
   * the object exists already. A store that answers neither success nor "exists" throws.
   */
  put(key: string, data: Uint8Array, ifAbsent: boolean): Promise<boolean>;
  head(key: string): Promise<{ size: number; modificationTime: number } | undefined>;
  /** missing objects are not an error */
  delete(key: string): Promise<void>;
  /** every object whose key starts with `prefix`, in any order */
  list(prefix: string): Promise<{ key: string; size: number; modificationTime: number }[]>;
  /** how many requests it has sent (for the figures in docs/performance.md) */
  requests: number;
}

/** `length` bytes from byte `offset`; `length` ≥ 1. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** The `Range` header of a ByteRange. */
export const rangeHeader = (range: ByteRange): string => `bytes=${range.offset}-${range.offset + range.length - 1}`;

/**
 * The body of a GET with a Range header: 206 is the range; 200 is the whole object (a store may
 * ignore Range), cut here; 416 means the range starts at or past the end.
 */
export async function rangeBody(res: Response, range: ByteRange | undefined): Promise<Uint8Array> {
  if (res.status === 416) return drained(res, new Uint8Array(0));
  const body = new Uint8Array(await res.arrayBuffer());
  if (!range || res.status === 206) return body;
  return body.subarray(Math.min(range.offset, body.byteLength), Math.min(range.offset + range.length, body.byteLength));
}

/** A request to an object store that failed: the status, the store's error code, the object. */
export class ObjectStoreError extends CodedError {
  static readonly code = 'OBJECT_STORE';
  override name = 'ObjectStoreError';
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A store that does not honour conditional puts: two writers could overwrite each other's commits. */
export class UnsafeStoreError extends CodedError {
  static readonly code = 'UNSAFE_STORE';
  override name = 'UnsafeStoreError';
}

/**
 * A request that got no response at all: fetch threw (a TypeError) instead of answering with a
 * status. Offline, a wrong host or port — and, from a web page, a store whose CORS rules do not
 * let this page's origin in: the browser then hides the answer and says only "Failed to fetch".
 */
export class StoreUnreachableError extends CodedError {
  static readonly code = 'STORE_UNREACHABLE';
  override name = 'StoreUnreachableError';
  constructor(
    /** the store's origin, e.g. http://127.0.0.1:9000 */
    readonly origin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * `fetch(request)`, with a failure to get any response turned into StoreUnreachableError naming
 * the method and the address without its query (a SAS token lives there, and never goes into a message).
 */
export async function send(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const url = new URL(request.url);
    throw new StoreUnreachableError(url.origin, `storage: ${request.method} ${url.origin}${url.pathname} got no response (${err.message})`, { cause: err });
  }
}

export class StorageConfigError extends CodedError {
  static readonly code = 'STORAGE_CONFIG';
  override name = 'StorageConfigError';
}

/** A 404 for a missing object is an answer; one for a missing bucket is an error that names it. */
export async function missingObject(res: Response, where: string): Promise<undefined> {
  const body = await res.text();
  if (/NoSuchBucket|ContainerNotFound/.test(body))
    throw new StorageConfigError(`storage: ${where.split('/').slice(0, 3).join('/')} does not exist (create the bucket or container first)`);
  return undefined;
}

export async function drained<T>(res: Response, value: T): Promise<T> {
  await res.body?.cancel();
  return value;
}

const PROBE = '_conditional_put_probe';

/**
 * Files below `prefix` of an object store. An object appears whole when its put returns, so
 * `write` is one put and `putIfAbsent` one conditional put; before the first, the store is
 * probed once (a key put twice with If-None-Match: * must be refused the second time), and a
 * store that ignores the header is refused rather than trusted with commits.
 */
export class ObjectStorage implements Storage {
  readonly description: string;
  readonly location: string;
  private probed?: Promise<void>;

  constructor(
    readonly client: ObjectClient,
    private readonly prefix: string,
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.description = client.description;
    this.location = client.description;
  }

  private key(path: string): string {
    if (path.split('/').some((s) => s === '..')) throw new Error(`storage: ${JSON.stringify(path)} lies outside ${this.description}, so it is not opened`);
    const clean = path.replace(/^\/+/, '');
    return this.prefix ? `${this.prefix}/${clean}` : clean;
  }

  private folder(dir: string): string {
    const key = this.key(dir).replace(/\/+$/, '');
    return key === '' ? '' : `${key}/`;
  }

  private relative(key: string): string {
    return this.prefix ? key.slice(this.prefix.length + 1) : key;
  }

  async read(path: string): Promise<Uint8Array> {
    const data = await retrying(() => this.client.get(this.key(path)));
    if (!data) throw new NotFoundError(path, this.description);
    return data;
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    if (length === 0) {
      if (!(await this.stat(path))) throw new NotFoundError(path, this.description);
      return new Uint8Array(0);
    }
    const data = await retrying(() => this.client.get(this.key(path), { offset, length }));
    if (!data) throw new NotFoundError(path, this.description);
    return data;
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    await retrying(() => this.client.put(this.key(path), data, false));
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    this.probed ??= this.probe().catch((err: unknown) => {
      this.probed = undefined;
      throw err;
    });
    await this.probed;
    const key = this.key(path);
    let tries = 0;
    return retrying(async () => {
      const first = tries++ === 0;
      if (await this.client.put(key, data, true)) return true;
      if (first) return false;
      // A retry told "exists": the attempt that failed on the way back may have stored our bytes.
      const stored = await this.client.get(key);
      return stored !== undefined && sameBytes(stored, data);
    });
  }

  /** Put one key twice with If-None-Match: *; the second must be refused. */
  private async probe(): Promise<void> {
    const key = this.key(`${PROBE}/${crypto.randomUUID()}`);
    const unsafe = (what: string) =>
      new UnsafeStoreError(
        `storage: ${this.description} ${what}, so two writers could overwrite each other's commits; ` +
          'use a store that supports conditional puts (If-None-Match: *), as S3, Azure Blob Storage, MinIO and the emulators in scripts/storage-servers.mjs do',
      );
    try {
      const first = await this.client.put(key, new TextEncoder().encode('1'), true).catch((err: unknown) => {
        throw err instanceof ObjectStoreError && err.status >= 400 && err.status < 500 && err.status !== 403 && err.status !== 404
          ? unsafe(`refused a put with If-None-Match: * (${err.message})`)
          : err;
      });
      if (!first) throw unsafe('claimed a fresh probe key exists');
      const second = await this.client.put(key, new TextEncoder().encode('2'), true).catch((err: unknown) => {
        throw err instanceof ObjectStoreError && err.status === 501 ? unsafe(`does not implement If-None-Match: * (${err.message})`) : err;
      });
      if (second) throw unsafe('replaced an object although the put said If-None-Match: *');
    } finally {
      await this.client.delete(key).catch(() => undefined);
    }
  }

  async list(dir: string): Promise<FileInfo[]> {
    const objects = await retrying(() => this.client.list(this.folder(dir)));
    return objects
      .map((o) => ({ path: this.relative(o.key), size: o.size, modificationTime: o.modificationTime }))
      .filter((f) => !f.path.startsWith(`${PROBE}/`))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const info = await retrying(() => this.client.head(this.key(path)));
    return info && { path, ...info };
  }

  async delete(path: string): Promise<void> {
    await retrying(() => this.client.delete(this.key(path)));
  }

  async deleteDir(dir: string): Promise<void> {
    const objects = await retrying(() => this.client.list(this.folder(dir)));
    await parallel(objects, 8, (o) => retrying(() => this.client.delete(o.key)));
  }
}

/**
 * `task`, tried again (up to 4 times, backing off) when the store answered 5xx or 429 or the
 * connection failed: object stores ask clients to retry those.
 */
export async function retrying<T>(task: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await task();
    } catch (err) {
      const transient =
        err instanceof ObjectStoreError ? err.status >= 500 || err.status === 429 : err instanceof StoreUnreachableError || err instanceof TypeError;
      if (i >= attempts || !transient) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** i * (0.5 + Math.random())));
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** `task` on every item, at most `limit` at a time. */
export async function parallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A key as a URL path: each segment percent-encoded the way SigV4 and Azure expect (RFC 3986). */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** The text of each `<tag>…</tag>` in an XML document (flat: no nesting of the same tag). */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/** The decoded text of the first `<tag>` in `xml`, or undefined. */
export function xmlText(xml: string, tag: string): string | undefined {
  const found = xmlElements(xml, tag)[0];
  return found === undefined ? undefined : decodeXml(found);
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-f]+|#\d+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** A failed response as an ObjectStoreError naming the operation, the object and the store's own code and message. */
export async function failure(res: Response, what: string): Promise<ObjectStoreError> {
  const body = await res.text().catch(() => '');
  const code = xmlText(body, 'Code') ?? res.headers.get('x-ms-error-code') ?? '';
  const message = xmlText(body, 'Message')?.split('\n')[0] ?? '';
  const detail = [code, message].filter(Boolean).join(': ');
  return new ObjectStoreError(`storage: ${what} failed with HTTP ${res.status}${detail ? ` (${detail})` : ''}`, res.status);
}

/**
 * Paths named by a table's log are input from whoever wrote the table. Each one is resolved here
 * to a path relative to the table's root — percent-decoded as the protocol says, normalised — or
 * refused, before any file is opened: nothing outside the table the user named is ever read,
 * written or deleted because its log said so.
 */
import { DeltaError } from './errors.ts';

export class UnsafePathError extends DeltaError {
  static override readonly code = 'UNSAFE_PATH';
  override name = 'UnsafePathError';
  constructor(
    reason: string,
    readonly path: string,
    /** why the path is refused, e.g. `its ".." leads out of the table's folder` */
    readonly refusal: string,
  ) {
    super(reason);
  }
}

/** Why a path is refused; `resolveTablePath` puts it in a sentence. */
class Refusal extends Error {}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const DRIVE = /^[a-z]:([\\/]|$)/i;

/**
 * `raw` (a path from the log) as a '/'-separated path relative to the table root.
 * `location` is the table root's own absolute address (`file:///…`), when the storage has one:
 * an absolute path or URI is followed only when it lies below it.
 */
export function relativeTablePath(raw: string, location?: string): string {
  if (typeof raw !== 'string' || raw === '') throw new Refusal('it is empty');
  let path = raw;
  if (DRIVE.test(path)) throw new Refusal('it is an absolute Windows path');
  if (SCHEME.test(path) || path.startsWith('/')) path = insideLocation(path, location);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new Refusal('it is not a valid percent-encoded path');
  }
  if (decoded.includes('\0')) throw new Refusal('it contains a NUL character');
  if (decoded.includes('\\')) throw new Refusal('it contains a backslash, which Windows reads as a folder separator');
  if (decoded.startsWith('/')) throw new Refusal('it is an absolute path');
  if (DRIVE.test(decoded)) throw new Refusal('it is an absolute Windows path');
  const parts: string[] = [];
  for (const part of decoded.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new Refusal('its ".." leads out of the table\'s folder');
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) throw new Refusal("it names the table's folder itself, not a file in it");
  return parts.join('/');
}

/** The part of an absolute path or URI below `location`, percent-encoded as a relative log path. */
function insideLocation(path: string, location: string | undefined): string {
  const scheme = SCHEME.exec(path)?.[0].slice(0, -1).toLowerCase();
  if (scheme !== undefined && scheme !== 'file') {
    const base = location?.replace(/\/$/, '');
    if (base && path.startsWith(`${base}/`)) return path.slice(base.length + 1);
    throw new Refusal(`it is a ${scheme}: URI, and only files inside the table's folder are read`);
  }
  if (!location?.startsWith('file:')) throw new Refusal("it is an absolute path, and only files inside the table's folder are read");
  // file:/a, file:///a, file://localhost/a and /a all name /a; another host is another machine.
  let rest = scheme === 'file' ? path.slice('file:'.length) : path;
  if (scheme === 'file' && rest.startsWith('//')) {
    const host = rest.slice(2).split('/')[0]!;
    if (host !== '' && host.toLowerCase() !== 'localhost') throw new Refusal(`it is a file: URI on another machine (${host})`);
    rest = rest.slice(2 + host.length);
  }
  const target = safeDecode(rest);
  const root = safeDecode(new URL(location).pathname).replace(/\/$/, '');
  if (!target.startsWith(`${root}/`)) throw new Refusal(`it is an absolute path outside the table's folder ${root}`);
  return target
    .slice(root.length + 1)
    .split('/')
    .map(encodeURIComponent)
    .join('/');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Refusal('it is not a valid percent-encoded path');
  }
}

/** `relativeTablePath` for a path of a log already checked (see `checkActionPaths`); a refusal is still a sentence. */
export function dataFilePath(raw: string, location?: string): string {
  try {
    return relativeTablePath(raw, location);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    throw new UnsafePathError(`the log names the file ${JSON.stringify(String(raw))}, which is refused because ${err.message}`, String(raw), err.message);
  }
}

export interface PathContext {
  /** the table, as messages name it */
  table: string;
  /** the log version (or checkpoint) that names the path */
  version: number;
  /** what the path is: "data file", "deletion vector file", "checkpoint sidecar"… */
  what: string;
  /** the table root's absolute address, when the storage has one */
  location?: string;
}

/** `relativeTablePath`, with a refusal that names the table, the version, the path and why. */
export function resolveTablePath(raw: string, ctx: PathContext): string {
  try {
    return relativeTablePath(raw, ctx.location);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    throw new UnsafePathError(
      `${ctx.table} cannot be read: version ${ctx.version} of its log names the ${ctx.what} ${JSON.stringify(String(raw))}, ` +
        `which is refused because ${err.message}`,
      String(raw),
      err.message,
    );
  }
}

const NAMED_FILES: [action: string, what: string][] = [
  ['add', 'data file'],
  ['remove', 'removed file'],
  ['cdc', 'change data file'],
];

/** Check every path a commit or checkpoint names (add, remove, cdc) before anything is opened. */
export function checkActionPaths(actions: readonly object[], ctx: Omit<PathContext, 'what'>): void {
  for (const a of actions) {
    for (const [key, what] of NAMED_FILES) {
      const named = (a as Record<string, { path?: unknown } | null | undefined>)[key];
      if (named && typeof named === 'object') resolveTablePath(named.path as string, { ...ctx, what });
    }
  }
}

/** The absolute address of a table, when its storage has one (files on disk do: `file:///…`). */
export function tableLocation(storage: { location?: string }, table: string): string | undefined {
  if (!storage.location) return undefined;
  const base = storage.location.replace(/\/$/, '');
  return table === '' ? base : `${base}/${table.split('/').map(encodeURIComponent).join('/')}`;
}

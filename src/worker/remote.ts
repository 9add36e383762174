import { connectionOrigin, connectionStorage, type Connection } from '../storage/connection.ts';
import { StoreUnreachableError, type ObjectStorage } from '../storage/object.ts';
import { StoreTableStorage, tableRoots, type TableSource } from './opened.ts';
import type { StoreListing } from './protocol.ts';

/**
 * The bucket or container the page is connected to (one at a time). Its credentials live here,
 * in the worker's memory, and nowhere else the worker keeps: they leave only in the signed
 * requests to the endpoint the user gave. The page keeps them only when the user asks
 * (localStorage, with a button that forgets them).
 */

/** What a bucket must allow for this page to work with it (the page shows the same in its CORS help). */
export const CORS_RULE = {
  methods: ['GET', 'HEAD', 'PUT', 'DELETE'],
  headers: ['authorization', 'x-amz-*', 'x-ms-*', 'if-none-match', 'content-type', 'range'],
  exposed: ['ETag'],
};

const COMMIT = /^(\d{20})\.json$/;

export class RemoteStore {
  private connected?: { storage: ObjectStorage; origin: string };

  /** Connect (dropping any earlier connection) and list the store's tables; a store that cannot be listed is not kept. */
  async connect(connection: Connection): Promise<StoreListing> {
    this.connected = undefined;
    const storage = connectionStorage(connection);
    const next = { storage, origin: connectionOrigin(connection) };
    const listing = await this.list(next);
    this.connected = next;
    return listing;
  }

  disconnect(): void {
    this.connected = undefined;
  }

  /** The Delta tables below the prefix (folders holding `_delta_log/`), from one listing: versions from the commit names, nothing read. */
  async tables(): Promise<StoreListing> {
    return this.list(this.current());
  }

  /** A table of the store as an opened table's source (read-only, reads recorded). */
  source(root: string): TableSource {
    const { storage } = this.current();
    return { name: root || storage.description.split('/').pop() || 'table', kind: 'store', storage: new StoreTableStorage(storage), root };
  }

  /** The store itself, for push and pull. */
  storage(): ObjectStorage {
    return this.current().storage;
  }

  /** Requests sent to the store since it was connected. */
  requests(): number {
    return this.connected?.storage.client.requests ?? 0;
  }

  private current(): { storage: ObjectStorage; origin: string } {
    if (!this.connected) throw new Error('no bucket or container is connected: connect to one first');
    return this.connected;
  }

  private async list(c: { storage: ObjectStorage; origin: string }): Promise<StoreListing> {
    const files = await explainUnreachable(c.storage.list(''));
    const roots = tableRoots(files.map((f) => f.path));
    const tables = roots.map((root) => {
      const below = root ? files.filter((f) => f.path.startsWith(`${root}/`)) : files;
      const log = `${root ? `${root}/` : ''}_delta_log/`;
      const version = below.reduce((v, f) => {
        const m = f.path.startsWith(log) ? COMMIT.exec(f.path.slice(log.length)) : null;
        return m ? Math.max(v, Number(m[1])) : v;
      }, -1);
      return { path: root, version, objects: below.length, bytes: below.reduce((n, f) => n + f.size, 0) };
    });
    return { where: c.storage.description, origin: c.origin, tables, requests: c.storage.client.requests };
  }
}

/**
 * A request that got no response at all, from a page, most likely hit the store's CORS rules:
 * the browser hides the answer to a request the store did not allow from this origin. Said so.
 */
export async function explainUnreachable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!(err instanceof StoreUnreachableError)) throw err;
    const page = typeof location === 'undefined' ? 'this page' : location.origin;
    throw new StoreUnreachableError(
      err.origin,
      `${err.message}. The likely cause is CORS: ${err.origin} must allow requests from ${page} ` +
        `(allowed origin ${page}; methods ${CORS_RULE.methods.join(', ')}; headers ${CORS_RULE.headers.join(', ')}; exposed header ${CORS_RULE.exposed.join(', ')}). ` +
        'Otherwise the endpoint is wrong or the store is down.',
      { cause: err },
    );
  }
}

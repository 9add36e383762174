import { expose, transfer } from 'comlink';
import { PACKAGE_VERSION } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import { openBrowserEngine } from '../engine/browser.ts';
import type { Engine } from '../engine/types.ts';
import { initParquet } from '../parquet/browser.ts';
import { checkStorage } from '../storage/contract.ts';
import { OpfsStorage } from '../storage/opfs.ts';
import type { FileInfo } from '../storage/types.ts';

/** Where the lakehouse lives in OPFS, and a separate folder the storage self-test may scribble in. */
const ROOT = 'lakehouse';
const SELFTEST_ROOT = 'lakehouse-selftest';

export interface Versions {
  /** e.g. "v1.4.3" */
  duckdb: string;
  /** the @duckdb/duckdb-wasm package, e.g. "1.32.0" */
  duckdbWasm: string;
  /** where the tables are, e.g. "OPFS lakehouse/" */
  storage: string;
}

interface Runtime {
  engine: Engine;
  storage: OpfsStorage;
  versions: Versions;
}

let runtime: Promise<Runtime> | undefined;

/** Engine, Parquet codec and storage, started once on first use and shared by every call. */
function start(): Promise<Runtime> {
  runtime ??= (async () => {
    const [engine, storage] = await Promise.all([openBrowserEngine(), OpfsStorage.open(ROOT), initParquet()]);
    const [row] = engine.rows<{ version: string }>('select version() as version');
    return {
      engine,
      storage,
      versions: { duckdb: row?.version ?? 'unknown', duckdbWasm: PACKAGE_VERSION, storage: storage.description },
    };
  })();
  // A failed start is not kept: the next call tries again.
  runtime.catch(() => (runtime = undefined));
  return runtime;
}

const api = {
  /** Answers as soon as the worker runs; starts nothing. */
  async ping(): Promise<{ duckdbWasm: string }> {
    return { duckdbWasm: PACKAGE_VERSION };
  },

  /** Start everything (once); the versions of what runs. */
  init: withContext('starting the engine', async (): Promise<Versions> => (await start()).versions),

  /** Run the storage contract on real OPFS, in a folder apart from the lakehouse; [] = passed. */
  storageSelfTest: withContext('OPFS storage self-test', async (): Promise<string[]> => {
    return checkStorage(await OpfsStorage.open(SELFTEST_ROOT));
  }),

  /** The files below a folder of the lakehouse ('' = all), sorted by path. */
  listFiles: withContext('listing files', async (dir: string = ''): Promise<FileInfo[]> => {
    return (await start()).storage.list(dir);
  }),

  readFile: withContext('reading a file', async (path: string): Promise<Uint8Array> => {
    const bytes = await (await start()).storage.read(path);
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  }),

  /** Create a file of the lakehouse unless it exists (atomic, across tabs); false if it did. */
  createFile: withContext('creating a file', async (path: string, bytes: Uint8Array): Promise<boolean> => {
    return (await start()).storage.putIfAbsent(path, bytes);
  }),

  /** Create or replace one file of the lakehouse (e.g. to import a table's files). */
  writeFile: withContext('writing a file', async (path: string, bytes: Uint8Array): Promise<void> => {
    await (await start()).storage.write(path, bytes);
  }),
};

export type Api = typeof api;

expose(api);

/**
 * Comlink hands only an error's name, message and stack to the page, so the message has to say
 * everything: what the worker was doing, the causes, and the SQL of a failed query.
 */
function withContext<A extends unknown[], R>(what: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw new Error(`${what}: ${explain(err)}`);
    }
  };
}

function explain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    const sql = (e as { sql?: unknown }).sql;
    if (typeof sql === 'string' && sql !== '') parts.push(`SQL: ${sql.length > 300 ? `${sql.slice(0, 300)}…` : sql}`);
  }
  return parts.join(' — ');
}

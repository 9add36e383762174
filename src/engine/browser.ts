import { BROWSER_RUNTIME, VoidLogger, createDuckDB, selectBundle } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import { CodedError } from '../errors.ts';

export { PACKAGE_VERSION } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import ehWasm from '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url';
import mvpWasm from '@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm?url';
import type { Engine } from './types.ts';
import { engineFromBindings, type BlockingBindings } from './duckdb.ts';

/** DuckDB-WASM's engine file could not be fetched or compiled: the page can still show what it read without the engine. */
export class EngineLoadError extends CodedError {
  static readonly code = 'ENGINE_LOAD_FAILED';
  override name = 'EngineLoadError';
}

let bindingsPromise: Promise<BlockingBindings> | undefined;
let started: BlockingBindings | undefined;

/**
 * The one DuckDB-WASM instance of this (worker) context. The blocking bindings run DuckDB on the
 * calling thread, so call this from a worker, never from the page. Only the selected wasm file
 * (eh, or mvp on browsers without wasm exceptions) is downloaded; neither needs COOP/COEP.
 */
function loadBindings(): Promise<BlockingBindings> {
  bindingsPromise ??= (async () => {
    const bundles = {
      mvp: { mainModule: mvpWasm, mainWorker: '' },
      eh: { mainModule: ehWasm, mainWorker: '' },
    };
    const file = (await selectBundle(bundles)).mainModule;
    try {
      const db = await createDuckDB(bundles, new VoidLogger(), BROWSER_RUNTIME);
      await instantiate(db);
      started = db as BlockingBindings;
      return started;
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new EngineLoadError(
        `engine: DuckDB's engine file ${new URL(file, location.href).pathname.split('/').pop()} did not load (${reason}); the tables and the dashboard still show, but runs, rows and SQL need it: reload the page, and if it keeps failing the file is missing from the site or blocked`,
        { cause: err },
      );
    }
  })();
  // A failed start is not cached: the next caller tries again.
  bindingsPromise.catch(() => (bindingsPromise = undefined));
  return bindingsPromise;
}

/**
 * DuckDB-WASM compiles its module with WebAssembly.instantiateStreaming and never catches that
 * promise: a failed fetch or compile would leave instantiate() waiting forever. Its rejection
 * surfaces here as an unhandled rejection in this worker, and fails the start instead.
 */
async function instantiate(db: { instantiate(progress: () => void): Promise<unknown> }): Promise<void> {
  let onRejection: ((event: PromiseRejectionEvent) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onRejection = (event) => {
      event.preventDefault();
      reject(event.reason);
    };
    self.addEventListener('unhandledrejection', onRejection);
  });
  try {
    await Promise.race([db.instantiate(() => {}), failed]);
  } finally {
    if (onRejection) self.removeEventListener('unhandledrejection', onRejection);
  }
}

/** A new connection on the worker's DuckDB-WASM instance (started on first use). */
export async function openBrowserEngine(): Promise<Engine> {
  return engineFromBindings(await loadBindings());
}

/**
 * Bytes of DuckDB-WASM's linear memory, or null before the engine started. Wasm memory only
 * grows, so this is also the peak since the engine started.
 */
export function duckdbWasmBytes(): number | null {
  const mod = (started as { mod?: { HEAPU8?: Uint8Array } } | undefined)?.mod;
  return mod?.HEAPU8?.buffer.byteLength ?? null;
}

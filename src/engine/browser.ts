import { BROWSER_RUNTIME, VoidLogger, createDuckDB } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import { CodedError } from '../errors.ts';

export { PACKAGE_VERSION } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import type { Engine } from './types.ts';
import { engineFromBindings, startInstance, type BlockingBindings } from './duckdb.ts';
import { compileDuckdb, EngineUnsupportedError, ENGINE_FILE } from './wasm.ts';

/** DuckDB-WASM's engine file could not be fetched or compiled: the page can still show what it read without the engine. */
export class EngineLoadError extends CodedError {
  static readonly code = 'ENGINE_LOAD_FAILED';
  override name = 'EngineLoadError';
}

function loadError(err: unknown): EngineLoadError {
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const file = new URL(ENGINE_FILE, location.href).pathname.split('/').pop();
  return new EngineLoadError(
    `engine: DuckDB's engine file ${file} did not load (${reason}); the tables and the dashboard still show, but runs, rows and SQL need it: reload the page, and if it keeps failing the file is missing from the site or blocked`,
    { cause: err },
  );
}

let bindingsPromise: Promise<BlockingBindings> | undefined;
let started: BlockingBindings | undefined;

/** Emscripten's hook for making the instance itself; DuckDB-WASM's fetches the file again. */
type InstantiateWasm = (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => object;

/**
 * The one DuckDB-WASM instance of this (worker) context. The blocking bindings run DuckDB on the
 * calling thread, so call this from a worker, never from the page. Only the eh build (wasm
 * exceptions, which every supported browser has) is shipped; it needs no COOP/COEP.
 */
function loadBindings(): Promise<BlockingBindings> {
  bindingsPromise ??= (async () => {
    const module = await compileDuckdb().catch((err) => {
      throw err instanceof EngineUnsupportedError ? err : loadError(err);
    });
    const db = await createDuckDB({ eh: { mainModule: '', mainWorker: '' } }, new VoidLogger(), BROWSER_RUNTIME);
    // DuckDB-WASM would fetch the file again and compile it from a stream of its own (for progress
    // events), which the browser's code cache does not know: hand it the module compiled above.
    let failed!: (err: unknown) => void;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    (db as unknown as { instantiateWasm: InstantiateWasm }).instantiateWasm = (imports, done) => {
      // What DuckDB-WASM's own hook does first: its glue finds the runtime (file access) there.
      (globalThis as { DUCKDB_RUNTIME?: unknown }).DUCKDB_RUNTIME = BROWSER_RUNTIME;
      WebAssembly.instantiate(module, imports).then((instance) => done(instance, module), failed);
      return {};
    };
    try {
      await Promise.race([db.instantiate(() => {}), failure]);
    } catch (err) {
      throw loadError(err);
    }
    startInstance(db as BlockingBindings);
    started = db as BlockingBindings;
    return started;
  })();
  // A failed start is not cached: the next caller tries again.
  bindingsPromise.catch(() => (bindingsPromise = undefined));
  return bindingsPromise;
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

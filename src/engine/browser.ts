import { BROWSER_RUNTIME, VoidLogger, createDuckDB } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';

export { PACKAGE_VERSION } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import type { Engine } from './types.ts';
import { engineFromBindings, type BlockingBindings } from './duckdb.ts';
import { compileDuckdb } from './wasm.ts';

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
    const module = await compileDuckdb();
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
    await Promise.race([db.instantiate(() => {}), failure]);
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

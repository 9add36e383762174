import { BROWSER_RUNTIME, VoidLogger, createDuckDB } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';

export { PACKAGE_VERSION } from '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs';
import ehWasm from '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url';
import mvpWasm from '@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm?url';
import type { Engine } from './types.ts';
import { engineFromBindings, type BlockingBindings } from './duckdb.ts';

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
    const db = await createDuckDB(bundles, new VoidLogger(), BROWSER_RUNTIME);
    await db.instantiate(() => {});
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

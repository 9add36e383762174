// The browser build of DuckDB-WASM's synchronous bindings is not in the package's `exports`
// (vite.config.ts aliases the file path); these are the parts of it this project uses.
declare module '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs' {
  import type { DuckDBBindings, DuckDBRuntime, Logger } from '@duckdb/duckdb-wasm/blocking';
  export { VoidLogger, PACKAGE_VERSION } from '@duckdb/duckdb-wasm/blocking';
  export const BROWSER_RUNTIME: DuckDBRuntime;
  /**
   * Picks the eh bundle when the browser has wasm exceptions, else mvp. Only eh is shipped: the
   * caller checks for wasm exceptions first (src/engine/wasm.ts), so mvp is never picked.
   */
  export function createDuckDB(bundles: { eh: { mainModule: string; mainWorker: string } }, logger: Logger, runtime: DuckDBRuntime): Promise<DuckDBBindings>;
}

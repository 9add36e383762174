// The browser build of DuckDB-WASM's synchronous bindings is not in the package's `exports`
// (vite.config.ts aliases the file path); these are the parts of it this project uses.
declare module '@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs' {
  import type { DuckDBBindings, DuckDBBundle, DuckDBBundles, DuckDBRuntime, Logger } from '@duckdb/duckdb-wasm/blocking';
  export { VoidLogger, PACKAGE_VERSION } from '@duckdb/duckdb-wasm/blocking';
  export const BROWSER_RUNTIME: DuckDBRuntime;
  /** Picks the eh bundle when the browser has wasm exceptions, else mvp. */
  export function selectBundle(bundles: DuckDBBundles): Promise<DuckDBBundle>;
  export function createDuckDB(bundles: DuckDBBundles, logger: Logger, runtime: DuckDBRuntime): Promise<DuckDBBindings>;
}

import ehWasm from '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url';
import { CodedError } from '../errors.ts';

/** The browser cannot run the one DuckDB-WASM build the app ships. */
export class EngineUnsupportedError extends CodedError {
  static readonly code = 'ENGINE_UNSUPPORTED';
  override name = 'EngineUnsupportedError';
  constructor() {
    super(
      'engine: this browser has no WebAssembly exception handling, which DuckDB-WASM’s build needs ' +
        '(Chrome and Edge 95 or later, Firefox 100 or later, Safari 15.2 or later have it)',
    );
  }
}

/** A module of one function with a `try` block: valid only where wasm exception handling exists (DuckDB-WASM's own probe). */
const EXCEPTIONS_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 8, 1, 6, 0, 6, 64, 25, 11, 11]);

/** The URL of DuckDB's module, as the build names it. */
export const ENGINE_FILE: string = ehWasm;

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * DuckDB's module (34 MB), compiled once per worker. Compiled straight from the response of a
 * fetch of its URL: the browser then keeps the machine code beside the cached file (V8's code
 * cache for wasm; the service worker's cache or the HTTP cache) and a later visit loads that
 * instead of compiling. Started as early as the worker runs; the compile runs off its thread.
 */
export function compileDuckdb(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    if (!WebAssembly.validate(EXCEPTIONS_PROBE)) throw new EngineUnsupportedError();
    const response = await fetch(ehWasm);
    if (!response.ok) throw new TypeError(`HTTP ${response.status} ${response.statusText}`.trim());
    // compileStreaming refuses a response not served as application/wasm; some static hosts do that.
    const streaming = typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm';
    return streaming ? WebAssembly.compileStreaming(response) : WebAssembly.compile(await response.arrayBuffer());
  })();
  // A failed compile is not kept: the next caller tries again.
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

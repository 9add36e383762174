import { parquetWasmBytes } from '../parquet/browser.ts';

/** What the worker holds in memory, for benchmarks and the devtools console. */
export interface WorkerMetrics {
  /** DuckDB-WASM's linear memory (it only grows, so this is its peak); null before the engine started */
  duckdbWasmBytes: number | null;
  /** parquet-wasm's linear memory (also only grows); null before it was loaded */
  parquetWasmBytes: number | null;
  /** this worker's JS heap, where the browser tells (Chromium's performance.memory); else null */
  jsHeapUsedBytes: number | null;
  jsHeapTotalBytes: number | null;
}

/** `duckdbWasmBytes`: from the engine's module, once it is loaded. */
export function workerMetrics(duckdbWasmBytes: number | null): WorkerMetrics {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  return {
    duckdbWasmBytes,
    parquetWasmBytes: parquetWasmBytes(),
    jsHeapUsedBytes: memory?.usedJSHeapSize ?? null,
    jsHeapTotalBytes: memory?.totalJSHeapSize ?? null,
  };
}

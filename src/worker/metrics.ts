import { parquetWasmBytes } from '../parquet/browser.ts';
import { encoderWasmBytes } from './encoder.ts';
import type { WorkerMetrics } from './protocol.ts';

/** `duckdbWasmBytes`: from the engine's module, once it is loaded. */
export function workerMetrics(duckdbWasmBytes: number | null): WorkerMetrics {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  return {
    duckdbWasmBytes,
    parquetWasmBytes: parquetWasmBytes(),
    encoderWasmBytes: encoderWasmBytes(),
    jsHeapUsedBytes: memory?.usedJSHeapSize ?? null,
    jsHeapTotalBytes: memory?.totalJSHeapSize ?? null,
  };
}

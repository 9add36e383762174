/** One measured run. Seconds are wall-clock; a stage a mode does not have is absent. */
export interface BenchResult {
  mode: 'browser' | 'node-wasm' | 'node-native-engine' | 'spark-local' | 'native-reference';
  events: number;
  seconds: { total: number; load?: number; generate?: number; bronze?: number; silver?: number; gold?: number };
  /** bytes of the Parquet data files written (Delta logs and checkpoints excluded) */
  parquetBytes: number;
  /** DuckDB-WASM + parquet-wasm linear memory at the end (wasm memory only grows: the peak) */
  peakWasmBytes: number | null;
  /** JS heap: the browser's worker (or page) heap, sampled while running */
  peakJsHeapBytes: number | null;
  /** peak resident set size of the process doing the work (the tab's renderer in Chromium) */
  peakRssBytes: number | null;
  /** anything else worth printing */
  notes?: string[];
  extra?: Record<string, unknown>;
}

export const eventsPerSecond = (r: BenchResult): number => r.events / r.seconds.total;

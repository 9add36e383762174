import init, * as parquetWasm from 'parquet-wasm/esm';
import wasmUrl from 'parquet-wasm/esm/parquet_wasm_bg.wasm?url';
import { setParquetModule } from './codec.ts';

let ready: Promise<void> | undefined;

/** Fetch and instantiate parquet-wasm once, then hand it to the codec. */
export function initParquet(): Promise<void> {
  ready ??= (async () => {
    await init({ module_or_path: wasmUrl });
    setParquetModule(parquetWasm);
  })();
  ready.catch(() => (ready = undefined));
  return ready;
}

/** Bytes of parquet-wasm's linear memory (it only grows: also the peak), or null before init. */
export function parquetWasmBytes(): number | null {
  try {
    return parquetWasm.wasmMemory().buffer.byteLength;
  } catch {
    return null;
  }
}

import init, * as parquetWasm from 'parquet-wasm/esm';
import wasmUrl from 'parquet-wasm/esm/parquet_wasm_bg.wasm?url';
import { setParquetModule } from './codec.ts';

let compiled: Promise<WebAssembly.Module> | undefined;
let ready: Promise<void> | undefined;

/**
 * parquet-wasm's compiled module, fetched and compiled once. Another worker instantiates the same
 * module (it can be posted to it): V8 then shares its compiled code, including what it has
 * optimised since, so that worker does not start on baseline code.
 */
export function parquetWasmModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compileStreaming(fetch(wasmUrl)).catch(async (err: unknown) => {
    // A host that serves .wasm without its MIME type: compiled from the bytes instead.
    if (!(err instanceof TypeError)) throw err;
    return WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer());
  });
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/** Instantiate parquet-wasm once (from `module` when given, else this worker's), then hand it to the codec. */
export function initParquet(module?: WebAssembly.Module): Promise<void> {
  ready ??= (async () => {
    await init({ module_or_path: module ?? (await parquetWasmModule()) });
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

import { parquetWasmModule } from '../parquet/browser.ts';
import { encoderClient, type EncodeReply, type ParquetEncoder } from '../pipeline/encoder.ts';

/** set by `useEncoder` (tests, benchmarks); else from the cores */
let chosen: boolean | undefined;
/** the largest wasm memory a run's encoder worker reported, in bytes (for the page's metrics) */
let peakWasmBytes: number | null = null;

/**
 * A run's Parquet encoder (pipeline/encoder.ts): a worker of its own, started with this worker's
 * compiled parquet-wasm, ended with the run. With one core there is nothing to run beside: none.
 */
export async function browserEncoder(): Promise<ParquetEncoder | undefined> {
  if (!(chosen ?? (navigator.hardwareConcurrency || 1) >= 2)) return undefined;
  const module = await parquetWasmModule();
  const worker = new Worker(new URL('./encode-worker.ts', import.meta.url), { type: 'module', name: 'lakehouse-encode' });
  const { encoder, receive, fail } = encoderClient(
    (request, transfer) => worker.postMessage(request, { transfer }),
    () => worker.terminate(),
    (bytes) => (peakWasmBytes = Math.max(peakWasmBytes ?? 0, bytes)),
  );
  worker.onmessage = (event: MessageEvent<EncodeReply>) => receive(event.data);
  worker.onerror = (event) => fail(new Error(`the Parquet encoder worker stopped: ${event.message || 'its script did not load'}`));
  worker.postMessage({ module });
  return encoder;
}

/** Encode silver/events on an encoder worker (true), here (false), or as the cores say (undefined). */
export function useEncoder(on: boolean | undefined): void {
  chosen = on;
}

/** Peak wasm memory of the encoder workers so far, or null when none ran. */
export function encoderWasmBytes(): number | null {
  return peakWasmBytes;
}

import { encodeParquet } from '../parquet/codec.ts';
import { initParquet, parquetWasmBytes } from '../parquet/browser.ts';
import { encodeReply, type EncodeRequest } from '../pipeline/encoder.ts';

/** A run's Parquet encoder worker (see encoder.ts): first parquet-wasm's compiled module, then requests. */
let ready: Promise<void> | undefined;
self.onmessage = (event: MessageEvent<{ module: WebAssembly.Module } | EncodeRequest>) => {
  const data = event.data;
  if ('module' in data) {
    ready = initParquet(data.module);
    return;
  }
  void (ready ?? initParquet())
    .then(() => encodeReply(data, encodeParquet, parquetWasmBytes))
    .catch((err: unknown) => ({ reply: { id: data.id, error: err instanceof Error ? err.message : String(err) }, transfer: [] }))
    .then(({ reply, transfer }) => self.postMessage(reply, { transfer }));
};

import { IpcScratch } from '../../parquet/ipc.ts';

/**
 * Silver's Arrow IPC buffer, reused batch after batch. Each stream written into it is consumed
 * (copied into DuckDB or parquet-wasm) before the next one is written; batches finish one at a time.
 */
export const ipcScratch = new IpcScratch();

/** Let silver's reused buffers go (a run over). */
export function releaseSilverBuffers(): void {
  ipcScratch.release();
}

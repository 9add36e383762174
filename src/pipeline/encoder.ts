import { tableFromIPC } from 'apache-arrow';
import { computeStats, type FileStats } from '../delta/stats.ts';
import type { EncodedFile } from '../delta/writer.ts';

/**
 * Parquet encoding on another thread (a Web Worker in the page, a worker_thread under Node). After
 * a run's last line the pipeline's thread still has silver/events' Parquet, its statistics, the
 * engine's copy and gold to do, one after the other, with the other core idle; the encoding is the
 * largest part that needs neither DuckDB nor the Delta log, so it runs there while this thread
 * appends the same rows to the engine. Bronze's files go there too, as they fill, so this thread's
 * parquet-wasm never grows to a file's size (docs/performance.md).
 */
export interface ParquetEncoder {
  /**
   * `ipc` (an Arrow IPC stream, copied: the caller keeps it) as Parquet, and with `stats` its Delta
   * statistics too (every column's: the writer keeps those it wants); requests are encoded in order
   */
  encode(ipc: Uint8Array, stats?: boolean): Promise<EncodedFile>;
  /** End the thread; requests still out fail. */
  close(): void;
}

export type EncodeRequest = { id: number; ipc: Uint8Array; stats?: boolean };
export type EncodeReply = { id: number; parquet: Uint8Array; stats?: FileStats; wasmBytes: number | null } | { id: number; error: string };

/**
 * The pipeline's side of an encoder thread: `post` sends a request, `stop` ends the thread. The
 * returned `receive` is to be called with each reply of the thread, `fail` when it died;
 * `onWasmBytes` hears the size of the thread's wasm memory after each file (it only grows).
 */
export function encoderClient(
  post: (request: EncodeRequest, transfer: ArrayBuffer[]) => void,
  stop: () => void,
  onWasmBytes: (bytes: number) => void = () => {},
): { encoder: ParquetEncoder; receive: (reply: EncodeReply) => void; fail: (err: Error) => void } {
  const waiting = new Map<number, { resolve: (file: EncodedFile) => void; reject: (err: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  const receive = (reply: EncodeReply): void => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ('error' in reply) w.reject(new Error(`encoding Parquet on another thread failed: ${reply.error}`));
    else {
      if (reply.wasmBytes !== null) onWasmBytes(reply.wasmBytes);
      w.resolve(reply.stats ? { parquet: reply.parquet, stats: reply.stats } : { parquet: reply.parquet });
    }
  };
  const encoder: ParquetEncoder = {
    encode(ipc, stats) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      const done = new Promise<EncodedFile>((resolve, reject) => waiting.set(id, { resolve, reject }));
      // A compact copy, transferred: posting a view would clone the whole buffer under it.
      const copy = ipc.slice();
      post(stats ? { id, ipc: copy, stats } : { id, ipc: copy }, [copy.buffer as ArrayBuffer]);
      return done;
    },
    close() {
      fail(new Error('the Parquet encoder thread was closed'));
      stop();
    },
  };
  return { encoder, receive, fail };
}

/** The thread's side: a request's reply, with the buffer to transfer. */
export function encodeReply(
  request: EncodeRequest,
  encode: (ipc: Uint8Array) => Uint8Array,
  wasmBytes: () => number | null,
): { reply: EncodeReply; transfer: ArrayBuffer[] } {
  try {
    const parquet = encode(request.ipc);
    const stats = request.stats ? computeStats(tableFromIPC(request.ipc)) : undefined;
    return { reply: { id: request.id, parquet, ...(stats ? { stats } : {}), wasmBytes: wasmBytes() }, transfer: [parquet.buffer as ArrayBuffer] };
  } catch (err) {
    return { reply: { id: request.id, error: err instanceof Error ? err.message : String(err) }, transfer: [] };
  }
}

import type { Engine } from '../engine/types.ts';
import { IpcScratch } from '../parquet/ipc.ts';

/**
 * The pipeline's Arrow IPC buffer, reused batch after batch, one per engine. Each stream written
 * into it is consumed (copied into DuckDB, parquet-wasm or for the encoder thread) before that
 * engine's next one is written. Runs on two engines of one thread (two writers racing in the Learn
 * tab's sandbox) interleave at every await: a buffer shared between them would hand one run's rows
 * to the other.
 */
const scratches = new WeakMap<Engine, IpcScratch>();

export function scratchOf(engine: Engine): IpcScratch {
  let s = scratches.get(engine);
  if (!s) {
    s = new IpcScratch();
    scratches.set(engine, s);
  }
  return s;
}

/** Let silver's reused buffers of `engine` go (a run over). */
export function releaseSilverBuffers(engine: Engine): void {
  scratches.get(engine)?.release();
}

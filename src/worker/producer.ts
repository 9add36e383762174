import { producedChunks, type CheckedSource, type ProduceReply } from '../pipeline/checked-chunks.ts';
import type { GenerateOptions } from '../pipeline/generator/index.ts';

/** set by `useProducer` (tests, benchmarks); else from the cores */
let chosen: boolean | undefined;

/**
 * A generated run's lines made and checked on a worker of their own (produce-worker.ts), one per
 * run, while this worker writes bronze and finishes silver: the generator and the line checks are
 * about half of a run's work, and their results cross as transferred buffers, not strings. With
 * one core there is nothing to run beside, so none (undefined: the run generates and checks here).
 */
export function browserProducer(options: GenerateOptions): CheckedSource | undefined {
  if (!(chosen ?? (navigator.hardwareConcurrency || 1) >= 2)) return undefined;
  return (need) => {
    const worker = new Worker(new URL('./produce-worker.ts', import.meta.url), { type: 'module', name: 'lakehouse-produce' });
    const { chunks, receive, fail } = producedChunks(
      need,
      (message) => worker.postMessage({ options, message }),
      () => worker.terminate(),
    );
    worker.onmessage = (event: MessageEvent<ProduceReply>) => receive(event.data);
    worker.onerror = (event) => fail(new Error(`generating events failed: the producer worker stopped: ${event.message || 'its script did not load'}`));
    return chunks;
  };
}

/** Make and check a generated run's lines on a producer worker (true), here (false), or as the cores say (undefined). */
export function useProducer(on: boolean | undefined): void {
  chosen = on;
}

import { tsWorker } from '../engine/ts-worker.ts';
import { producedChunks, type CheckedSource, type ProduceReply } from '../pipeline/checked-chunks.ts';
import type { GenerateOptions } from '../pipeline/generator/index.ts';
import { idleCheckerThreads } from './checkers.ts';

/**
 * A generated run's lines made and checked on a thread of their own (produce-worker.ts) while the
 * main thread writes bronze and finishes silver; as the page does (src/worker/producer.ts). Used
 * when a core is idle now (idleCheckerThreads), or as LAKEHOUSE_PRODUCER says (1 always, 0 never).
 */
export function nodeProducer(options: GenerateOptions): CheckedSource | undefined {
  const env = process.env.LAKEHOUSE_PRODUCER;
  if (!(env === '1' || (env !== '0' && idleCheckerThreads() >= 1))) return undefined;
  return (need) => {
    const worker = tsWorker(new URL('./produce-worker.ts', import.meta.url));
    const { chunks, receive, fail } = producedChunks(
      need,
      (message) => worker.postMessage({ options, message }),
      () => void worker.terminate(),
    );
    worker.on('message', (reply: ProduceReply) => receive(reply));
    worker.on('error', (err) => fail(new Error(`generating events failed: the producer thread stopped: ${err.message}`, { cause: err })));
    return chunks;
  };
}

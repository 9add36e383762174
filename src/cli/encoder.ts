import { tsWorker } from '../engine/ts-worker.ts';
import { encoderClient, type EncodeReply, type ParquetEncoder } from '../pipeline/encoder.ts';
import { idleCheckerThreads } from './checkers.ts';

/**
 * A run's Parquet encoder on a thread of its own (encode-worker.ts), as the page has one
 * (src/worker/encoder.ts). Used when a core is idle now (idleCheckerThreads), or as
 * LAKEHOUSE_ENCODER says (1 always, 0 never). The caller closes it when the run ends.
 */
export function nodeEncoder(): ParquetEncoder | undefined {
  const env = process.env.LAKEHOUSE_ENCODER;
  if (!(env === '1' || (env !== '0' && idleCheckerThreads() >= 1))) return undefined;
  const worker = tsWorker(new URL('./encode-worker.ts', import.meta.url));
  // Idle, it keeps no process alive; with files out it must: the run awaits nothing else then, and
  // an unreferenced thread let the process end there, silently, with the run half done.
  let out = 0;
  const { encoder, receive, fail } = encoderClient(
    (request, transfer) => {
      if (out++ === 0) worker.ref();
      worker.postMessage(request, transfer);
    },
    () => void worker.terminate(),
  );
  worker.on('message', (reply: EncodeReply) => {
    if (--out === 0) worker.unref();
    receive(reply);
  });
  worker.on('error', (err) => fail(new Error(`the Parquet encoder thread stopped: ${err.message}`, { cause: err })));
  worker.unref();
  return encoder;
}

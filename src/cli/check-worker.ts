import { parentPort } from 'node:worker_threads';
import { answer, type CheckMessage } from '../pipeline/check-lines.ts';

/** A checker thread of the CLI (see checkers.ts): contract checks of line chunks, off the main thread. */
parentPort!.on('message', (message: CheckMessage) => {
  const { reply, transfer } = answer(message);
  parentPort!.postMessage(reply, transfer);
});

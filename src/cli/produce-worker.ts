import { parentPort } from 'node:worker_threads';
import { producer, type ProduceMessage } from '../pipeline/checked-chunks.ts';
import { generateEvents, type GenerateOptions } from '../pipeline/generator/index.ts';

/** The producer thread of `cli run` (see producer.ts): makes the lines and checks them for silver. */
let handle: ((message: ProduceMessage) => void) | undefined;
parentPort!.on('message', ({ options, message }: { options: GenerateOptions; message: ProduceMessage }) => {
  handle ??= producer(
    () => generateEvents(options),
    (reply, transfer) => parentPort!.postMessage(reply, transfer),
  );
  handle(message);
});

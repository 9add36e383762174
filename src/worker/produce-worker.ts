import { producer, type ProduceMessage } from '../pipeline/checked-chunks.ts';
import { generateEvents, type GenerateOptions } from '../pipeline/generator/index.ts';

/** A generated run's producer worker (see producer.ts): makes the lines and checks them for silver. */
let handle: ((message: ProduceMessage) => void) | undefined;
self.onmessage = (event: MessageEvent<{ options: GenerateOptions; message: ProduceMessage }>) => {
  const { options, message } = event.data;
  handle ??= producer(
    () => generateEvents(options),
    (reply, transfer) => self.postMessage(reply, { transfer }),
  );
  handle(message);
};

import { answer, type CheckMessage } from '../pipeline/check-lines.ts';

/** A checker worker of the page (see checkers.ts): contract checks of line chunks, beside the lakehouse worker. */
self.onmessage = (event: MessageEvent<CheckMessage>) => {
  const { reply, transfer } = answer(event.data);
  self.postMessage(reply, { transfer });
};

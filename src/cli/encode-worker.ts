import { parentPort } from 'node:worker_threads';
import { encodeParquet } from '../parquet/codec.ts';
import { initParquet } from '../parquet/node.ts';
import { encodeReply, type EncodeRequest } from '../pipeline/encoder.ts';

/** The Parquet encoder thread of a CLI run (see encoder.ts). */
initParquet();
parentPort!.on('message', (request: EncodeRequest) => {
  const { reply, transfer } = encodeReply(request, encodeParquet, () => null);
  parentPort!.postMessage(reply, transfer);
});

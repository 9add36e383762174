import { wrap } from 'comlink';
import { carryErrors, type Api, type LakehouseWorker } from './protocol.ts';

/** The page's side of the worker: started from main.ts, handed to the views as a LakehouseWorker. */
export function startWorker(): LakehouseWorker {
  carryErrors();
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lakehouse' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      reject(new Error(`the lakehouse worker failed: ${event.message || 'its script did not load'}`));
    });
    worker.addEventListener('messageerror', () => reject(new Error('the lakehouse worker sent a message that cannot be read')));
  });
  // Nobody may be racing yet; the rejection is still reported to whoever does.
  failed.catch(() => {});
  return { api: wrap<Api>(worker), failed, terminate: () => worker.terminate() };
}

import { wrap, type Remote } from 'comlink';
import type { Api } from './worker.ts';

export type { Api };

export interface LakehouseWorker {
  /** The worker's api; every call returns a promise. Errors arrive as Error with a full message. */
  api: Remote<Api>;
  /**
   * Rejects when the worker itself fails (its script does not load, an uncaught error): calls
   * still waiting on the api would otherwise wait forever. Race it against them.
   */
  failed: Promise<never>;
  terminate(): void;
}

export function startWorker(): LakehouseWorker {
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

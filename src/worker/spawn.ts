/** The lakehouse worker, started; `failed` rejects when its script does not load or a message cannot be read. */
export interface SpawnedWorker {
  worker: Worker;
  failed: Promise<never>;
}

/**
 * Start the lakehouse worker. Imports nothing, so that the page's entry (boot.ts) stays small and
 * shares no module with the app's chunk: it runs this before the app's bundle loads.
 */
export function spawnWorker(): SpawnedWorker {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lakehouse' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      reject(new Error(`the lakehouse worker failed: ${event.message || 'its script did not load'}`));
    });
    worker.addEventListener('messageerror', () => reject(new Error('the lakehouse worker sent a message that cannot be read')));
  });
  // Nobody may be racing yet; the rejection is still reported to whoever does.
  failed.catch(() => {});
  return { worker, failed };
}

import type { LakehouseWorker } from '../worker/client.ts';
import type { EngineStatus } from './status.ts';

/**
 * Start the worker's engine, reporting each step. Returns a function that stops the reports
 * (the worker keeps running): an $effect's cleanup.
 */
export function startEngine(worker: LakehouseWorker, report: (status: EngineStatus) => void): () => void {
  let live = true;
  const say = (status: EngineStatus): void => {
    if (live) report(status);
  };
  void (async () => {
    try {
      say({ state: 'starting', step: 'Starting worker…' });
      await Promise.race([worker.api.ping(), worker.failed]);
      say({ state: 'starting', step: 'Opening the lakehouse…' });
      await Promise.race([worker.api.open(), worker.failed]);
      say({ state: 'starting', step: 'Starting engine…', open: true });
      say({ state: 'ready', versions: await Promise.race([worker.api.init(), worker.failed]) });
    } catch (err) {
      say({ state: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  })();
  return () => {
    live = false;
  };
}

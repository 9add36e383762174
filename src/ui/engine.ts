import type { LakehouseWorker } from '../worker/protocol.ts';
import type { EngineStatus } from './status.ts';

const AFTER_AT_MOST_MS = 3000;

/** A performance mark on the page when the engine first answers. */
export const ENGINE_READY_MARK = 'lakehouse:engine-ready';

/**
 * Start the worker's engine, reporting each step; the engine itself once the lakehouse is open
 * and `after` has settled (or 3 s have passed). Returns a function that stops the reports
 * (the worker keeps running): an $effect's cleanup.
 */
export function startEngine(worker: LakehouseWorker, report: (status: EngineStatus) => void, after: Promise<unknown> = Promise.resolve()): () => void {
  let live = true;
  const say = (status: EngineStatus): void => {
    if (live) report(status);
  };
  void (async () => {
    let open = false;
    try {
      say({ state: 'starting', step: 'Starting worker…' });
      await Promise.race([worker.api.ping(), worker.failed]);
      say({ state: 'starting', step: 'Opening the lakehouse…' });
      await Promise.race([worker.api.open(), worker.failed]);
      open = true;
      say({ state: 'starting', step: 'Starting engine…', open: true });
      await Promise.race([after, new Promise((resolve) => setTimeout(resolve, AFTER_AT_MOST_MS))]);
      const versions = await Promise.race([worker.api.init(), worker.failed]);
      // The engine has answered its first query (`select version()`): the bench reads this mark.
      const mark = performance.mark(ENGINE_READY_MARK);
      say({ state: 'ready', versions, startedMs: Math.round(mark.startTime) });
    } catch (err) {
      say({ state: 'failed', message: err instanceof Error ? err.message : String(err), open });
    }
  })();
  return () => {
    live = false;
  };
}

import { CheckerPool, type CheckReply, type LineCheckers } from '../pipeline/check-lines.ts';

let pool: CheckerPool | undefined;

/**
 * Checker workers started from the lakehouse worker, on first use, shared by every run: JSON
 * parsing and the contract checks of silver then run beside the bronze writes instead of after
 * them. Results come back in order, so a run gives the same tables with or without them.
 *
 * One fewer than the cores, at most three; none (undefined: checks stay on this worker) with two
 * cores or fewer, where a second busy thread only takes turns with this one and with the page
 * (measured: docs/performance.md).
 */
export function browserCheckers(threads = defaultThreads()): LineCheckers | undefined {
  if (threads < 1) return undefined;
  if (pool) return pool;
  const workers: Worker[] = [];
  const p = new CheckerPool(threads, (i, message) => {
    let w = workers[i];
    if (!w) {
      w = new Worker(new URL('./check-worker.ts', import.meta.url), { type: 'module', name: `lakehouse-check-${i}` });
      w.onmessage = (event: MessageEvent<CheckReply>) => p.receive(event.data);
      w.onerror = (event) => {
        workers[i] = undefined as unknown as Worker;
        p.failAll(new Error(`silver: a checker worker failed: ${event.message || 'its script did not load'}`));
      };
      workers[i] = w;
    }
    w.postMessage(message);
  });
  pool = p;
  return p;
}

function defaultThreads(): number {
  const cores = navigator.hardwareConcurrency || 2;
  return cores > 2 ? Math.min(cores - 1, 3) : 0;
}

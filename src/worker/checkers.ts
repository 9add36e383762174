import { CheckerPool, type CheckReply, type LineCheckers } from '../pipeline/check-lines.ts';

let current: { threads: number; pool: CheckerPool; workers: Worker[] } | undefined;
/** set by `useCheckerThreads` (tests, benchmarks); else from the cores */
let chosen: number | undefined;

/**
 * Checker workers started from the lakehouse worker, on first use, shared by every run: JSON
 * parsing and the contract checks of silver then run beside the bronze writes instead of after
 * them. Results come back in order, so a run gives the same tables with or without them.
 *
 * One fewer than the cores, at most three; none (undefined: checks stay on this worker) with two
 * cores or fewer: there a checker worker made a 1,000,000-event run slower even with the machine
 * otherwise idle (28.2 s against 24.6 s; the page, this worker and the checker then take turns on
 * two cores), where one checker thread makes `cli run` faster (docs/performance.md).
 */
export function browserCheckers(): LineCheckers | undefined {
  const threads = chosen ?? defaultThreads();
  if (current?.threads === threads) return current.pool;
  for (const w of current?.workers ?? []) w?.terminate();
  current = undefined;
  if (threads < 1) return undefined;
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
  current = { threads, pool: p, workers };
  return p;
}

/** Use `threads` checker workers from the next run on (0: none); undefined goes back to the default. */
export function useCheckerThreads(threads: number | undefined): void {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0 && threads <= 8))
    throw new Error(`checker threads must be a whole number from 0 to 8, got ${threads}`);
  chosen = threads;
}

function defaultThreads(): number {
  const cores = navigator.hardwareConcurrency || 2;
  return cores > 2 ? Math.min(cores - 1, 3) : 0;
}

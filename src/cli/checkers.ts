import { availableParallelism, loadavg } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../engine/ts-worker.ts';
import { CheckerPool, type CheckReply, type LineCheckers } from '../pipeline/check-lines.ts';

let current: { threads: number; pool: CheckerPool; workers: Worker[] } | undefined;

/**
 * How many checker threads would run on cores that are idle now: the cores, less the load of the
 * last minute, less one for the pipeline's own thread; at most three. On a busy machine, extra
 * threads only take turns on the same cores and cost more than they save (measured: see
 * docs/performance.md).
 */
export function idleCheckerThreads(): number {
  const idle = Math.floor(availableParallelism() - (loadavg()[0] ?? 0)) - 1;
  return Math.max(0, Math.min(idle, 3));
}

/**
 * The process's checker threads (one fewer than the cores, at least one, at most three), started
 * on first use and shared by every run. Idle threads do not keep the process alive.
 */
export function nodeCheckers(threads = Math.max(1, Math.min(availableParallelism() - 1, 3))): LineCheckers {
  if (current?.threads === threads) return current.pool;
  for (const w of current?.workers ?? []) void w?.terminate();
  const workers: Worker[] = [];
  const p = new CheckerPool(threads, (i, message) => {
    workers[i] ??= start(i);
    const w = workers[i];
    w.ref();
    w.postMessage(message);
  });
  const start = (i: number): Worker => {
    const w = tsWorker(new URL('./check-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (reply: CheckReply) => {
      p.receive(reply);
      if (p.busy === 0) for (const x of workers) x?.unref();
    });
    w.on('error', (err) => {
      workers[i] = undefined as unknown as Worker;
      p.failAll(new Error(`silver: a checker thread failed: ${err.message}`, { cause: err }));
    });
    return w;
  };
  current = { threads, pool: p, workers };
  return p;
}

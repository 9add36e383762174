/**
 * A lock by name: the Web Lock of that name where the browser has Web Locks (held across the tabs
 * and workers of the origin), else a queue in this context only. Without Web Locks two tabs are
 * not kept apart; the page says so (src/worker/storage-choice.ts).
 */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function';
}

/** Per lock name: the last holder's promise, and how many hold or wait for it. */
const queues = new Map<string, { tail: Promise<unknown>; waiting: number }>();

export function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (hasWebLocks()) return navigator.locks.request(name, fn) as Promise<T>;
  const queue = queues.get(name) ?? { tail: Promise.resolve(), waiting: 0 };
  queue.waiting++;
  const run = async (): Promise<T> => {
    try {
      return await fn();
    } finally {
      if (--queue.waiting === 0) queues.delete(name);
    }
  };
  const result = queue.tail.then(run, run);
  queue.tail = result.catch(() => {});
  queues.set(name, queue);
  return result;
}

/** `fn` under the lock if it is free now (true), or undefined without waiting when it is held. */
export async function ifAvailable<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | undefined> {
  if (hasWebLocks()) {
    return (await navigator.locks.request(name, { ifAvailable: true }, async (lock) => (lock ? { value: await fn() } : undefined))) as { value: T } | undefined;
  }
  if (queues.has(name)) return undefined;
  return { value: await withLock(name, fn) };
}

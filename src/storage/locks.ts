/**
 * A lock by name: the Web Lock of that name where the browser has Web Locks (held across the tabs
 * and workers of the origin), else a queue in this context only. Without Web Locks two tabs are
 * not kept apart; the page says so (src/worker/storage-choice.ts).
 */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function';
}

const queues = new Map<string, Promise<unknown>>();

export function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (hasWebLocks()) return navigator.locks.request(name, fn) as Promise<T>;
  const result = (queues.get(name) ?? Promise.resolve()).then(fn, fn);
  const tail = result.catch(() => {});
  queues.set(name, tail);
  void tail.then(() => {
    if (queues.get(name) === tail) queues.delete(name);
  });
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

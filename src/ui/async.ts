import { untrack } from 'svelte';

/** A value the page is waiting for: every view renders all three states. */
export type Async<T> = { state: 'pending' } | { state: 'error'; message: string } | { state: 'ok'; value: T };

export const pending: Async<never> = { state: 'pending' };

/**
 * Start `work` and report its outcome, unless cancelled first. Returns the cancel function: an
 * $effect's cleanup, so a view that moved on never shows a stale answer. What `work` reads is
 * what the effect depends on; `keep` (read untracked) says to keep showing the old value while
 * the new one loads, instead of going back to pending.
 */
export function track<T>(work: () => Promise<T>, report: (a: Async<T>) => void, keep: () => boolean = () => false): () => void {
  let live = true;
  if (!untrack(keep)) report(pending);
  work().then(
    (value) => live && report({ state: 'ok', value }),
    (err: unknown) => live && report({ state: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
  return () => {
    live = false;
  };
}

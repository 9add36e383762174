import type { Limitation } from '../worker/protocol.ts';

let outcome: Promise<Limitation | undefined> = Promise.resolve(undefined);

/**
 * Register the service worker that makes the page work offline (src/sw.js), once the page has
 * loaded. Private windows and some engines have no service workers, or refuse to register one.
 */
export function registerServiceWorker(script: string): void {
  outcome = new Promise((resolve) => {
    const without = (reason: string): void =>
      resolve({ feature: 'service-worker', reason, effect: 'No offline mode: without the network the page will not load again.' });
    if (!('serviceWorker' in navigator) || !navigator.serviceWorker) return without('this window offers no service workers');
    const register = (): void => {
      navigator.serviceWorker.register(script).then(
        () => resolve(undefined),
        (err: unknown) => {
          console.warn('service worker not registered:', err);
          without(`registering the service worker failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        },
      );
    };
    // After the page's load, so that its own fetches go first; the app may start after that event.
    if (document.readyState === 'complete') register();
    else addEventListener('load', register, { once: true });
  });
}

/** Why offline mode is unavailable here, or undefined (it is, or this build has none). */
export const offlineLimitation = (): Promise<Limitation | undefined> => outcome;

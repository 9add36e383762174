import { mount } from 'svelte';
import type { Remote } from 'comlink';
import App from './App.svelte';
import { registerServiceWorker } from './ui/offline.ts';
import { connectWorker } from './worker/client.ts';
import type { Api } from './worker/protocol.ts';
import type { SpawnedWorker } from './worker/spawn.ts';

declare global {
  interface Window {
    /** The worker's api, for the devtools console and the end-to-end tests. */
    lakehouse: Remote<Api>;
    /** Kill the worker as a crash would (the browser crash trials); the page needs a reload afterwards. */
    terminateLakehouseWorker: () => void;
  }
}

declare const __SERVICE_WORKER__: string | undefined;

/** Mount the app on the worker boot.ts started. */
export function start(spawned: SpawnedWorker): void {
  const worker = connectWorker(spawned);
  window.lakehouse = worker.api;
  window.terminateLakehouseWorker = () => worker.terminate();

  const target = document.getElementById('app');
  if (!target) throw new Error('index.html has no #app element');
  mount(App, { target, props: { worker } });

  // Offline after the first visit (see src/sw.js). Built app only (the dev server's files change):
  // vite.config.ts (serviceWorker) defines __SERVICE_WORKER__ when it emits sw.js.
  if (typeof __SERVICE_WORKER__ === 'string') registerServiceWorker(__SERVICE_WORKER__);
}

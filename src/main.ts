import { mount } from 'svelte';
import type { Remote } from 'comlink';
import App from './App.svelte';
import { startWorker, type Api } from './worker/client.ts';

declare global {
  interface Window {
    /** The worker's api, for the devtools console and the end-to-end tests. */
    lakehouse: Remote<Api>;
  }
}

const worker = startWorker();
window.lakehouse = worker.api;

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { worker } });

// Offline after the first visit (see src/sw.js). Built app only: the dev server's files change.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  addEventListener('load', () => {
    navigator.serviceWorker.register('./sw.js').catch((err: unknown) => console.warn('service worker not registered:', err));
  });
}

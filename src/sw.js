// The service worker, a template: vite.config.ts (serviceWorker) fills in the cache's name and the
// build's files and emits it as sw.js beside index.html. Its scope is the folder it is served
// from, so the app works offline under any sub-path.
const CACHE = '__CACHE__';
const PRECACHE = __PRECACHE__;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `cache: 'reload'`: the files as the host has them now, not from the HTTP cache.
      await cache.addAll(PRECACHE.map((url) => new Request(new URL(url, self.registration.scope), { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith('creatorops-') && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

// Cache first, for same-origin GETs in the scope: the build's files never change under one name,
// and a new build brings a new service worker with a new cache. A page (navigation) is the app's
// shell whatever its query string or hash. Anything not precached is cached when first fetched.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  const scope = self.registration.scope;
  if (url.origin !== self.location.origin || !url.href.startsWith(scope)) return;
  if (request.mode === 'navigate') {
    event.respondWith(
      (async () => {
        try {
          const fresh = await fetch(request);
          if (fresh.ok) return fresh;
        } catch {
          // offline: the cached shell
        }
        const cached = await caches.match(scope, { cacheName: CACHE });
        return cached ?? Response.error();
      })(),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) return cached;
      const fresh = await fetch(request);
      if (fresh.ok && fresh.type === 'basic') await cache.put(request, fresh.clone());
      return fresh;
    })(),
  );
});

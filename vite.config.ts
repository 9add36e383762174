import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const duckdbDist = dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-browser.mjs'));

/**
 * The built page may load nothing from another origin; the browser enforces it. Build only:
 * the dev server injects inline scripts and a websocket.
 */
function contentSecurityPolicy(): Plugin {
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace(/<meta charset="utf-8" \/>/, (charset) => `${charset}\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`),
  };
}

export default defineConfig({
  // Relative asset URLs: the build works from any sub-path of any static host.
  base: './',
  plugins: [svelte(), contentSecurityPolicy()],
  resolve: {
    alias: [
      // The synchronous browser bindings are not in the package's `exports`.
      {
        find: /^@duckdb\/duckdb-wasm\/dist\/duckdb-browser-blocking\.mjs$/,
        replacement: join(duckdbDist, 'duckdb-browser-blocking.mjs'),
      },
    ],
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@duckdb/duckdb-wasm', 'parquet-wasm'] },
  build: {
    target: 'es2022',
    rolldownOptions: {
      // Emscripten's glue inside DuckDB-WASM uses direct eval (it is why the worker chunk's top
      // level is not minified); nothing to act on here.
      onLog(level, log, handler) {
        if (log.code === 'EVAL' && log.id?.includes('@duckdb/duckdb-wasm')) return;
        handler(level, log);
      },
    },
  },
});

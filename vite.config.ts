import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
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

/**
 * The service worker (`sw.js`, next to index.html) that makes the app work offline after its first
 * visit: it precaches the page, every emitted chunk and asset (the worker chunk and the wasm files
 * included) and the files of public/, all by relative URL so any sub-path works. The list, and so
 * the cache's name, changes with every build that changes a file.
 */
function serviceWorker(): Plugin {
  const PUBLIC = ['./', './favicon.svg', './manifest.webmanifest'];
  return {
    name: 'service-worker',
    apply: 'build',
    // main.ts registers sw.js exactly when this plugin emitted it. Not `import.meta.env.PROD`: that
    // follows NODE_ENV, and a build started under NODE_ENV=test (vitest's globalSetup) left the
    // registration out, so the offline tests waited forever for a service worker.
    config: () => ({ define: { __SERVICE_WORKER__: JSON.stringify('./sw.js') } }),
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((f) => f !== 'sw.js' && !f.endsWith('.map'))
        .sort();
      const urls = [...PUBLIC, ...files.filter((f) => f !== 'index.html').map((f) => `./${f}`)];
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16);
      const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'src', 'sw.js'), 'utf8')
        .replace('__CACHE__', `creatorops-${version}`)
        .replace('__PRECACHE__', JSON.stringify(urls));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/**
 * No chunk may import an entry chunk (the page's, or a worker's). A lazy chunk of the worker that
 * imported the worker's own entry made WebKit evaluate that entry a second time: a second lakehouse
 * worker, racing the first for the tables. Shared code goes to a chunk of its own instead
 * (`codeSplitting` below); this makes the build fail if it ever comes back.
 */
function noEntryImports(): Plugin {
  return {
    name: 'no-entry-imports',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
      const entries = new Set(chunks.filter((c) => c.isEntry).map((c) => c.fileName));
      for (const chunk of chunks) {
        const entry = [...chunk.imports, ...chunk.dynamicImports].find((f) => entries.has(f));
        if (entry) this.error(`${chunk.fileName} imports the entry chunk ${entry}: code the entry shares with other chunks must be in a chunk of its own`);
      }
    },
  };
}

/**
 * In the page's build and each worker's, every module an entry loads at start (all but the entry
 * itself) goes to a chunk `shared`, so the chunks loaded later import that chunk, never the entry
 * (noEntryImports). The page's entry (boot.ts) is small and starts the worker; the app it imports
 * later shares the worker-spawning code with it.
 */
const SHARED_CHUNK = {
  codeSplitting: {
    groups: [{ name: (id: string, ctx: ChunkingContext) => (isEntry(id, ctx) ? null : loadedByEntry(id, ctx, new Set()) ? 'shared' : null) }],
  },
};

interface ChunkingContext {
  getModuleInfo(id: string): { isEntry: boolean; importers: readonly string[] } | null;
}

/** An entry module, or the script of an HTML entry (index.html's `<script type="module">`, boot.ts). */
function isEntry(id: string, ctx: ChunkingContext): boolean {
  const info = ctx.getModuleInfo(id);
  return info?.isEntry === true || (info?.importers ?? []).some((i) => i.endsWith('.html') && ctx.getModuleInfo(i)?.isEntry === true);
}

/** Whether an entry imports `id` statically, directly or through other modules. */
function loadedByEntry(id: string, ctx: ChunkingContext, seen: Set<string>): boolean {
  return (ctx.getModuleInfo(id)?.importers ?? []).some((importer) => {
    if (seen.has(importer)) return false;
    seen.add(importer);
    return ctx.getModuleInfo(importer)?.isEntry === true || loadedByEntry(importer, ctx, seen);
  });
}

export default defineConfig({
  // Relative asset URLs: the build works from any sub-path of any static host.
  base: './',
  plugins: [svelte(), contentSecurityPolicy(), serviceWorker(), noEntryImports()],
  resolve: {
    alias: [
      // The synchronous browser bindings are not in the package's `exports`.
      {
        find: /^@duckdb\/duckdb-wasm\/dist\/duckdb-browser-blocking\.mjs$/,
        replacement: join(duckdbDist, 'duckdb-browser-blocking.mjs'),
      },
    ],
  },
  worker: { format: 'es', plugins: () => [noEntryImports()], rolldownOptions: { output: SHARED_CHUNK } },
  optimizeDeps: { exclude: ['@duckdb/duckdb-wasm', 'parquet-wasm'] },
  build: {
    target: 'es2022',
    rolldownOptions: {
      output: SHARED_CHUNK,
      // Emscripten's glue inside DuckDB-WASM uses direct eval (it is why the worker chunk's top
      // level is not minified); nothing to act on here.
      onLog(level, log, handler) {
        if (log.code === 'EVAL' && log.id?.includes('@duckdb/duckdb-wasm')) return;
        handler(level, log);
      },
    },
  },
});

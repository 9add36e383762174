import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, serveStatic, waitForEngine, type StaticServer } from '../test/e2e/harness.ts';
import type { BenchResult } from './result.ts';

/** The bench's own production build, apart from the e2e tests' (which may be rebuilt meanwhile). */
export const BENCH_DIST = join(ROOT, '.tmp', 'bench-dist');

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function buildBenchApp(): Promise<void> {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--outDir', BENCH_DIST, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  if (code !== 0) throw new Error(`bench: vite build failed (exit ${code}):\n${output}`);
}

/** Processes below `pid` (Linux /proc), with their command lines. */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  for (const [child] of parent) {
    let p: number | undefined = child;
    while (p !== undefined && p > 1 && p !== pid) p = parent.get(p);
    if (p === pid && child !== pid) {
      try {
        out.push({ pid: child, cmdline: readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ') });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

function browserPid(profile: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${profile}`) && !cmd.includes('--type=')) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Peak RSS (VmHWM) of the renderer processes of this browser: the tab and its worker live there. */
function rendererPeakRss(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  let peak: number | null = null;
  for (const p of descendants(pid)) {
    if (!p.cmdline.includes('--type=renderer') || p.cmdline.includes('--extension-process')) continue;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak ?? 0, Number(m[1]) * 1024);
    } catch {
      // gone meanwhile
    }
  }
  return peak;
}

interface Summary {
  seconds: number;
  /** absent in a baseline checkout older than the stage timings */
  timings?: { load: number; generate: number; bronze: number; silver: number; gold: number };
  bronze: { rows: number };
}

interface Metrics {
  duckdbWasmBytes: number | null;
  parquetWasmBytes: number | null;
  /** absent in a baseline checkout older than the encoder worker */
  encoderWasmBytes?: number | null;
  jsHeapUsedBytes: number | null;
}

/**
 * One `run` of `events` events in a fresh headless Chromium (fresh profile, so an empty OPFS),
 * through the worker API the page exposes as `window.lakehouse`, exactly as the Run button does.
 */
export async function browserRun(
  server: StaticServer,
  events: number,
  seed: number,
  options: { explorer?: boolean; explorerAfterMs?: number } = {},
): Promise<BenchResult> {
  const profile = mkdtempSync(join(tmpdir(), 'creatorops-bench-'));
  const notes: string[] = [];
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    const errors: string[] = [];
    context.on('weberror', (e) => void errors.push(e.error().message));
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const loadStarted = Date.now();
    await page.goto(server.url);
    const coldPaintMs = await firstContentfulPaint(page);
    await waitForEngine(page, 120_000);
    const engineReady = (Date.now() - loadStarted) / 1000;
    await page.evaluate(() => window.lakehouse.init());
    const worker = page.workers()[0];

    // The worker's JS heap, sampled while it runs (it answers between its awaits).
    let peakHeap: number | null = null;
    let heapSource = 'worker';
    const sample = async (): Promise<void> => {
      const used = await worker
        ?.evaluate(() => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null)
        .catch(() => null);
      if (typeof used === 'number') peakHeap = Math.max(peakHeap ?? 0, used);
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sample();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const summary = (await page.evaluate((o) => window.lakehouse.run({ events: o.events, seed: o.seed, days: 60, invalidRate: 0.01 }), {
      events,
      seed,
    })) as unknown as Summary;
    sampling = false;
    await sampler;
    await sample();
    if (peakHeap === null) {
      heapSource = 'page';
      peakHeap = await page.evaluate(() => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null);
      notes.push('JS heap: the page (performance.memory is not exposed in the worker)');
    }

    const metrics = await page.evaluate(async () => {
      const api = window.lakehouse as unknown as { metrics?: () => Promise<unknown> };
      try {
        return (await api.metrics!()) as Metrics;
      } catch {
        return null;
      }
    });
    if (!metrics) notes.push('wasm memory: not reported (the worker API has no metrics(); see src/worker/metrics.ts)');
    // Read now too: the reload below may move the page to a fresh renderer process, whose peak is not the run's.
    const runRss = rendererPeakRss(browserPid(profile));
    const ui = await dashboardTimings(page);
    let explorer: Record<string, number> | null = null;
    if (options.explorer !== false) {
      await waitForEngine(page, 300_000);
      if (options.explorerAfterMs) await new Promise((resolve) => setTimeout(resolve, options.explorerAfterMs));
      explorer = await explorerTimings(page);
    }
    const afterRss = rendererPeakRss(browserPid(profile));
    const files = await page.evaluate(() => window.lakehouse.listFiles(''));
    const bytes = files.filter((f) => f.path.endsWith('.parquet') && !f.path.includes('/_delta_log/')).reduce((s, f) => s + f.size, 0);
    if (errors.length) notes.push(`page errors: ${errors.join('; ')}`);
    const t = summary.timings;
    return {
      mode: 'browser',
      events,
      seconds: { total: summary.seconds, ...(t ? { load: t.load, generate: t.generate, bronze: t.bronze, silver: t.silver, gold: t.gold } : {}) },
      parquetBytes: bytes,
      peakWasmBytes: metrics ? (metrics.duckdbWasmBytes ?? 0) + (metrics.parquetWasmBytes ?? 0) + (metrics.encoderWasmBytes ?? 0) : null,
      peakJsHeapBytes: peakHeap,
      peakRssBytes: runRss === null && afterRss === null ? null : Math.max(runRss ?? 0, afterRss ?? 0),
      notes,
      extra: {
        coldPaintMs,
        ...ui,
        explorerFirstRowsMs: explorer,
        explorerAfterMs: options.explorerAfterMs ?? 0,
        engineReadySeconds: engineReady,
        heapSource,
        duckdbWasmBytes: metrics?.duckdbWasmBytes ?? null,
        parquetWasmBytes: metrics?.parquetWasmBytes ?? null,
        encoderWasmBytes: metrics?.encoderWasmBytes ?? null,
      },
    };
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function serveBenchApp(): Promise<StaticServer> {
  return serveStatic(BENCH_DIST);
}

/** First contentful paint of the page just loaded, in ms from navigation start. */
async function firstContentfulPaint(page: Page): Promise<number | null> {
  return page.evaluate(
    () =>
      new Promise<number | null>((resolve) => {
        const seen = performance.getEntriesByName('first-contentful-paint')[0];
        if (seen) return resolve(Math.round(seen.startTime));
        new PerformanceObserver((list) => resolve(Math.round(list.getEntries()[0]!.startTime))).observe({ type: 'paint', buffered: true });
        setTimeout(() => resolve(null), 30_000);
      }),
  );
}

/**
 * With the lakehouse just written in this profile: reload on the dashboard and time, from
 * navigation start, the first paint and all six KPI charts drawn and painted (the lakehouse restored from
 * OPFS, engine start included); then a refresh of the dashboard (to the Run tab and back) until
 * the six charts are drawn again.
 */
async function dashboardTimings(
  page: Page,
): Promise<{ restorePaintMs: number | null; restoreDashboardMs: number; dashboardRefreshMs: number; dashboardRefreshesMs: number[] }> {
  await page.goto(`${new URL(page.url()).origin}/#dashboard`);
  await page.reload();
  const restorePaintMs = await firstContentfulPaint(page);
  const charts = '[data-kpi] svg[role="img"]';
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, charts, { timeout: 300_000, polling: 'raf' });
  // Until that frame has been laid out and painted: the next frame's callback, then a task after it.
  const restoreDashboardMs = Math.round(
    (await page.evaluate(`new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)))`)) as number,
  );
  // The dashboard stays mounted once shown (App.svelte), hidden on other tabs: count the charts in view.
  const shown = `[...document.querySelectorAll(${JSON.stringify(charts)})].filter((e) => e.checkVisibility()).length`;
  // Five refreshes, the median reported: one frame more or less is 17 ms of a figure near 100.
  const refreshes: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.locator('#tab-run').click();
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility()).length === 0, charts, { polling: 'raf' });
    // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
    refreshes.push(
      (await page.evaluate(`new Promise((resolve) => {
      const t0 = performance.now();
      document.getElementById('tab-dashboard').click();
      (function poll() {
        if (${shown} === 6) requestAnimationFrame(() => setTimeout(() => resolve(Math.round(performance.now() - t0)), 0));
        else requestAnimationFrame(poll);
      })();
    })`)) as number,
    );
  }
  const dashboardRefreshMs = [...refreshes].sort((a, b) => a - b)[2]!;
  return { restorePaintMs, restoreDashboardMs, dashboardRefreshMs, dashboardRefreshesMs: refreshes };
}

/** The tables whose first rows the bench times in the Explorer: the two biggest, the rejects, a gold one. */
export const EXPLORER_TABLES = ['silver/events', 'bronze/events', 'silver/rejects', 'gold/dropoff_rate'];

/**
 * With the engine up and none of these tables loaded: the ms from a click to the table's first
 * rows drawn and that frame painted — silver/events by a click on the Explorer tab (it opens on
 * it), the others by a click on them in the lineage, each once the previous table's column
 * profile (which loads that whole table) is shown, as when someone looks at a table and moves on.
 */
async function explorerTimings(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of EXPLORER_TABLES) {
    const rows = `[role="region"][aria-label^=${JSON.stringify(`${table} at version`)}] tbody tr[data-row]`;
    const click =
      table === EXPLORER_TABLES[0]
        ? `document.getElementById('tab-explorer')`
        : `[...document.querySelectorAll('.lineage button')].find((b) => b.querySelector('.path')?.textContent === ${JSON.stringify(table)})`;
    // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
    out[table] = (await page.evaluate(`new Promise((resolve) => {
      const target = ${click};
      const t0 = performance.now();
      target.click();
      (function poll() {
        if (document.querySelector(${JSON.stringify(rows)})) requestAnimationFrame(() => setTimeout(() => resolve(Math.round(performance.now() - t0)), 0));
        else requestAnimationFrame(poll);
      })();
    })`)) as number;
    await page.locator('[aria-labelledby="profile-title"] .pending').waitFor({ state: 'detached', timeout: 300_000 });
  }
  return out;
}

/**
 * Gzip sizes of the build's JavaScript by when it loads: the page (the entry script index.html
 * loads and what it imports); the lakehouse worker (its chunk and static imports: enough to list
 * the tables and draw the dashboard); the engine (what the worker imports dynamically when DuckDB
 * starts: DuckDB-WASM's glue); the checker workers (only used with more than two cores); the producer
 * worker (a generated run's lines made and checked, with two cores or more); the encoder worker
 * (silver/events' Parquet during a run, two cores or more). Then the
 * two wasm modules the worker fetches.
 */
export interface BundleSizes {
  page: number;
  worker: number;
  engine: number;
  checkers: number;
  producer: number;
  encoder: number;
  unreferenced: number;
  wasm: { duckdb: number; parquet: number };
}

export function bundleSizes(dist: string): BundleSizes {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const entry = /<script[^>]+src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (!entry) throw new Error(`bench: no entry script in ${dist}/index.html`);
  const assets = readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`);
  const counted = new Set<string>();
  const text = (file: string) => readFileSync(join(dist, file), 'utf8');
  /** `file` and what it imports statically, less what was counted already. */
  const closure = (files: string[]): string[] => {
    const out: string[] = [];
    const visit = (file: string): void => {
      if (counted.has(file)) return;
      counted.add(file);
      out.push(file);
      for (const m of text(file).matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) visit(`assets/${m[1]}`);
    };
    files.forEach(visit);
    return out;
  };
  const gz = (file: string) => gzipSync(readFileSync(join(dist, file))).byteLength;
  const sum = (files: string[]) => files.reduce((s, f) => s + gz(f), 0);
  const named = (re: RegExp) => assets.filter((f) => re.test(f.slice('assets/'.length)));
  // The entry (boot.ts) starts the worker, then imports the app at once: both are the page's start.
  const lazyOf = (file: string) => [...text(file).matchAll(/import\(\s*[`'"]\.\/([^`'"]+\.js)[`'"]\s*\)/g)].map((m) => `assets/${m[1]}`);
  const page = closure([entry, ...lazyOf(entry)]);
  const workers = named(/^worker-.*\.js$/);
  const worker = closure(workers);
  const lazy = workers.flatMap(lazyOf);
  const engine = closure(lazy);
  const checkers = closure(named(/^check-worker-.*\.js$/));
  const producer = closure(named(/^produce-worker-.*\.js$/));
  const encoder = closure(named(/^encode-worker-.*\.js$/));
  // Chunks nothing above imports (e.g. Arrow's DOM helpers, split off but never loaded).
  const unreferenced = assets.filter((f) => f.endsWith('.js') && !counted.has(f));
  return {
    page: sum(page),
    worker: sum(worker),
    engine: sum(engine),
    checkers: sum(checkers),
    producer: sum(producer),
    encoder: sum(encoder),
    unreferenced: sum(unreferenced),
    wasm: { duckdb: sum(assets.filter((f) => /duckdb-eh.*\.wasm$/.test(f))), parquet: sum(assets.filter((f) => /parquet.*\.wasm$/.test(f))) },
  };
}

/** One visit's start: ms from navigation start to the first paint and to the engine's first answer. */
export interface StartVisit {
  firstPaintMs: number | null;
  engineReadyMs: number;
  /** engineReadyMs − firstPaintMs: what issue 16 asks to be ≤ 1 s on a second visit */
  readyAfterPaintMs: number | null;
}

export interface StartTimings {
  /** a fresh profile: nothing cached, the service worker not installed yet */
  cold: StartVisit;
  /** the same profile, the browser closed and started again each time */
  warm: StartVisit[];
  /** bytes in the profile's wasm code cache after the last visit */
  codeCacheBytes: number;
}

/**
 * The page's start, cold and warm: a fresh profile opens the app (`hash`, e.g. '#dashboard'),
 * waits for the engine's first answer (the page's `lakehouse:engine-ready` mark, src/ui/engine.ts),
 * optionally runs `events` events as a first visit might, and waits until the service worker is
 * active; then the browser is closed and started again `warmVisits` times on that profile.
 */
export async function startTimings(server: StaticServer, options: { events?: number; hash?: string; warmVisits?: number } = {}): Promise<StartTimings> {
  const profile = mkdtempSync(join(tmpdir(), 'creatorops-start-'));
  const url = `${server.url}${options.hash ?? ''}`;
  const visit = async (first: boolean): Promise<StartVisit> => {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(url);
      const firstPaintMs = await firstContentfulPaint(page);
      // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
      const engineReadyMs = Math.round(
        (await page.evaluate(`new Promise((resolve, reject) => {
          setInterval(() => {
            const failed = document.querySelector('[role="status"][data-state="failed"]');
            if (failed) reject(new Error('the engine failed to start: ' + failed.textContent));
          }, 100);
          const seen = performance.getEntriesByName('lakehouse:engine-ready')[0];
          if (seen) return resolve(seen.startTime);
          new PerformanceObserver((list) => {
            const mark = list.getEntriesByName('lakehouse:engine-ready')[0];
            if (mark) resolve(mark.startTime);
          }).observe({ type: 'mark', buffered: true });
        })`)) as number,
      );
      if (first) {
        if (options.events) await page.evaluate((events) => window.lakehouse.run({ events, seed: 42, days: 60, invalidRate: 0.01 }), options.events);
        await page.evaluate(`navigator.serviceWorker.ready`);
      }
      // Time for the browser to write what it caches (V8 writes wasm code some seconds after compiling it).
      await page.waitForTimeout(first ? 5000 : 1000);
      return { firstPaintMs, engineReadyMs, readyAfterPaintMs: firstPaintMs === null ? null : engineReadyMs - firstPaintMs };
    } finally {
      await context.close();
    }
  };
  try {
    const cold = await visit(true);
    const warm: StartVisit[] = [];
    for (let i = 0; i < (options.warmVisits ?? 2); i++) warm.push(await visit(false));
    return { cold, warm, codeCacheBytes: folderBytes(join(profile, 'Default', 'Code Cache', 'wasm')) };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

function folderBytes(dir: string): number {
  let bytes = 0;
  try {
    for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) bytes += statSync(join(f.parentPath, f.name)).size;
  } catch {
    // no such folder: nothing cached
  }
  return bytes;
}

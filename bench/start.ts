/**
 * The page's start alone, fast: for each build folder given (default: a fresh production build in
 * .tmp/start-dist), a fresh Chromium profile opens the app on the Run tab, waits for the engine's
 * first answer (cold), then the browser is closed and started again `--warm` times (warm). With
 * several folders, their rounds alternate, so an A/B in one session sees the same load.
 *
 *   npx tsx bench/start.ts [--rounds 2] [--warm 3] [DIST ...]
 *
 * Prints, per visit, ms from navigation start to the first paint and to the engine's first
 * answer, and the difference (issue 16: ≤ 1 s on a warm visit), with the load average.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, serveStatic } from '../test/e2e/harness.ts';
import { startTimings, type StartVisit } from './browser.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const rounds = option('rounds', 2);
const warmVisits = option('warm', 3);
const dists = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
if (dists.length === 0) {
  const { spawnSync } = await import('node:child_process');
  const out = join(ROOT, '.tmp', 'start-dist');
  const built = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  if (built.status !== 0) throw new Error(`bench: vite build failed (exit ${built.status})`);
  dists.push(out);
}

const line = (v: StartVisit) => `paint ${v.firstPaintMs ?? '?'} ms, engine ${v.engineReadyMs} ms, after paint ${v.readyAfterPaintMs ?? '?'} ms`;
const summary = new Map<string, { cold: number[]; warm: number[] }>(dists.map((d) => [d, { cold: [], warm: [] }]));
for (let round = 1; round <= rounds; round++) {
  for (const dist of dists) {
    const server = await serveStatic(dist);
    try {
      const load = loadavg()[0]!.toFixed(1);
      const t = await startTimings(server, { warmVisits });
      console.log(`${dist} round ${round} (load ${load}), code cache ${(t.codeCacheBytes / 1e6).toFixed(1)} MB`);
      console.log(`  cold: ${line(t.cold)}`);
      for (const w of t.warm) console.log(`  warm: ${line(w)}`);
      const s = summary.get(dist)!;
      if (t.cold.readyAfterPaintMs !== null) s.cold.push(t.cold.readyAfterPaintMs);
      for (const w of t.warm) if (w.readyAfterPaintMs !== null) s.warm.push(w.readyAfterPaintMs);
    } finally {
      await server.close();
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
for (const [dist, s] of summary)
  console.log(`${dist}: engine after first paint, median cold ${median(s.cold)} ms (${s.cold.join(', ')}), warm ${median(s.warm)} ms (${s.warm.join(', ')})`);

/**
 * One pipeline run per browser engine and window, against the production build in .tmp/e2e-dist
 * (build it first: `NODE_ENV=production npx vite build --outDir .tmp/e2e-dist`).
 *
 *   npx tsx bench/engines.ts [events=200000] [engine[:private] …]
 *
 * Each in a fresh profile: load the page, wait for the engine (timed), then run `events` events
 * (seed 42, 60 days, 1% invalid) through the worker's api, as the Run button does (timed inside
 * the page), and say where the tables went (OPFS or memory). Engines: chromium, chromium:private
 * (incognito), firefox, firefox:private, webkit (WebKitGTK's MiniBrowser under Xvfb).
 */
import { openTab, type EngineName } from '../test/e2e/engines.ts';
import { whenStarted } from '../test/e2e/journey.ts';
import { DIST, serveStatic } from '../test/e2e/harness.ts';

const events = Number(process.argv[2] ?? 200_000);
const chosen = process.argv.slice(3);
const modes = (chosen.length > 0 ? chosen : ['chromium', 'chromium:private', 'firefox', 'firefox:private', 'webkit']).map((m) => {
  const [engine, mode] = m.split(':');
  if (!['chromium', 'firefox', 'webkit'].includes(engine!))
    throw new Error(`bench/engines: unknown engine ${JSON.stringify(engine)}: chromium, firefox or webkit`);
  return { engine: engine as EngineName, private: mode === 'private' };
});

const server = await serveStatic(DIST);
const results = [];
try {
  for (const mode of modes) {
    const tab = await openTab(mode.engine, { private: mode.private });
    try {
      const t0 = Date.now();
      await tab.goto(server.url);
      const started = await whenStarted(tab);
      const engineMs = Date.now() - t0;
      if (!started.status.startsWith('Engine ready')) throw new Error(`${tab.label}: ${started.status}`);
      const run = await tab.evaluate(async (n) => {
        const t = performance.now();
        const summary = await window.lakehouse.run({ events: n, seed: 42, days: 60, invalidRate: 0.01 });
        return { ms: performance.now() - t, silverRows: summary.silver[0]!.silverRows, gold: summary.gold.length };
      }, events);
      const storage = started.status.replace(/^.* · tables in /, '');
      results.push({
        browser: tab.label,
        storage,
        limitations: started.limitations,
        engineReadyMs: engineMs,
        runMs: Math.round(run.ms),
        silverRows: run.silverRows,
        goldTables: run.gold,
      });
      console.error(
        `${tab.label}: ${events.toLocaleString('en-US')} events in ${(run.ms / 1000).toFixed(1)} s, tables in ${storage} (engine ready after ${(engineMs / 1000).toFixed(1)} s)`,
      );
    } finally {
      await tab.close();
    }
  }
} finally {
  await server.close();
}
console.log(JSON.stringify({ events, results }, null, 2));

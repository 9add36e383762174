/**
 * Fault trials of the command line, with figures (docs/reliability.md):
 *
 *   npm run -s reliability -- [--trials 50] [--concurrent 10] [--events 10000] [--recovery-events 2000]
 *                             [--series 10] [--kill-from first-output|start] [--min-ms 0] [--max-ms auto] [--seed 1]
 *
 * Crash trials: `cli run` on a lakehouse, killed with SIGKILL at a random moment, uniformly
 * between --min-ms and --max-ms after its first progress line (the end of start-up, which takes
 * anything from 2 to 8 s depending on the machine's load) or after the process started
 * (--kill-from start); --max-ms auto is the measured working time of an unkilled run (measured
 * again whenever a run ends before its kill), so kills land in bronze, silver and gold. Then the checks of test/reliability/trials.ts. A fresh
 * lakehouse every --series trials, so logs cross checkpoints but runs stay short.
 * Concurrent trials: two `cli run`s on one folder at once.
 * --store s3 or --store az: the same trials on an object store (moto's S3 server or Azurite,
 * started on loopback by scripts/storage-servers.mjs), each series under a fresh prefix.
 *
 *   npm run -s reliability -- --browser [--trials 50] [--events 3000] [--recovery-events 500] [--series 10] [--dist DIR]
 *
 * Browser crash trials (test/reliability/browser-trials.ts): the built app (DIST, default
 * $E2E_DIST or .tmp/e2e-dist; build it first with `npx vite build --outDir DIR`) in headless
 * Chromium, a run killed at a uniformly random moment between its start and the length of an
 * unkilled run, alternately by terminating the worker and by closing the tab and the browser; the
 * same profile is opened again with its engine held back and checked as above, with the files
 * copied out of OPFS, and its lineage must mark every stale gold table; then the engine starts, the
 * page finishes the stopped run by itself, and the lakehouse must equal an uninterrupted run's.
 * Exit status 1 when any trial failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { formatTable } from '../src/cli/log.ts';
import { cliRun, concurrentTrial, crashTrial, type CrashTrial, type Phase } from '../test/reliability/trials.ts';
import { BrowserLab, browserCrashTrial, type BrowserCrashTrial, type BrowserPhase } from '../test/reliability/browser-trials.ts';
import type { LakehouseCheck } from '../test/reliability/invariants.ts';

const { values } = parseArgs({
  options: {
    browser: { type: 'boolean', default: false },
    dist: { type: 'string', default: process.env.E2E_DIST ?? join(import.meta.dirname, '../.tmp/e2e-dist') },
    trials: { type: 'string', default: '50' },
    concurrent: { type: 'string', default: '10' },
    events: { type: 'string', default: '10000' },
    'recovery-events': { type: 'string', default: '2000' },
    series: { type: 'string', default: '10' },
    'kill-from': { type: 'string', default: 'first-output' },
    'min-ms': { type: 'string', default: '0' },
    'max-ms': { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    store: { type: 'string', default: 'disk' },
  },
});
const n = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number ≥ 0, got ${values[name]}`);
  return v;
};

initParquet();
const engine = await openNodeEngine();
const trials = n('trials');
const events = n('events');
const series = Math.max(1, n('series'));
let seed = n('seed');
const random = mulberry32(seed);
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const killFrom = values['kill-from'] as 'first-output' | 'start';
if (killFrom !== 'first-output' && killFrom !== 'start') throw new Error(`--kill-from is first-output or start, got ${killFrom}`);

if (values.browser) process.exit(await browserTrials());

const store = values.store;
if (!['disk', 's3', 'az'].includes(store)) throw new Error(`--store is disk, s3 or az, got ${store}`);
if (store !== 'disk') {
  // @ts-expect-error: a plain .mjs script, without types
  const { startServers } = await import('./storage-servers.mjs');
  const { env, stop } = (await startServers()) as { env: Record<string, string>; stop: () => void };
  process.on('exit', stop);
  Object.assign(process.env, env);
  const { S3Client, s3ConfigFromEnv } = await import('../src/storage/s3.ts');
  const { AzureClient, azureConfigFromEnv } = await import('../src/storage/azure.ts');
  await (store === 's3' ? new S3Client(s3ConfigFromEnv('trials', env)).createBucket() : new AzureClient(azureConfigFromEnv('trials', env)).createContainer());
}
/** A fresh place for a series: a temporary folder, or a new prefix of the store's bucket. */
const fresh = (name: string) => (store === 'disk' ? mkdtempSync(join(tmpdir(), name)) : `${store}://trials/${name}${crypto.randomUUID()}`);

const started = Date.now();
const results: CrashTrial[] = [];
let dir = '';
let maxMs = 0;
for (let i = 0; i < trials; i++) {
  if (i % series === 0) {
    dir = fresh('crash-trials-');
    // An unkilled first run: the series starts from a lakehouse with every table, and its length sets the kill window.
    const first = await cliRun(['--events', String(events), '--seed', String(seed++), '--days', '30', '--out', dir]);
    if (first.code !== 0) throw new Error(`the first run of a series failed: ${first.stderr}`);
    maxMs = values['max-ms'] !== 'auto' ? n('max-ms') : killFrom === 'start' ? first.ms : first.ms - first.stageAt.bronze!;
    process.stderr.write(
      `series in ${dir}: an unkilled run took ${(first.ms / 1000).toFixed(1)} s (bronze from ${first.stageAt.bronze} ms, silver ${first.stageAt.silver} ms, gold ${first.stageAt.gold} ms)\n`,
    );
  }
  const killAtMs = Math.round(n('min-ms') + random() * Math.max(0, maxMs - n('min-ms')));
  const r = await crashTrial({ dir, engine, trial: i + 1, killAtMs, killFrom, events, recoveryEvents: n('recovery-events'), seed: seed++ });
  results.push(r);
  // The machine got faster than when the window was measured: the run ended before its kill.
  if (values['max-ms'] === 'auto' && killFrom === 'first-output' && r.finishedWorkMs !== undefined) maxMs = r.finishedWorkMs;
  process.stderr.write(
    `trial ${r.trial}: killed ${killAtMs} ms after ${killFrom} (${r.killedAfterMs} ms after the start) in ${r.phase}; ${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'ok'}\n`,
  );
}

const concurrent = [];
for (let i = 0; i < n('concurrent'); i++) {
  if (i % series === 0) dir = fresh('concurrent-trials-');
  const r = await concurrentTrial({ dir, engine, trial: i + 1, events, seeds: [seed++, seed++] });
  concurrent.push(r);
  process.stderr.write(`concurrent trial ${r.trial}: ${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'ok'} (${(r.ms / 1000).toFixed(1)} s)\n`);
}

const out: string[] = [];
if (results.length) {
  out.push(
    `## Crash trials: cli run --events ${events} killed with SIGKILL ${n('min-ms')} ms to ${values['max-ms'] === 'auto' ? 'the working time of an unkilled run' : `${maxMs} ms`} after ${killFrom === 'start' ? 'its start' : 'its first progress line'}, then checked, run again, vacuumed\n`,
  );
  out.push(
    formatTable(
      results.map((r) => ({
        trial: r.trial,
        kill_ms: r.killAtMs,
        since_start_ms: r.killedAfterMs,
        phase: r.phase,
        versions_after_kill: `b${r.afterKill.bronzeVersion}/s${r.afterKill.processed}`,
        batches_checked: r.afterKill.batchesChecked,
        orphans_after_kill: `${r.afterKill.untrackedFiles} (${kb(r.afterKill.untrackedBytes)})`,
        next_run: r.recovered ? 'ok' : 'FAILED',
        vacuum_orphans: `${r.orphanFiles} (${kb(r.orphanBytes)})`,
        vacuum_removed: `${r.removedFiles} (${kb(r.removedBytes)})`,
        log_tmp_files: r.afterVacuum.logTempFiles,
        checkpoint_notes: r.afterKill.warnings.length,
        result: r.problems.length ? 'FAIL' : 'ok',
      })),
    ),
  );
  const phases = new Map<Phase, number>();
  for (const r of results) phases.set(r.phase, (phases.get(r.phase) ?? 0) + 1);
  const failures = results.filter((r) => r.problems.length > 0).length;
  const sum = (f: (r: CrashTrial) => number) => results.reduce((s, r) => s + f(r), 0);
  out.push('');
  out.push(`trials: ${results.length}; failures: ${failures}`);
  out.push(`kills landed in: ${[...phases].map(([p, c]) => `${p} ${c}`).join(', ')}`);
  out.push(
    `batches checked after kills (bronze = silver + rejects, whole or absent): ${sum((r) => r.afterKill.batchesChecked)}; after the next runs: ${sum((r) => r.afterRecovery.batchesChecked)}`,
  );
  out.push(
    `orphans (files no commit names) left by kills and reclaimed by VACUUM (force, 0 h): ${sum((r) => r.orphanFiles)} files, ${kb(sum((r) => r.orphanBytes))}; files left after VACUUM: ${sum((r) => r.afterVacuum.untrackedFiles)}`,
  );
  out.push(`removed files (overwritten gold) also reclaimed: ${sum((r) => r.removedFiles)} files, ${kb(sum((r) => r.removedBytes))}`);
  out.push(
    `temporary files left in a _delta_log after VACUUM (a log write cut short; VACUUM removes them): at most ${Math.max(...results.map((r) => r.afterVacuum.logTempFiles))} in one lakehouse, ${kb(Math.max(...results.map((r) => r.afterVacuum.logTempBytes)))}`,
  );
  out.push(`checkpoint notes (a checkpoint missing after a kill; optional in the protocol): ${sum((r) => r.afterKill.warnings.length)}`);
}
if (concurrent.length) {
  out.push('');
  out.push(`## Concurrent trials: two cli run --events ${events} on one folder at once\n`);
  out.push(
    formatTable(
      concurrent.map((r) => ({
        trial: r.trial,
        exits: r.exits.join(','),
        lost: r.lost,
        overwritten: r.overwritten,
        bronze_version: r.check.bronzeVersion,
        batches_whole: r.check.batchesChecked,
        seconds: (r.ms / 1000).toFixed(1),
        result: r.problems.length ? 'FAIL' : 'ok',
      })),
    ),
  );
  out.push('');
  out.push(
    `concurrent trials: ${concurrent.length}; failures: ${concurrent.filter((r) => r.problems.length).length}; ` +
      `lost commits: ${concurrent.reduce((s, r) => s + r.lost, 0)}; overwritten: ${concurrent.reduce((s, r) => s + r.overwritten, 0)}; ` +
      `versions contiguous and every batch whole: ${concurrent.every((r) => r.check.problems.length === 0) ? 'yes' : 'NO'}`,
  );
}
out.push('');
out.push(`took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
process.stdout.write(`${out.join('\n')}\n`);
const failed = results.some((r) => r.problems.length) || concurrent.some((r) => r.problems.length);
process.exit(failed ? 1 : 0);

/** A small seeded generator, so a run of trials can be repeated. */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The browser crash trials; prints their figures, returns the exit status. */
async function browserTrials(): Promise<number> {
  const { serveStatic } = await import('../test/e2e/harness.ts');
  const started = Date.now();
  const server = await serveStatic(values.dist!);
  const recoveryEvents = n('recovery-events');
  const results: BrowserCrashTrial[] = [];
  let lab: BrowserLab | undefined;
  let work = '';
  let maxMs = 0;
  let before: LakehouseCheck | undefined;
  try {
    for (let i = 0; i < trials; i++) {
      if (i % series === 0) {
        await lab?.close();
        if (lab) rmSync(lab.profile, { recursive: true, force: true });
        if (work) rmSync(work, { recursive: true, force: true });
        const profile = mkdtempSync(join(tmpdir(), 'browser-trials-profile-'));
        work = mkdtempSync(join(tmpdir(), 'browser-trials-copy-'));
        lab = await BrowserLab.open(profile, server.url);
        // An unkilled first run: the series starts from a lakehouse with every table, and its length sets the kill window.
        const t0 = Date.now();
        const failed = await lab.run({ events, seed: seed++, days: 30, invalidRate: 0.01 });
        if (failed !== undefined) throw new Error(`the first run of a series failed: ${failed}`);
        maxMs = Date.now() - t0;
        before = await lab.check(engine, work, true);
        if (before.problems.length) throw new Error(`the first run of a series does not check out: ${before.problems.join('; ')}`);
        process.stderr.write(`series with profile ${profile}: an unkilled run took ${(maxMs / 1000).toFixed(1)} s\n`);
      }
      const mode = i % 2 === 0 ? 'worker' : 'tab';
      const killAtMs = Math.round(random() * maxMs);
      const t = Date.now();
      const r = await browserCrashTrial(lab!, { engine, trial: i + 1, mode, killAtMs, events, recoveryEvents, seed: seed++, before: before!, work });
      results.push(r);
      before = r.afterVacuum;
      // The machine got faster than when the window was measured: the run ended before its kill.
      if (r.finishedMs !== undefined) maxMs = Math.min(maxMs, r.finishedMs);
      process.stderr.write(
        `trial ${r.trial}: ${mode} killed ${killAtMs} ms after the run started, in ${r.phase}; ${r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'ok'} (${((Date.now() - t) / 1000).toFixed(1)} s)\n`,
      );
    }
  } finally {
    await lab?.close();
    if (lab) rmSync(lab.profile, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    await server.close();
  }
  const out: string[] = [];
  out.push(
    `## Browser crash trials: the app's run of ${events} events killed (worker terminated / tab and browser closed, alternately) at a random moment, then the same profile reopened, checked, run again, vacuumed\n`,
  );
  out.push(
    formatTable(
      results.map((r) => ({
        trial: r.trial,
        kill: r.mode,
        kill_ms: r.killAtMs,
        phase: r.phase,
        versions_after_kill: `b${r.afterKill.bronzeVersion}/s${r.afterKill.processed}`,
        batches_checked: r.afterKill.batchesChecked,
        orphans_after_kill: `${r.afterKill.untrackedFiles} (${kb(r.afterKill.untrackedBytes)})`,
        tmp_after_kill: `${r.tempAfterKill} (${kb(r.tempBytesAfterKill)})`,
        behind_after_kill: r.behindAfterKill.length,
        stale_gold_marked: `${r.staleGold}/${r.staleMarked}`,
        page_repaired: r.repaired === undefined ? '—' : r.repaired.problems.length ? 'FAILED' : 'ok',
        next_run: r.recovered ? 'ok' : 'FAILED',
        vacuum_orphans: `${r.orphanFiles} (${kb(r.orphanBytes)})`,
        vacuum_tmp: r.tempFilesReclaimed,
        vacuum_removed: `${r.removedFiles} (${kb(r.removedBytes)})`,
        result: r.problems.length ? 'FAIL' : 'ok',
      })),
    ),
  );
  const phases = new Map<BrowserPhase, number>();
  for (const r of results) phases.set(r.phase, (phases.get(r.phase) ?? 0) + 1);
  const sum = (f: (r: BrowserCrashTrial) => number) => results.reduce((s, r) => s + f(r), 0);
  const failures = results.filter((r) => r.problems.length > 0);
  out.push('');
  out.push(
    `trials: ${results.length} (worker terminated ${results.filter((r) => r.mode === 'worker').length}, tab closed ${results.filter((r) => r.mode === 'tab').length}); failures: ${failures.length}`,
  );
  out.push(`kills landed in: ${[...phases].map(([p, c]) => `${p} ${c}`).join(', ')}`);
  out.push(
    `batches checked after kills (bronze = silver + rejects, whole or absent): ${sum((r) => r.afterKill.batchesChecked)}; after the next runs: ${sum((r) => r.afterRecovery.batchesChecked)}`,
  );
  out.push(
    `orphans (files no commit names, temporary files included) reclaimed by VACUUM (force, 0 h, in the browser): ${sum((r) => r.orphanFiles)} files, ${kb(sum((r) => r.orphanBytes))}, of which temporary files: ${sum((r) => r.tempFilesReclaimed)}; files no commit names left after VACUUM: ${sum((r) => r.afterVacuum.untrackedFiles)}; temporary files left: ${sum((r) => r.tempAfterVacuum)}`,
  );
  out.push(`removed files (overwritten gold) also reclaimed: ${sum((r) => r.removedFiles)} files, ${kb(sum((r) => r.removedBytes))}`);
  out.push(`checkpoint notes (a checkpoint missing after a kill; optional in the protocol): ${sum((r) => r.afterKill.warnings.length)}`);
  out.push(
    `stale gold after kills (rows differ from their SQL over the latest silver): ${sum((r) => r.staleGold)} tables in ${results.filter((r) => r.staleGold > 0).length} trials; marked not up to date by the reopened page's lineage: ${sum((r) => r.staleMarked)}; unmarked: ${sum((r) => r.staleGold - r.staleMarked)}`,
  );
  const repaired = results.filter((r) => r.repaired !== undefined);
  out.push(
    `trials whose kill left tables behind: ${repaired.length} (${sum((r) => r.behindAfterKill.length)} tables); finished by the page on opening and then equal to an uninterrupted run (every batch in, gold equal to its SQL over silver): ${repaired.filter((r) => r.repaired!.problems.length === 0).length}`,
  );
  for (const r of failures) out.push(`trial ${r.trial} FAILED: ${r.problems.join('; ')}`);
  out.push('');
  out.push(`took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  process.stdout.write(`${out.join('\n')}\n`);
  return failures.length ? 1 : 0;
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatTable } from '../../src/cli/log.ts';
import { runCommand } from '../../src/cli/run.ts';
import { openLocation } from '../../src/cli/location.ts';
import type { Engine } from '../../src/engine/types.ts';
import type { Storage } from '../../src/storage/types.ts';
import { isCommitInfo, type Action } from '../../src/delta/actions.ts';
import { listLog, readCommit } from '../../src/delta/snapshot.ts';
import { vacuumTable } from '../../src/delta/vacuum.ts';
import { GOLD_TABLES, TABLES } from '../../src/pipeline/tables.ts';
import { checkLakehouse, type LakehouseCheck } from './invariants.ts';

/**
 * Fault trials of the command line, shared by the CI test (test/reliability/crash.test.ts) and
 * the script that prints figures (scripts/crash-trials.ts).
 */

const ROOT = join(import.meta.dirname, '../..');
const CLI = [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts')];

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from start to the first progress line of each stage */
  stageAt: Partial<Record<'bronze' | 'silver' | 'gold', number>>;
  ms: number;
}

/**
 * `cli run` as its own process group (tsx runs the program in a child process), killed with
 * SIGKILL — parent and child at once, nothing can catch it — `kill.afterMs` after the start, or
 * after its first progress line (the end of start-up, which a loaded machine stretches).
 */
export function cliRun(args: string[], kill?: { afterMs: number; from: 'start' | 'first-output' }): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [...CLI, 'run', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: CliRun = { code: null, signal: null, stdout: '', stderr: '', stageAt: {}, ms: 0 };
  child.stdout.on('data', (d: Buffer) => (out.stdout += String(d)));
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer ??= setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, kill!.afterMs);
  };
  if (kill?.from === 'start') arm();
  child.stderr.on('data', (d: Buffer) => {
    out.stderr += String(d);
    if (kill?.from === 'first-output') arm();
    for (const stage of ['bronze', 'silver', 'gold'] as const) {
      if (out.stageAt[stage] === undefined && new RegExp(`^${stage} `, 'm').test(out.stderr)) out.stageAt[stage] = Date.now() - started;
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out.code = code;
      out.signal = signal;
      out.ms = Date.now() - started;
      resolve(out);
    });
  });
}

/** Where a kill landed, read from the tables (and, before bronze committed, from the progress lines). */
export type Phase = 'startup' | 'bronze' | 'silver' | 'gold' | 'after gold' | 'finished';

export interface CrashTrial {
  trial: number;
  killAtMs: number;
  /** ms from the process start to the kill */
  killedAfterMs: number;
  /** when the run finished before the kill: ms from its first progress line to its exit */
  finishedWorkMs?: number;
  phase: Phase;
  afterKill: LakehouseCheck;
  recovered: boolean;
  afterRecovery: LakehouseCheck;
  /** what VACUUM (force, 0 h) deleted after the recovery run */
  orphanFiles: number;
  orphanBytes: number;
  removedFiles: number;
  removedBytes: number;
  afterVacuum: LakehouseCheck;
  problems: string[];
}

async function goldVersions(storage: Storage): Promise<number[]> {
  return Promise.all(
    GOLD_TABLES.map((g) =>
      listLog(storage, `gold/${g}`).then(
        (l) => l.latest,
        () => -1,
      ),
    ),
  );
}

/**
 * One trial on the lakehouse at `dir` (a folder, or an object store's s3:// or az:// address): `cli run` killed at `killAtMs`; every table must open at
 * a committed version with SPEC §2 intact for what silver has processed; a second `cli run`
 * must complete with everything processed and gold equal to its SQL; VACUUM (force, 0 h) then
 * removes what the kill left behind, and the lakehouse must still check out.
 */
export async function crashTrial(o: {
  dir: string;
  engine: Engine;
  trial: number;
  events: number;
  recoveryEvents: number;
  seed: number;
  /** when to kill: ms after the process started, or after its first progress line */
  killAtMs: number;
  killFrom: 'start' | 'first-output';
  /** run the recovery `cli run` in this process (runCommand, the same code without a process start): faster, for CI */
  recoverInProcess?: boolean;
}): Promise<CrashTrial> {
  const storage = openLocation(o.dir);
  const before = await checkLakehouse(storage, o.engine);
  const goldBefore = await goldVersions(storage);
  const killed = await cliRun(['--events', String(o.events), '--seed', String(o.seed), '--days', '30', '--out', o.dir], {
    afterMs: o.killAtMs,
    from: o.killFrom,
  });
  const problems: string[] = [];
  if (killed.signal !== 'SIGKILL' && killed.code !== 0)
    problems.push(`the run to be killed failed on its own (exit ${killed.code}): ${killed.stderr.trim().split('\n').at(-1)}`);

  const afterKill = await checkLakehouse(storage, o.engine);
  problems.push(...afterKill.problems.map((p) => `after the kill: ${p}`));
  const goldAfter = await goldVersions(storage);
  let phase: Phase;
  if (killed.signal !== 'SIGKILL') phase = 'finished';
  else if (afterKill.bronzeVersion === before.bronzeVersion) phase = killed.stageAt.bronze === undefined ? 'startup' : 'bronze';
  else if (afterKill.processed < afterKill.bronzeVersion) phase = 'silver';
  else phase = goldAfter.every((v, i) => v > goldBefore[i]!) ? 'after gold' : 'gold';

  const args = ['--events', String(o.recoveryEvents), '--seed', String(o.seed + 100_000), '--days', '30', '--out', o.dir];
  let recovered = true;
  if (o.recoverInProcess) {
    await runCommand(args, o.engine, new Writable({ write: (_c, _e, done) => done() })).catch((err: Error) => {
      recovered = false;
      problems.push(`the next cli run failed: ${err.message}`);
    });
  } else {
    const recovery = await cliRun(args);
    recovered = recovery.code === 0;
    if (!recovered) problems.push(`the next cli run failed (exit ${recovery.code}): ${recovery.stderr.trim().split('\n').at(-1)}`);
  }
  const afterRecovery = await checkLakehouse(storage, o.engine, { complete: true });
  problems.push(...afterRecovery.problems.map((p) => `after the next run: ${p}`));

  let orphanFiles = 0,
    orphanBytes = 0,
    removedFiles = 0,
    removedBytes = 0;
  for (const table of Object.keys(afterRecovery.versions)) {
    for (const f of (await vacuumTable(storage, table, { retentionHours: 0, force: true, temporaryMinAgeHours: 0 })).files) {
      if (f.reason === 'untracked') {
        orphanFiles++;
        orphanBytes += f.size;
      } else {
        removedFiles++;
        removedBytes += f.size;
      }
    }
  }
  const afterVacuum = await checkLakehouse(storage, o.engine, { complete: true });
  problems.push(...afterVacuum.problems.map((p) => `after VACUUM: ${p}`));
  if (afterVacuum.untrackedFiles > 0) problems.push(`after VACUUM ${afterVacuum.untrackedFiles} files that no commit names are left`);
  if (afterKill.untrackedFiles > 0 && orphanFiles === 0 && afterRecovery.untrackedFiles > 0) problems.push('VACUUM removed none of the orphans');
  const finishedWorkMs = phase === 'finished' && killed.stageAt.bronze !== undefined ? killed.ms - killed.stageAt.bronze : undefined;
  return {
    trial: o.trial,
    killAtMs: o.killAtMs,
    killedAfterMs: killed.ms,
    finishedWorkMs,
    phase,
    afterKill,
    recovered,
    afterRecovery,
    orphanFiles,
    orphanBytes,
    removedFiles,
    removedBytes,
    afterVacuum,
    problems,
  };
}

/**
 * The CI-sized kill trials on the lakehouse at `dir` (a folder, or an s3:// or az:// address): an
 * unkilled first run, then `trials` runs each killed in its own slice of the working time (from the
 * first progress line to the exit), so bronze, silver and gold all get some; the next run in-process.
 * Used by test/reliability/crash.test.ts (a folder) and test/object-storage/crash.test.ts (the stores).
 */
export async function killTrials(dir: string, engine: Engine, o: { trials: number; events: number }): Promise<CrashTrial[]> {
  const first = await cliRun(['--events', String(o.events), '--seed', '1', '--days', '30', '--out', dir]);
  if (first.code !== 0) throw new Error(`the unkilled first run on ${dir} failed (exit ${first.code}): ${first.stderr}`);
  const work = first.ms - first.stageAt.bronze!;
  const results: CrashTrial[] = [];
  for (let i = 0; i < o.trials; i++) {
    const killAtMs = Math.round(((i + Math.random()) / o.trials) * work);
    results.push(
      await crashTrial({
        dir,
        engine,
        trial: i + 1,
        killAtMs,
        killFrom: 'first-output',
        events: o.events,
        recoveryEvents: 300,
        seed: 10 + i,
        recoverInProcess: true,
      }),
    );
  }
  return results;
}

/** One line per trial: where the kill landed, what the checks found. */
export function describeTrials(results: readonly CrashTrial[]): string {
  return formatTable(
    results.map((r) => ({
      trial: r.trial,
      kill_ms_after_startup: r.killAtMs,
      phase: r.phase,
      batches_checked: r.afterKill.batchesChecked,
      orphan_files_reclaimed: r.orphanFiles,
      orphan_bytes_reclaimed: r.orphanBytes,
      problems: r.problems.join('; ') || 'none',
    })),
  );
}

export interface ConcurrentTrial {
  trial: number;
  /** commits a process reported that the log does not hold as its own */
  lost: number;
  /** a version two processes both reported for one table */
  overwritten: number;
  exits: (number | null)[];
  check: LakehouseCheck;
  problems: string[];
  ms: number;
}

/**
 * Two `cli run`s on one folder at once: both exit 0; every commit each reports is in the log as
 * its own (bronze: its batch id; other tables: a version nobody else reported); each new bronze
 * version is taken in by silver exactly once; versions stay contiguous (the validator) and every
 * batch is whole (SPEC §2).
 */
export async function concurrentTrial(o: { dir: string; engine: Engine; trial: number; events: number; seeds: [number, number] }): Promise<ConcurrentTrial> {
  const storage = openLocation(o.dir);
  const started = Date.now();
  const bronzeBefore = (await checkLakehouse(storage, o.engine)).bronzeVersion;
  const runs = await Promise.all(o.seeds.map((s) => cliRun(['--events', String(o.events), '--seed', String(s), '--days', '30', '--out', o.dir])));
  const problems: string[] = [];
  runs.forEach((r, i) => {
    if (r.code !== 0) problems.push(`run ${i + 1} exited ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
  });
  let lost = 0;
  let overwritten = 0;
  const claimed = new Map<string, number>();
  const processed: number[] = [];
  for (const r of runs) {
    const batch = /^batch (\S+):/m.exec(r.stdout)?.[1];
    const bronze = /^ {2}bronze\/events {6}version (\d+)/m.exec(r.stdout)?.[1];
    if (batch && bronze !== undefined) {
      const actions: Action[] = await readCommit(storage, TABLES.bronze, Number(bronze)).catch(() => []);
      const info = actions.find(isCommitInfo)?.commitInfo;
      if (info?.operationParameters?.batchId !== batch) {
        lost++;
        problems.push(`bronze version ${bronze} does not hold batch ${batch}`);
      }
    }
    for (const m of r.stdout.matchAll(/^ {2}(gold\/\S+|bronze\/events)\s+version (\d+)/gm)) {
      const key = `${m[1]}@${m[2]}`;
      claimed.set(key, (claimed.get(key) ?? 0) + 1);
      if (!(await listLog(storage, m[1]!)).commits.has(Number(m[2]))) {
        lost++;
        problems.push(`${key} is not in the log`);
      }
    }
    for (const m of r.stdout.matchAll(/^ {2}silver \(bronze v(\d+),/gm)) processed.push(Number(m[1]));
  }
  for (const [key, n] of claimed) {
    if (n > 1) {
      overwritten++;
      problems.push(`${key} was reported by both runs`);
    }
  }
  const expected = [...Array(runs.filter((r) => r.code === 0).length).keys()].map((i) => bronzeBefore + 1 + i);
  if (JSON.stringify(processed.sort((a, b) => a - b)) !== JSON.stringify(expected)) {
    problems.push(`silver took in bronze versions ${JSON.stringify(processed)}; expected each of ${JSON.stringify(expected)} once`);
  }
  const check = await checkLakehouse(storage, o.engine, { complete: true });
  problems.push(...check.problems);
  return { trial: o.trial, lost, overwritten, exits: runs.map((r) => r.code), check, problems, ms: Date.now() - started };
}

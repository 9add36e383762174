import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Engine } from '../../src/engine/types.ts';
import { GOLD_TABLES, TABLES } from '../../src/pipeline/tables.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import type { RunOptions } from '../../src/worker/protocol.ts';
import { CHROMIUM, CHROMIUM_ARGS, waitForEngine } from '../e2e/harness.ts';
import { checkGold } from './lineage-check.ts';
import { checkLakehouse, type LakehouseCheck } from './invariants.ts';

/**
 * Crash trials of the app in headless Chromium, shared by the e2e test
 * (test/e2e/crash.e2e.test.ts) and the script that prints figures (`scripts/crash-trials.ts
 * --browser`). A run of the pipeline in the built app is killed at a random moment — its worker
 * terminated, or its tab closed with the browser — the same profile (the same OPFS) is opened
 * again, and every table's files are copied out of OPFS through the worker's api into a folder,
 * where the independent validator and the SPEC §2 checks of invariants.ts read them.
 */

/**
 * Every file of the app's lakehouse in OPFS (through the worker's api: listFiles, readFile), copied
 * into `dir` (emptied first) with its modification time, so Node code can read it as a NodeStorage.
 */
export async function copyOutOfOpfs(page: Page, dir: string): Promise<{ files: number; bytes: number }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = await page.evaluate(() => window.lakehouse.listFiles(''));
  let bytes = 0;
  for (let i = 0; i < files.length; i += 50) {
    const chunk = files.slice(i, i + 50);
    const contents = await page.evaluate(
      async (paths) => {
        const out: string[] = [];
        for (const p of paths) {
          const data = await window.lakehouse.readFile(p);
          const url = await new Promise<string>((done) => {
            const reader = new FileReader();
            reader.onload = () => done(reader.result as string);
            reader.readAsDataURL(new Blob([data as Uint8Array<ArrayBuffer>]));
          });
          out.push(url.slice(url.indexOf(',') + 1));
        }
        return out;
      },
      chunk.map((f) => f.path),
    );
    for (const [j, f] of chunk.entries()) {
      const target = join(dir, ...f.path.split('/'));
      const data = Buffer.from(contents[j]!, 'base64');
      if (data.length !== f.size) throw new Error(`copying ${f.path} out of OPFS: ${data.length} bytes, listed as ${f.size}`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, data);
      await utimes(target, new Date(f.modificationTime), new Date(f.modificationTime));
      bytes += data.length;
    }
  }
  return { files: files.length, bytes };
}

export type KillMode = 'worker' | 'tab';

/**
 * One profile (one OPFS) of headless Chromium with the app open in one tab. Service workers are
 * blocked so that DuckDB's wasm is fetched from the server, where it can be held back: a reopened
 * page then shows the lakehouse as the kill left it, before its engine starts and it finishes the
 * stopped run.
 */
export class BrowserLab {
  context!: BrowserContext;
  page!: Page;
  /** console errors and uncaught exceptions of pages and workers */
  readonly errors: string[] = [];
  /** while set, the engine's wasm waits for it */
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;

  private constructor(
    readonly profile: string,
    readonly url: string,
  ) {}

  static async open(profile: string, url: string): Promise<BrowserLab> {
    const lab = new BrowserLab(profile, url);
    await lab.launch();
    await lab.ready(lab.page);
    return lab;
  }

  /** Launch Chromium on the profile and open the app in its first tab (its engine may be held: see `kill`). */
  async launch(): Promise<void> {
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      serviceWorkers: 'block',
    });
    this.context.on('weberror', (e) => void this.errors.push(`uncaught: ${e.error().message}`));
    await this.context.route(/duckdb-eh-[^/]*\.wasm$/, async (route) => {
      await this.held;
      await route.continue();
    });
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    await this.page.goto(this.url);
  }

  async ready(page: Page): Promise<void> {
    const status = await waitForEngine(page, 120_000);
    if (!/^Engine ready/.test(status)) throw new Error(`the app did not start: ${status}`);
  }

  /** Start a run in the page and return at once; `runState` says how it ended. */
  async startRun(options: RunOptions): Promise<void> {
    await this.page.evaluate((o) => {
      const w = window as unknown as { trialRun?: string };
      w.trialRun = 'running';
      void window.lakehouse.run(o).then(
        () => (w.trialRun = 'done'),
        (e: Error) => (w.trialRun = `failed: ${e.message}`),
      );
    }, options);
  }

  async runState(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as { trialRun?: string }).trialRun ?? 'none');
  }

  /** A whole run, awaited; the error message when it failed. */
  async run(options: RunOptions): Promise<string | undefined> {
    return this.page.evaluate(
      (o) =>
        window.lakehouse.run(o).then(
          () => undefined,
          (e: Error) => e.message,
        ),
      options,
    );
  }

  /**
   * Kill the run in flight. `worker`: the page terminates its worker (as a crash of the worker
   * would), then is reloaded. `tab`: the tab is closed, then the browser, which is started again
   * on the same profile. Either way the reopened page's engine is held back (its worker answers,
   * the logs and files read) until `startEngine`: what the kill left can be looked at before the
   * page finishes the stopped run.
   */
  async kill(mode: KillMode): Promise<void> {
    this.held = new Promise((resolve) => (this.release = resolve));
    if (mode === 'worker') {
      await this.page.evaluate(() => window.terminateLakehouseWorker());
      await this.page.reload();
    } else {
      await this.page.close();
      await this.context.close();
      await this.launch();
    }
    await this.page.waitForFunction(() => window.lakehouse !== undefined);
    await this.page.evaluate(() => window.lakehouse.ping());
  }

  /** Let the held engine load, and wait until it is ready: the page then finishes a stopped run by itself. */
  async startEngine(): Promise<void> {
    this.release?.();
    this.held = undefined;
    await this.ready(this.page);
  }

  /** The tables still behind once the page's own repair (started when its engine is ready) has ended, or `timeoutMs` has passed. */
  async behindAfterRepair(timeoutMs: number): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const behind = await this.page.evaluate(() => window.lakehouse.lineage().then((l) => l.behind));
      if (behind.length === 0 || Date.now() > until) return behind;
      await sleep(500);
    }
  }

  /** Every file of the lakehouse in OPFS, copied into `dir` (emptied first). */
  async copyOut(dir: string): Promise<{ files: number; bytes: number }> {
    return copyOutOfOpfs(this.page, dir);
  }

  /** The lakehouse copied out of OPFS into `dir`, checked by the validator and SPEC §2. */
  async check(engine: Engine, dir: string, complete = false): Promise<LakehouseCheck> {
    await this.copyOut(dir);
    return checkLakehouse(new NodeStorage(dir), engine, { complete });
  }

  async temporaryFiles(): Promise<{ path: string; size: number }[]> {
    return this.page.evaluate(() => window.lakehouse.listTemporaryFiles(''));
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => {});
  }
}

export type BrowserPhase = 'before bronze commit' | 'silver' | 'gold' | 'after gold' | 'finished';

export interface BrowserCrashTrial {
  trial: number;
  mode: KillMode;
  killAtMs: number;
  phase: BrowserPhase;
  /** when the run ended before its kill: how long it took (the kill window is then shortened) */
  finishedMs?: number;
  afterKill: LakehouseCheck;
  /** gold tables whose rows differ from their SQL over the latest silver after the kill, and of those the lineage marks not up to date */
  staleGold: number;
  staleMarked: number;
  /** the tables the reopened page's lineage said were behind their inputs, before its engine started */
  behindAfterKill: string[];
  /** when some were: the lakehouse after the page finished the stopped run (every batch in, gold equal to its SQL over silver) */
  repaired?: LakehouseCheck;
  /** temporary files (`.<uuid>.tmp`) in OPFS after the kill: writes cut short */
  tempAfterKill: number;
  tempBytesAfterKill: number;
  recovered: boolean;
  afterRecovery: LakehouseCheck;
  /** what VACUUM (force, 0 h, in the browser) deleted after the next run */
  orphanFiles: number;
  orphanBytes: number;
  tempFilesReclaimed: number;
  removedFiles: number;
  removedBytes: number;
  afterVacuum: LakehouseCheck;
  tempAfterVacuum: number;
  problems: string[];
}

const options = (events: number, seed: number): RunOptions => ({ events, seed, days: 30, invalidRate: 0.01 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const goldVersions = (c: LakehouseCheck) => GOLD_TABLES.map((g) => c.versions[`gold/${g}`] ?? -1);

/**
 * One trial on the lab's lakehouse: a run killed `killAtMs` after it started; every table, copied
 * out of OPFS, must open at a committed version and pass the validator with SPEC §2 intact for
 * what silver processed, and the browser's own reader must see exactly the committed bronze rows
 * (files of the cut-short write are invisible); the next run in the reopened app must complete
 * with everything processed and gold equal to its SQL; VACUUM (force, 0 h) in the browser then
 * removes what the kill left — orphaned data files and temporary files — and the lakehouse must
 * still check out, with no file left that no commit names.
 */
export async function browserCrashTrial(
  lab: BrowserLab,
  o: {
    engine: Engine;
    trial: number;
    mode: KillMode;
    killAtMs: number;
    events: number;
    recoveryEvents: number;
    seed: number;
    /** the check after the previous trial (or a first run), to tell where the kill landed */
    before: LakehouseCheck;
    /** a scratch folder for the copies */
    work: string;
  },
): Promise<BrowserCrashTrial> {
  const problems: string[] = [];
  const started = Date.now();
  await lab.startRun(options(o.events, o.seed));
  await sleep(Math.max(0, o.killAtMs - (Date.now() - started)));
  const state = await lab.runState();
  const finishedMs = state === 'done' ? Date.now() - started : undefined;
  if (state.startsWith('failed')) problems.push(`the run to be killed failed on its own: ${state}`);
  await lab.kill(o.mode);

  const afterKill = await lab.check(o.engine, o.work);
  problems.push(...afterKill.problems.map((p) => `after the kill: ${p}`));
  // Gold left behind by the kill is marked by the lineage the reopened page reads, and each gold table's rows are what its SQL gives over the silver version its log records.
  const marked = await lab.page.evaluate(() => window.lakehouse.lineage().then((l) => l.behind));
  let staleGold = 0;
  let staleMarked = 0;
  if (GOLD_TABLES.every((g) => afterKill.versions[`gold/${g}`] !== undefined)) {
    const { gold } = await checkGold(new NodeStorage(o.work), o.engine);
    for (const g of gold) {
      const isMarked = marked.includes(g.table);
      if (g.stale) {
        staleGold++;
        if (isMarked) staleMarked++;
      }
      if (g.stale && !isMarked) problems.push(`after the kill ${g.table} v${g.version} is stale but the page's lineage says it is up to date`);
      if (!g.matchesRecorded)
        problems.push(`after the kill ${g.table} v${g.version} does not equal its SQL over silver/events v${g.recorded}, the version its log records`);
    }
  }
  const temp = await lab.temporaryFiles();
  let phase: BrowserPhase;
  if (state === 'done') phase = 'finished';
  else if (afterKill.bronzeVersion === o.before.bronzeVersion) phase = 'before bronze commit';
  else if (afterKill.processed < afterKill.bronzeVersion) phase = 'silver';
  else phase = goldVersions(afterKill).every((v, i) => v > goldVersions(o.before)[i]!) ? 'after gold' : 'gold';

  // The engine starts: the page finishes the stopped run by itself, and the lakehouse is then as an uninterrupted run leaves it.
  await lab.startEngine();
  // Readers in the browser see only what commits name (the repair leaves bronze as it is).
  if (afterKill.versions[TABLES.bronze] !== undefined) {
    const page = await lab.page.evaluate(() => window.lakehouse.rows('bronze/events', undefined, 1));
    if (page.total !== afterKill.bronzeRows) problems.push(`after the kill the app reads ${page.total} bronze rows, the commits hold ${afterKill.bronzeRows}`);
  }
  let repaired: LakehouseCheck | undefined;
  if (marked.length > 0) {
    const behind = await lab.behindAfterRepair(180_000);
    if (behind.length > 0) problems.push(`three minutes after the engine started, ${behind.join(', ')} are still behind`);
    repaired = await lab.check(o.engine, o.work, true);
    problems.push(...repaired.problems.map((p) => `after the page finished the stopped run: ${p}`));
  }

  const failed = await lab.run(options(o.recoveryEvents, o.seed + 100_000));
  if (failed !== undefined) problems.push(`the next run failed: ${failed}`);
  const afterRecovery = await lab.check(o.engine, o.work, true);
  problems.push(...afterRecovery.problems.map((p) => `after the next run: ${p}`));

  const vacuumed = await lab.page.evaluate(() => window.lakehouse.vacuum({ retentionHours: 0, force: true, temporaryMinAgeHours: 0 }));
  let orphanFiles = 0,
    orphanBytes = 0,
    tempFilesReclaimed = 0,
    removedFiles = 0,
    removedBytes = 0;
  for (const r of vacuumed) {
    for (const f of r.files) {
      if (f.reason === 'untracked') {
        orphanFiles++;
        orphanBytes += f.size;
      } else {
        removedFiles++;
        removedBytes += f.size;
      }
      if (/(^|\/)\..*\.tmp$|\.crswap$/.test(f.path)) tempFilesReclaimed++;
    }
  }
  const afterVacuum = await lab.check(o.engine, o.work, true);
  problems.push(...afterVacuum.problems.map((p) => `after VACUUM: ${p}`));
  if (afterVacuum.untrackedFiles > 0) problems.push(`after VACUUM ${afterVacuum.untrackedFiles} files that no commit names are left`);
  const tempAfterVacuum = (await lab.temporaryFiles()).length;
  if (tempAfterVacuum > 0) problems.push(`after VACUUM ${tempAfterVacuum} temporary files are left in OPFS`);
  if (afterRecovery.untrackedFiles > 0 && orphanFiles === 0) problems.push('VACUUM removed none of the orphans');
  return {
    trial: o.trial,
    mode: o.mode,
    killAtMs: o.killAtMs,
    phase,
    finishedMs,
    afterKill,
    staleGold,
    staleMarked,
    behindAfterKill: marked,
    repaired,
    tempAfterKill: temp.length,
    tempBytesAfterKill: temp.reduce((s, f) => s + f.size, 0),
    recovered: failed === undefined,
    afterRecovery,
    orphanFiles,
    orphanBytes,
    tempFilesReclaimed,
    removedFiles,
    removedBytes,
    afterVacuum,
    tempAfterVacuum,
    problems,
  };
}

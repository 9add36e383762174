import type { Engine } from '../engine/types.ts';
import type { LineCheckers } from '../pipeline/check-lines.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { parseExpectations, type Expectation } from '../pipeline/expectations.ts';
import { generateEvents } from '../pipeline/generator/index.ts';
import { runBatch, type RunSummary } from '../pipeline/lakehouse.ts';
import { jsonlChunks } from '../pipeline/lines.ts';
import { repairLakehouse, type RepairResult } from '../pipeline/repair.ts';
import { stopAfterCommit, StoppedAfterCommitError } from '../pipeline/stop-after-commit.ts';
import type { Storage } from '../storage/types.ts';
import { checkRunOptions, type RunOptions } from '../pipeline/run-options.ts';

export type ProgressCallback = (p: Progress) => void;

/**
 * Run one thing at a time across every tab of this origin (Web Locks), or in this process only;
 * `onWait` is told when `fn` cannot start at once because another holds the lock.
 */
export type Exclusive = <T>(fn: () => Promise<T>, onWait?: () => void) => Promise<T>;

/** What a run that waits for the lock shows. */
export const WAITING_MESSAGE = 'Waiting for another tab’s run to finish…';

/**
 * Runs and uploads go through `runBatch`, exactly as `cli run` and `cli ingest` do. One at a
 * time; `cancel` aborts the one in flight, which then stops at its next check and leaves every
 * table at its last committed version.
 */
export class Runs {
  private controller: AbortController | undefined;
  private readonly expectations: Expectation[];

  constructor(
    private readonly engine: Engine,
    private readonly storage: Storage,
    private readonly goldSql: Record<string, string>,
    private readonly silverSql: Record<string, string>,
    expectationsText: string,
    private readonly exclusive: Exclusive,
    /** told when a run ended, whatever the outcome: tables may have new versions */
    private readonly onChanged: () => void,
    /** threads for silver's line checks (none: the lines are checked on this thread) */
    private readonly checkers: () => LineCheckers | undefined = () => undefined,
    /** a test hook: the commit after which a run stops, as a crash there would stop it (see stop-after-commit.ts) */
    private readonly stopAfter: () => string | undefined = () => undefined,
  ) {
    this.expectations = parseExpectations(expectationsText, 'contracts/expectations.yml');
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  run(options: RunOptions, onProgress?: ProgressCallback): Promise<RunSummary> {
    const o = checkRunOptions(options);
    return this.batch(() => generateEvents({ events: o.events, seed: o.seed, days: o.days, invalidRate: o.invalidRate }), 'generator', onProgress, o.events);
  }

  /** Finish what a run stopped earlier left undone (what the page does when it opens); nothing when all is up to date. */
  repair(onProgress?: ProgressCallback): Promise<RepairResult> {
    return this.exclusively(onProgress, (ctx) => repairLakehouse(ctx));
  }

  ingest(fileName: string, bytes: Uint8Array, onProgress?: ProgressCallback): Promise<RunSummary> {
    const name = fileName.split(/[\\/]/).pop() || 'upload.jsonl';
    // Refuses empty and binary files before anything is written.
    const chunks = jsonlChunks(bytes, name);
    return this.batch(() => chunks, `upload:${name}`, onProgress);
  }

  /** Stop the run in flight; false when there is none. */
  cancel(): boolean {
    if (!this.controller) return false;
    this.controller.abort();
    return true;
  }

  /** Delete every table. */
  async reset(): Promise<void> {
    if (this.running) throw new Error('a run is in progress: cancel it, or wait for it to finish, before resetting');
    await this.exclusive(async () => {
      await this.storage.deleteDir('');
      // The pipeline's working copy of silver belongs to the lakehouse just deleted.
      this.engine.run('DROP TABLE IF EXISTS silver_events');
    });
    this.onChanged();
  }

  private batch(chunks: () => Iterable<string[]>, source: string, onProgress: ProgressCallback | undefined, expected?: number): Promise<RunSummary> {
    return this.exclusively(onProgress, (ctx) => runBatch(ctx, chunks(), source, expected));
  }

  /** `work` on a pipeline context, one at a time across tabs, cancellable. */
  private async exclusively<T>(onProgress: ProgressCallback | undefined, work: (ctx: PipelineContext) => Promise<T>): Promise<T> {
    if (this.running) throw new Error('a run is already in progress: wait for it to finish or cancel it');
    const controller = new AbortController();
    this.controller = controller;
    try {
      return await this.exclusive(async () => {
        const stop = this.stopAfter();
        const ctx: PipelineContext = {
          engine: this.engine,
          storage: stop ? stopAfterCommit(this.storage, stop, (path, n) => {
            throw new StoppedAfterCommitError(path, n);
          }) : this.storage,
          expectations: this.expectations,
          goldSql: this.goldSql,
          silverSql: this.silverSql,
          signal: controller.signal,
          ...withCheckers(this.checkers()),
          onProgress: onProgress && ((p) => {
            try {
              onProgress(p);
            } catch {
              // A page that went away does not stop the run.
            }
          }),
        };
        return work(ctx);
      }, () => onProgress?.({ stage: 'bronze', done: 0, waiting: WAITING_MESSAGE }));
    } finally {
      this.controller = undefined;
      this.onChanged();
    }
  }
}

const withCheckers = (checkers: LineCheckers | undefined): Pick<PipelineContext, 'checkers'> => (checkers ? { checkers } : {});

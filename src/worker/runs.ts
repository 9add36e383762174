import type { Engine } from '../engine/types.ts';
import type { LineCheckers } from '../pipeline/check-lines.ts';
import type { ParquetEncoder } from '../pipeline/encoder.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { parseExpectations, type Expectation } from '../pipeline/expectations.ts';
import type { CheckedSource } from '../pipeline/checked-chunks.ts';
import { generateEvents, type GenerateOptions } from '../pipeline/generator/index.ts';
import { runBatch, type RunSummary } from '../pipeline/lakehouse.ts';
import { jsonlChunks } from '../pipeline/lines.ts';
import { repairLakehouse, type RepairResult } from '../pipeline/repair.ts';
import { stopAfterCommit, StoppedAfterCommitError } from '../pipeline/stop-after-commit.ts';
import type { Storage } from '../storage/types.ts';
import { joinPath } from '../storage/types.ts';
import { LOG_DIR, decodeDataPath } from '../delta/actions.ts';
import { deletionVectorFile } from '../delta/deletion-vectors.ts';
import { loadSnapshot } from '../delta/snapshot.ts';
import { errorCode } from '../errors.ts';
import { CancelledError } from '../pipeline/context.ts';
import { KNOWN_TABLES } from './catalog.ts';
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
  private repairing: Promise<RepairResult> | undefined;
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
    /** where a generated run's lines are made and checked, if not on this thread (the worker's: browserProducer) */
    private readonly producer: (options: GenerateOptions) => CheckedSource | undefined = () => undefined,
    /** a test hook: the commit after which a run stops, as a crash there would stop it (see stop-after-commit.ts) */
    private readonly stopAfter: () => string | undefined = () => undefined,
    /** a run's Parquet encoder on another thread, if any (the worker's: browserEncoder) */
    private readonly encoder: () => Promise<ParquetEncoder | undefined> = async () => undefined,
  ) {
    this.expectations = parseExpectations(expectationsText, 'contracts/expectations.yml');
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  run(options: RunOptions, onProgress?: ProgressCallback): Promise<RunSummary> {
    const o = checkRunOptions(options);
    const generate = { events: o.events, seed: o.seed, days: o.days, invalidRate: o.invalidRate };
    const produced = this.producer(generate);
    if (produced) return this.exclusively(onProgress, (ctx) => runBatch(ctx, produced, 'generator', o.events));
    return this.batch(() => generateEvents(generate), 'generator', onProgress, o.events);
  }

  /**
   * Finish what a run stopped earlier left undone (what the page does when it opens); nothing when
   * all is up to date. A run asked for meanwhile waits for it (and would have repaired first anyway).
   */
  repair(onProgress?: ProgressCallback): Promise<RepairResult> {
    const repair = this.exclusive(() => repairLakehouse(this.context(undefined, onProgress))).finally(() => {
      if (this.repairing === repair) this.repairing = undefined;
      this.onChanged();
    });
    this.repairing = repair;
    return repair;
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

  /** `work` on a pipeline context, one at a time across tabs, cancellable; after a repair in flight. */
  private async exclusively<T>(onProgress: ProgressCallback | undefined, work: (ctx: PipelineContext) => Promise<T>): Promise<T> {
    if (this.running) throw new Error('a run is already in progress: wait for it to finish or cancel it');
    const controller = new AbortController();
    this.controller = controller;
    try {
      await this.repairing?.catch(() => {});
      return await this.exclusive(
        async () => {
          const before = new Set((await this.storage.list('')).map((f) => f.path));
          const encoder = await this.encoder();
          try {
            return await work({ ...this.context(controller.signal, onProgress), ...(encoder ? { encoder } : {}) });
          } catch (err) {
            if (errorCode(err) === CancelledError.code) await removeUncommitted(this.storage, before);
            throw err;
          } finally {
            encoder?.close();
          }
        },
        () => onProgress?.({ stage: 'bronze', done: 0, waiting: WAITING_MESSAGE }),
      );
    } finally {
      this.controller = undefined;
      this.onChanged();
    }
  }

  private context(signal: AbortSignal | undefined, onProgress: ProgressCallback | undefined): PipelineContext {
    const stop = this.stopAfter();
    return {
      engine: this.engine,
      storage: stop
        ? stopAfterCommit(this.storage, stop, (path, n) => {
            throw new StoppedAfterCommitError(path, n);
          })
        : this.storage,
      expectations: this.expectations,
      goldSql: this.goldSql,
      silverSql: this.silverSql,
      ...(signal ? { signal } : {}),
      ...withCheckers(this.checkers()),
      onProgress:
        onProgress &&
        ((p) => {
          try {
            onProgress(p);
          } catch {
            // A page that went away does not stop the run.
          }
        }),
    };
  }
}

/**
 * After a cancelled run: delete the data files it wrote that no commit took in (files that were
 * not there before the run and that the latest version of their table does not use). The run held
 * the lock, so no other writer can have written them; what it committed stays.
 */
async function removeUncommitted(storage: Storage, before: ReadonlySet<string>): Promise<void> {
  const added = (await storage.list('')).map((f) => f.path).filter((p) => !before.has(p) && !p.includes(`/${LOG_DIR}/`));
  for (const table of KNOWN_TABLES) {
    const mine = added.filter((p) => p.startsWith(`${table}/`));
    if (mine.length === 0) continue;
    const live = new Set<string>();
    const snapshot = await loadSnapshot(storage, table).catch(() => undefined);
    for (const a of snapshot?.files ?? []) {
      live.add(joinPath(table, decodeDataPath(a.path)));
      const vector = a.deletionVector && deletionVectorFile(a.deletionVector);
      if (vector) live.add(joinPath(table, vector));
    }
    for (const p of mine) if (!live.has(p)) await storage.delete(p);
  }
}

const withCheckers = (checkers: LineCheckers | undefined): Pick<PipelineContext, 'checkers'> => (checkers ? { checkers } : {});

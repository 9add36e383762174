import type { Engine } from '../engine/types.ts';
import { CodedError } from '../errors.ts';
import type { Storage } from '../storage/types.ts';
import type { LineCheckers } from './check-lines.ts';
import type { ParquetEncoder } from './encoder.ts';
import type { Expectation } from './expectations.ts';

export type Stage = 'bronze' | 'silver' | 'gold';

export interface Progress {
  stage: Stage;
  /** rows (bronze, silver) or tables (gold) done so far */
  done: number;
  /** the total when known */
  total?: number;
  rowsPerSecond?: number;
  message?: string;
  /** the run has not started: it waits for another one (in another tab) to finish; what to show */
  waiting?: string;
}

/** Everything a pipeline step needs: where tables live, the engine, the rules, and a way to report. */
export interface PipelineContext {
  engine: Engine;
  storage: Storage;
  expectations: Expectation[];
  /** sql/gold/<table>.sql by table name */
  goldSql: Record<string, string>;
  /** sql/silver/<name>.sql by name: the checks silver runs in the engine (see silver/checks.ts) */
  silverSql: Record<string, string>;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** the clock, for ingestion times (tests pin it) */
  now?: () => number;
  /** checks lines on other threads while bronze is written (see check-lines.ts); else in line */
  checkers?: LineCheckers;
  /** encodes silver/events' Parquet on another thread (see encoder.ts); else here */
  encoder?: ParquetEncoder;
  /** rows past which silver_events moves to a compressed database (default COMPRESS_SILVER_ABOVE; tests lower it) */
  compressSilverAbove?: number;
  /** rows per bronze data file (default ROWS_PER_FILE; tests lower it) */
  bronzeFileRows?: number;
  /** rows per silver/events data file (default SILVER_FILE_ROWS; tests lower it) */
  silverFileRows?: number;
}

/** A run stopped by `cancel` (its AbortSignal) at its next check; every table is at its last commit. */
export class CancelledError extends CodedError {
  static readonly code = 'CANCELLED';
  override name = 'CancelledError';
  constructor() {
    super('the run was cancelled; every table is still at its last committed version');
  }
}

export function checkCancelled(ctx: PipelineContext): void {
  if (ctx.signal?.aborted) throw new CancelledError();
}

/** Reports progress at most every `intervalMs`, with a rows/s rate since the start. */
export function progressReporter(ctx: PipelineContext, stage: Stage, total?: number, intervalMs = 100) {
  const start = Date.now();
  let last = 0;
  return (done: number, force = false, message?: string): void => {
    const t = Date.now();
    if (!force && t - last < intervalMs) return;
    last = t;
    const seconds = (t - start) / 1000;
    ctx.onProgress?.({ stage, done, total, rowsPerSecond: seconds > 0 ? Math.round(done / seconds) : undefined, message });
  };
}

import { numRecords } from '../delta/snapshot.ts';
import { tryLoadSnapshot } from '../delta/writer.ts';
import { memoryLimit, outOfMemory } from '../engine/memory.ts';
import { CodedError } from '../errors.ts';
import type { PipelineContext, Stage } from './context.ts';
import { dropSilverEvents } from './silver/index.ts';
import { TABLES } from './tables.ts';

/**
 * The engine ran out of memory during a run: DuckDB's memory_limit was reached (or, in wasm, its
 * memory could not grow). Every table is at its last committed version, as after a full disk.
 */
export class EngineMemoryError extends CodedError {
  static readonly code = 'ENGINE_OUT_OF_MEMORY';
  override name = 'EngineMemoryError';
  /** its message says what its cause would (the cause's SQL and DuckDB's advice are not for the page) */
  readonly complete = true;
  constructor(
    readonly stage: Stage,
    readonly limit: string | undefined,
    /** the events silver/events holds at its last committed version (undefined when it cannot be read) */
    readonly silverEvents: number | undefined,
    detail: string,
    cause: unknown,
  ) {
    const next =
      stage === 'bronze'
        ? 'the batch was not taken in'
        : 'what reached bronze is kept and the next run (or opening the page) finishes it, once the engine has room';
    const held = silverEvents === undefined ? '' : ` with ${silverEvents.toLocaleString('en-US')} events in silver`;
    super(
      `the engine ran out of memory in ${stage} (DuckDB's memory limit ${limit ?? 'unknown'}; ${detail})${held}: ` +
        `the run stopped with every table at its last committed version, and ${next}. ` +
        'A lakehouse this large needs more memory than DuckDB-WASM has (4 GB at most): run it on the command line ' +
        '(`cli run --engine native`, or `--engine spark`), or start a new lakehouse here (export this one first); ' +
        'VACUUM frees disk, not memory',
      { cause },
    );
  }
}

/**
 * `err` as the run's error: DuckDB's out-of-memory error becomes an EngineMemoryError naming the
 * stage, the limit and silver's size, after the engine's copy of silver is let go (so the page's
 * other queries have room, and the next run reads silver again). Anything else as it was.
 */
export async function stoppedByMemory(ctx: PipelineContext, stage: Stage, err: unknown): Promise<unknown> {
  const detail = err instanceof EngineMemoryError ? undefined : outOfMemory(err);
  if (detail === undefined) return err;
  try {
    dropSilverEvents(ctx.engine);
  } catch {
    // The engine refusing even that is said by the message's next query failing too.
  }
  const silver = await tryLoadSnapshot(ctx.storage, TABLES.silver).catch(() => undefined);
  let events: number | undefined = silver ? 0 : undefined;
  for (const f of silver?.files ?? []) {
    const n = numRecords(f);
    events = events === undefined || n === null ? undefined : events + n;
  }
  return new EngineMemoryError(stage, memoryLimit(ctx.engine), events, detail, err);
}

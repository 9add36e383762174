import { BadLines, type BadKind } from './bad-lines.ts';
import { validate, type Config, type GenerateOptions } from './options.ts';
import { World } from './world.ts';

export { BAD_KIND_STAGE, BAD_KINDS, type BadKind } from './bad-lines.ts';
export { DEFAULT_BATCH_SIZE, DEFAULT_INVALID_RATE, DEFAULT_START, type GenerateOptions } from './options.ts';

/**
 * A seeded, deterministic event feed (SPEC §4): the same options give byte-identical lines, and
 * nothing depends on the wall clock. A discrete-event simulation in time order: creators write on
 * daily habits, works move through the stages with log-normal dwell times (submission is the
 * bottleneck), loop from revision back to writing, stall and get abandoned; released works draw
 * readers whose interest decays, and readers drop off with a probability that depends on their
 * progress. Memory holds only the live population, never the emitted events.
 *
 * Exactly `events` lines come out. Reader arrivals are paced so that the simulated span fills up
 * just as the count is reached; the feed is cut at the count, which keeps it a prefix in time.
 *
 * Bad lines (share `invalidRate`, at deterministic positions; each kind equally often):
 * - malformed_json: a valid line truncated mid-way (reject stage parse)
 * - missing_field: a required field removed (schema)
 * - mistyped_field: a number sent as a string, e.g. "words":"812" (schema)
 * - unknown_event_type: an event_type outside contract v1 (schema)
 * - out_of_range: e.g. progress_pct 140, negative words, an unknown stage (schema)
 * - future_timestamp: occurred_at moved to the year 2099, so it is in the future whenever the
 *   tests run; it passes the schema and is dropped by the expectation occurred_at_not_in_future
 * - duplicate: an earlier valid line re-sent verbatim, same event_id (passes the schema; the
 *   pipeline rejects it as stage duplicate)
 * All but duplicate replace a real event, as a broken producer would.
 *
 * Here: the feed, line by line. options.ts checks the options, world.ts is the simulation,
 * bad-lines.ts breaks lines on purpose, queue.ts orders the simulation's steps in time.
 */

/** Batches of raw JSONL lines (without newlines), `events` lines in total. */
export function generateEvents(options: GenerateOptions): Generator<string[], void, undefined> {
  const config = validate(options);
  return run(config, options.onBad);
}

function* run(config: Config, onBad?: (lineIndex: number, kind: BadKind) => void): Generator<string[], void, undefined> {
  const { events: total, batchSize } = config;
  const world = new World(config);
  const bad = new BadLines(config, total);
  let batch: string[] = [];
  for (let line = 0; line < total; line++) {
    world.lines = line;
    let text: string;
    const kind = bad.kindAt(line);
    if (kind === undefined) {
      text = world.next();
      bad.remember(text);
    } else {
      text = bad.make(kind, () => world.next());
      onBad?.(line, bad.lastKind);
    }
    batch.push(text);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The generator's options, as `cli run` takes them. */
export interface RunOptions {
  events: number;
  seed: number;
  days: number;
  invalidRate: number;
}

/**
 * The same defaults as `cli run` (DEFAULTS in src/cli/run.ts; a test holds them equal), so one
 * seed gives the same gold in the page and on the command line. Kept apart from the pipeline so
 * the page can show them without bundling it.
 */
export const RUN_DEFAULTS: Readonly<RunOptions> = { events: 10_000, seed: 42, days: 60, invalidRate: 0.01 };

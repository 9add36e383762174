/**
 * The options of a generated run — what `cli run` takes and the page's run form sends — with
 * their defaults and what each may be, in the words every front end says it. Imports nothing,
 * so the page has them without bundling the pipeline.
 */
export interface RunOptions {
  events: number;
  seed: number;
  days: number;
  invalidRate: number;
}

/** One seed gives the same gold in the page and on the command line. */
export const RUN_DEFAULTS: Readonly<RunOptions> = { events: 10_000, seed: 42, days: 60, invalidRate: 0.01 };

const wholeFrom = (min: number) => ({ rule: `a whole number ≥ ${min}`, ok: (n: number) => Number.isSafeInteger(n) && n >= min });

const RULES: Record<keyof RunOptions, { rule: string; ok: (n: number) => boolean }> = {
  events: wholeFrom(0),
  seed: wholeFrom(0),
  days: wholeFrom(1),
  invalidRate: { rule: 'a number from 0 to 1', ok: (n) => Number.isFinite(n) && n >= 0 && n <= 1 },
};

/** How an option is named where a person reads it. */
const LABELS: Record<keyof RunOptions, string> = { events: 'events', seed: 'seed', days: 'days', invalidRate: 'invalid rate' };

export const RUN_OPTION_KEYS = Object.keys(RULES) as (keyof RunOptions)[];

/** Why `value` cannot be option `key` (`must be a whole number ≥ 0, got -1`), or undefined when it can. */
export function runOptionProblem(key: keyof RunOptions, value: unknown, shown: string = String(value)): string | undefined {
  const { rule, ok } = RULES[key];
  return typeof value === 'number' && ok(value) ? undefined : `must be ${rule}, got ${shown}`;
}

/** `options`, or an error naming the first option that is not valid. */
export function checkRunOptions(options: RunOptions): RunOptions {
  for (const key of RUN_OPTION_KEYS) {
    const problem = runOptionProblem(key, options[key]);
    if (problem) throw new Error(`${LABELS[key]} ${problem}`);
  }
  return options;
}

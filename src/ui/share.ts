import { RUN_DEFAULTS, runOptionProblem, type RunOptions } from '../worker/protocol.ts';

/**
 * A run's options in the page's query string — `?seed=42&events=3000&days=60&invalid=0.01` — so a
 * link reproduces the same lakehouse elsewhere (the generator is deterministic).
 */
const PARAMS: readonly { key: keyof RunOptions; param: string }[] = [
  { key: 'seed', param: 'seed' },
  { key: 'events', param: 'events' },
  { key: 'days', param: 'days' },
  { key: 'invalidRate', param: 'invalid' },
];

const ok = (key: keyof RunOptions, n: number): boolean => runOptionProblem(key, n) === undefined;

/** What a link's query string says of a run: its options over the defaults, and the values it had to correct. */
export interface SharedRun {
  options: RunOptions;
  /** whether the link names any run option at all */
  named: boolean;
  /** one sentence per value that was not valid, e.g. `seed=abc must be a whole number ≥ 0: 42 is used` */
  corrections: string[];
}

export function readRunQuery(search: string, defaults: Readonly<RunOptions> = RUN_DEFAULTS): SharedRun {
  const query = new URLSearchParams(search);
  const options = { ...defaults };
  const corrections: string[] = [];
  let named = false;
  for (const { key, param } of PARAMS) {
    const text = query.get(param);
    if (text === null) continue;
    named = true;
    const n = text.trim() === '' ? NaN : Number(text);
    const problem = runOptionProblem(key, n, JSON.stringify(text));
    if (problem === undefined) options[key] = n;
    else corrections.push(`${param} ${problem}: ${defaults[key]} is used`);
  }
  return { options, named, corrections };
}

/** The run options a query string names, over the defaults; values that are not valid are ignored. */
export function runOptionsFromQuery(search: string, defaults: Readonly<RunOptions> = RUN_DEFAULTS): RunOptions {
  return readRunQuery(search, defaults).options;
}

/** `href` with the run options in its query string (other parameters and the hash kept). */
export function runLink(href: string, options: RunOptions): string {
  const url = new URL(href);
  for (const { key, param } of PARAMS) {
    const n = options[key];
    if (ok(key, n)) url.searchParams.set(param, String(n));
    else url.searchParams.delete(param);
  }
  return url.href;
}

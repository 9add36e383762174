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

/** The run options a query string names, over the defaults; values that are not valid are ignored. */
export function runOptionsFromQuery(search: string, defaults: Readonly<RunOptions> = RUN_DEFAULTS): RunOptions {
  const query = new URLSearchParams(search);
  const options = { ...defaults };
  for (const { key, param } of PARAMS) {
    const text = query.get(param);
    if (text === null || text.trim() === '') continue;
    const n = Number(text);
    if (ok(key, n)) options[key] = n;
  }
  return options;
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

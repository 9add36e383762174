/** Linear scales and "nice" ticks for the hand-drawn SVG charts. */

/**
 * The width a chart last measured. A chart mounted again starts at it, so the dashboard is drawn
 * once at its real width, not first at a guess and then again.
 */
export const chartWidth = { last: 600 };

export interface Scale {
  (v: number): number;
  domain: [number, number];
  ticks: number[];
}

/** A step of 1, 2 or 5 × 10^k that gives about `count` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

/**
 * Map [lo, hi] (widened to nice ticks, and to include 0 when `zero`) onto [from, to] pixels.
 */
export function linear(values: number[], from: number, to: number, opts: { zero?: boolean; ticks?: number } = {}): Scale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (opts.zero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === hi) {
    hi = lo + 1;
    if (!opts.zero) lo -= 1;
  }
  const step = niceStep(lo, hi, opts.ticks ?? 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  const scale = ((v: number) => from + ((v - lo) / (hi - lo)) * (to - from)) as Scale;
  scale.domain = [lo, hi];
  scale.ticks = ticks;
  return scale;
}

const DAY = 86_400_000;

/** Day ticks (ms) for a time axis: about `count` of them, on whole days. */
export function dayTicks(lo: number, hi: number, count: number): number[] {
  const days = Math.max(1, Math.ceil((hi - lo) / DAY / Math.max(1, count)));
  const step = [1, 2, 7, 14, 30, 61, 91, 182, 365].find((s) => s >= days) ?? days;
  const start = Math.ceil(lo / DAY) * DAY;
  const out: number[] = [];
  for (let t = start; t <= hi; t += step * DAY) out.push(t);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mar 5" for a day tick, with the year when the axis spans years. */
export function dayLabel(ms: number, withYear = false): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${withYear ? ` ${d.getUTCFullYear()}` : ''}`;
}

const int = new Intl.NumberFormat('en-US');

/** Short tick text: 1.2k, 35k, 1.5M. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (Number.isInteger(v)) return int.format(v);
  return String(+v.toPrecision(3));
}

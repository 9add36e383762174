import type { Bar, Dot, LinePoint } from './charts/marks.ts';
import { num, pct } from './format.ts';
import type { Kpi } from './kpis.ts';

type Row = Record<string, unknown>;
const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const day = (v: unknown): number => Date.parse(`${String(v)}T00:00:00Z`);

/** Daily series offer a choice of measure; the first is the default. */
export const MEASURES: Partial<Record<Kpi, { column: string; label: string }[]>> = {
  writing_velocity_daily: [
    { column: 'words', label: 'words written' },
    { column: 'sessions', label: 'writing sessions' },
    { column: 'active_creators', label: 'active creators' },
    { column: 'words_per_creator', label: 'words per creator' },
  ],
  revision_churn_daily: [
    { column: 'churn_ratio', label: 'churn ratio (words changed / written)' },
    { column: 'revisions', label: 'revisions' },
    { column: 'words_changed', label: 'words changed' },
    { column: 'works_revised', label: 'works revised' },
  ],
};

/** The dropoff chart shows the works with the most readers; the table has them all. */
export const TOP = 15;

const BAND_RANGES: Record<string, string> = { bounce: 'under 30 s', skim: '30 s – 5 min', read: '5 – 30 min', deep: '30 min or more' };

const tipOf = (r: Row, first: string): string =>
  `${first}\n${Object.entries(r)
    .filter(([k]) => k !== 'day')
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? num(v) : String(v)}`)
    .join('\n')}`;

export function linePoints(rows: readonly Row[], column: string): LinePoint[] {
  return rows.map((r) => ({ x: day(r.day), y: n(r[column]), tip: tipOf(r, String(r.day)) }));
}

/** Most readers first, then by work id. */
const byReaders = (a: Row, b: Row): number => (n(b.readers) ?? 0) - (n(a.readers) ?? 0) || (String(a.work_id) < String(b.work_id) ? -1 : 1);

/** The first `k` rows in `order`, in one pass: sorting all of a 13,000-row table to show 15 cost more. */
export function topRows(rows: readonly Row[], k: number, order: (a: Row, b: Row) => number): Row[] {
  const top: Row[] = [];
  for (const r of rows) {
    if (top.length === k && order(r, top[k - 1]!) >= 0) continue;
    let i = top.length === k ? k - 1 : top.length;
    while (i > 0 && order(r, top[i - 1]!) < 0) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = r;
  }
  return top;
}

export function kpiBars(kpi: Kpi, rows: readonly Row[]): Bar[] {
  if (kpi === 'engagement_bands') {
    return rows.map((r) => ({
      label: String(r.band),
      value: n(r.sessions),
      note: pct(n(r.share)),
      tip: `${r.band} (${BAND_RANGES[String(r.band)] ?? ''}): ${num(r.sessions)} sessions, ${pct(n(r.share))} of all, average progress ${num(r.avg_progress_pct)} %`,
    }));
  }
  if (kpi === 'stage_bottlenecks') {
    return rows.map((r) => ({
      label: String(r.stage),
      value: n(r.median_dwell_hours),
      marker: n(r.p90_dwell_hours),
      highlight: r.is_bottleneck === true,
      note: r.is_bottleneck === true ? 'bottleneck' : n(r.median_dwell_hours) === null ? `${num(r.open_visits)} open, none completed` : undefined,
      tip: `${r.stage}: median ${num(r.median_dwell_hours)} h, p90 ${num(r.p90_dwell_hours)} h, average ${num(r.avg_dwell_hours)} h over ${num(r.completed_visits)} completed visits; ${num(r.open_visits)} still open${r.is_bottleneck === true ? ' — the bottleneck' : ''}`,
    }));
  }
  if (kpi === 'dropoff_rate') {
    return topRows(rows, TOP, byReaders).map((r) => ({
      label: String(r.work_id),
      value: n(r.dropoff_rate),
      note: `${num(r.dropped_readers)} of ${num(r.readers)}`,
      tip: `${r.work_id}: ${num(r.dropped_readers)} of ${num(r.readers)} readers dropped off (${pct(n(r.dropoff_rate))}); median progress at dropoff ${num(r.median_dropoff_progress_pct)} %`,
    }));
  }
  return [];
}

export function kpiDots(kpi: Kpi, rows: readonly Row[]): Dot[] {
  if (kpi !== 'post_release_engagement') return [];
  return rows.map((r) => ({
    key: String(r.work_id),
    x: n(r.readers_7d) ?? 0,
    y: n(r.readers_total) ?? 0,
    tip: () =>
      `${r.work_id}, released ${String(r.released_at).slice(0, 10)}: ${num(r.readers_7d)} readers and ${num(r.sessions_7d)} sessions in its first 7 days (average ${num(r.avg_engagement_seconds_7d)} s), ${num(r.dropoffs_7d)} dropoffs; ${num(r.readers_total)} readers in all; first reader after ${num(r.days_to_first_reader)} days`,
  }));
}

const made = new WeakMap<readonly Row[], Map<string, unknown>>();

/**
 * Marks made once per gold table read (a version never changes, and the page keeps the rows it
 * showed), so coming back to the dashboard does not make them again.
 */
export function once<T>(rows: readonly Row[], key: string, make: () => T): T {
  let byKey = made.get(rows);
  if (!byKey) {
    byKey = new Map();
    made.set(rows, byKey);
  }
  if (!byKey.has(key)) byKey.set(key, make());
  return byKey.get(key) as T;
}

import { describe, expect, test } from 'vitest';
import { kpiBars, kpiDots, once, topRows, TOP } from '../../src/ui/kpi-charts.ts';

describe('KPI chart marks', () => {
  test('topRows picks the first k in order, as a full sort would', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: (i * 7919) % 500, v: (i * 104729) % 37 }));
    const order = (a: Record<string, unknown>, b: Record<string, unknown>) => (b.v as number) - (a.v as number) || (a.id as number) - (b.id as number);
    expect(topRows(rows, 15, order)).toEqual([...rows].sort(order).slice(0, 15));
    expect(topRows(rows.slice(0, 3), 15, order)).toEqual(rows.slice(0, 3).sort(order));
    expect(topRows([], 15, order)).toEqual([]);
  });

  test('the dropoff chart shows the works with the most readers, ties by work id', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      work_id: `work-${String(i).padStart(3, '0')}`,
      readers: i % 20,
      dropped_readers: 1,
      dropoff_rate: 0.5,
      median_dropoff_progress_pct: 40,
    }));
    const bars = kpiBars('dropoff_rate', rows);
    expect(bars).toHaveLength(TOP);
    expect(bars.slice(0, 4).map((b) => b.label)).toEqual(['work-019', 'work-039', 'work-018', 'work-038']);
    expect(bars[0]).toMatchObject({ value: 0.5, note: '1 of 19' });
  });

  test('a dot makes its tooltip when asked', () => {
    const [dot] = kpiDots('post_release_engagement', [
      {
        work_id: 'work-1',
        released_at: '2025-01-03T11:24:22Z',
        readers_7d: 66,
        readers_total: 1500,
        sessions_7d: 80,
        avg_engagement_seconds_7d: 12.345,
        dropoffs_7d: 3,
        days_to_first_reader: 1,
      },
    ]);
    expect(dot).toMatchObject({ key: 'work-1', x: 66, y: 1500 });
    expect(dot!.tip()).toBe(
      'work-1, released 2025-01-03: 66 readers and 80 sessions in its first 7 days (average 12.3 s), 3 dropoffs; 1,500 readers in all; first reader after 1 days',
    );
    expect(kpiDots('dropoff_rate', [{ work_id: 'w' }])).toEqual([]);
  });

  test('marks are made once per table read', () => {
    const rows = [{ band: 'read', sessions: 3, share: 1, avg_progress_pct: 50 }];
    let made = 0;
    const make = () => {
      made++;
      return kpiBars('engagement_bands', rows);
    };
    const first = once(rows, 'bars', make);
    expect(once(rows, 'bars', make)).toBe(first);
    expect(made).toBe(1);
    once([...rows], 'bars', make);
    expect(made).toBe(2);
  });
});

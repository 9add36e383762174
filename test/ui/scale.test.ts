import { describe, expect, test } from 'vitest';
import { dayLabel, dayTicks, linear, niceStep, shortNumber } from '../../src/ui/charts/scale.ts';

describe('chart scales', () => {
  test('nice steps', () => {
    expect(niceStep(0, 97, 4)).toBe(50);
    expect(niceStep(0, 1, 4)).toBe(0.5);
    expect(niceStep(0, 12_345, 5)).toBe(5000);
  });

  test('a linear scale widens to nice ticks and maps onto pixels', () => {
    const s = linear([3, 97], 0, 200, { zero: true });
    expect(s.domain).toEqual([0, 100]);
    expect(s.ticks).toEqual([0, 50, 100]);
    expect(s(50)).toBe(100);
    const flat = linear([5, 5], 100, 0, { zero: true });
    expect(flat.domain[0]).toBe(0);
    expect(flat(5)).toBeLessThan(100);
    expect(linear([], 0, 10).ticks.length).toBeGreaterThan(1);
  });

  test('day ticks fall on whole UTC days', () => {
    const lo = Date.UTC(2025, 0, 1, 5);
    const ticks = dayTicks(lo, Date.UTC(2025, 2, 1), 5);
    expect(ticks[0]).toBe(Date.UTC(2025, 0, 2));
    expect(ticks.every((t) => t % 86_400_000 === 0)).toBe(true);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.length).toBeLessThanOrEqual(9);
  });

  test('day labels', () => {
    expect(dayLabel(Date.UTC(2025, 2, 5))).toBe('Mar 5');
    expect(dayLabel(Date.UTC(2025, 11, 31, 23), true)).toBe('Dec 31 2025');
  });

  test('short numbers', () => {
    expect([shortNumber(950), shortNumber(12_500), shortNumber(1_500_000), shortNumber(0.25), shortNumber(5000)]).toEqual([
      '950',
      '12.5k',
      '1.5M',
      '0.25',
      '5,000',
    ]);
  });
});

import { describe, expect, test } from 'vitest';
import { bytes, num, pct } from '../../src/ui/format.ts';

describe('number formatting', () => {
  test('integers in full, others to three significant digits, past 100 to whole numbers', () => {
    expect(num(1234567)).toBe('1,234,567');
    expect(num(0.123456)).toBe('0.123');
    expect(num(-45.678)).toBe('-45.7');
    expect(num(123.6)).toBe('124');
    expect(num(98765.4321)).toBe('98,765');
    expect(num(null)).toBe('—');
    expect(num('x')).toBe('x');
  });

  test('shares and sizes', () => {
    expect(pct(0.12345)).toBe('12.3 %');
    expect(pct(1)).toBe('100 %');
    expect(bytes(999)).toBe('999 B');
    expect(bytes(1_536_000)).toBe('1.5 MB');
    expect(bytes(15_360_000)).toBe('15 MB');
  });

  test('the kept formatters give what toLocaleString with the same options gives', () => {
    for (let i = 0; i < 2000; i++) {
      const v = Math.sin(i) * 10 ** ((i % 9) - 3) + (i % 7) / 3;
      const expected = Number.isInteger(v)
        ? v.toLocaleString('en-US')
        : v.toLocaleString('en-US', Math.abs(v) >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 });
      expect(num(v)).toBe(expected);
    }
  });
});

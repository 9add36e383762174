import fc from 'fast-check';
import { Table, makeData, makeVector, vectorFromArray, Int64, Uint64, Timestamp, TimeUnit, Utf8, type Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { computeStats, pickStats } from '../src/delta/stats.ts';

/** A 64-bit column from values (null: not valid), sliced to [from, from + length). */
function column64(kind: 'long' | 'ulong' | 'timestamp', values: (bigint | null)[], from: number, length: number): Vector {
  const type = kind === 'long' ? new Int64() : kind === 'ulong' ? new Uint64() : new Timestamp(TimeUnit.MICROSECOND);
  const data = kind === 'ulong' ? new BigUint64Array(values.length) : new BigInt64Array(values.length);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      data[i] = v;
      bitmap[i >> 3]! |= 1 << (i & 7);
    }
  });
  const whole = makeData({ type, length: values.length, nullCount: nulls, nullBitmap: nulls ? bitmap : undefined, data } as never);
  return makeVector(whole).slice(from, from + length);
}

/** What the stats must be: min and max of the valid values of the slice, compared as BigInts. */
function expected(values: (bigint | null)[], from: number, length: number): { min?: bigint; max?: bigint; nulls: number } {
  const part = values.slice(from, from + length);
  const valid = part.filter((v): v is bigint => v !== null);
  const nulls = part.length - valid.length;
  if (!valid.length) return { nulls };
  const sorted = [...valid].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { min: sorted[0], max: sorted.at(-1), nulls };
}

const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -5n, max: 5n }),
  fc.constantFrom(-(2n ** 32n), 2n ** 32n - 1n, 2n ** 31n, -(2n ** 31n)),
);
const uint64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 0n, max: 5n }),
  fc.constantFrom(2n ** 63n, 2n ** 32n, 2n ** 31n, 2n ** 32n - 1n),
);

describe('computeStats on 64-bit columns', () => {
  for (const kind of ['long', 'ulong'] as const) {
    it(`min, max and null count of ${kind} columns, sliced, with nulls, equal those compared as BigInts`, () => {
      const arb = fc
        .array(fc.option(kind === 'long' ? int64 : uint64, { freq: 4 }), { minLength: 1, maxLength: 60 })
        .chain((values) =>
          fc
            .tuple(fc.constant(values), fc.nat(values.length - 1))
            .chain(([v, from]) => fc.tuple(fc.constant(v), fc.constant(from), fc.integer({ min: 0, max: v.length - from }))),
        );
      fc.assert(
        fc.property(arb, ([values, from, length]) => {
          const table = new Table({ x: column64(kind, values, from, length) });
          const stats = computeStats(table);
          const want = expected(values, from, length);
          expect(stats.nullCount.x).toBe(want.nulls);
          const asStat = (v: bigint | undefined): unknown => (v === undefined ? undefined : Number.isSafeInteger(Number(v)) ? Number(v) : undefined);
          expect(stats.minValues.x).toBe(asStat(want.min));
          expect(stats.maxValues.x).toBe(asStat(want.max));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('timestamps across several chunks give the least and greatest instant, formatted', () => {
    const a = column64('timestamp', [1_700_000_000_000_001n, null, -1n], 0, 3);
    const b = column64('timestamp', [1_700_000_000_000_000n, 1_800_000_000_123_456n], 0, 2);
    const table = new Table({ t: a.concat(b) });
    const stats = computeStats(table);
    expect(stats.minValues.t).toBe('1969-12-31T23:59:59.999999');
    expect(stats.maxValues.t).toBe('2027-01-15T08:00:00.123456');
    expect(stats.nullCount.t).toBe(1);
  });
});

describe('computeStats on strings', () => {
  const bytes = new TextEncoder();
  const byteOrder = (a: string, b: string): number => {
    const x = bytes.encode(a);
    const y = bytes.encode(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  it('min and max are the least and greatest UTF-8 byte strings (prefixes, repeats, multi-byte), across chunks', () => {
    const word = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('batch-20261207T032416Z-28ffbbcd', 'batch-20261207T032416Z-28ffbbce', 'abcd', 'abcde', 'abc', 'é', 'z', ''),
    );
    const chunk = fc.array(fc.option(word, { freq: 5 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 3 }), (chunks) => {
        const vector = chunks.map((c) => vectorFromArray(c, new Utf8())).reduce((a, b) => a.concat(b));
        const stats = computeStats(new Table({ s: vector }));
        const valid = chunks.flat().filter((v): v is string => v !== null);
        expect(stats.nullCount.s).toBe(chunks.flat().length - valid.length);
        if (!valid.length) {
          expect(stats.minValues.s).toBeUndefined();
          return;
        }
        const sorted = [...valid].sort(byteOrder);
        expect(stats.minValues.s).toBe(sorted[0]!.slice(0, 32));
        const max = sorted.at(-1)!;
        expect(stats.maxValues.s).toBe(max.length <= 32 ? max : undefined);
      }),
      { numRuns: 400 },
    );
  });
});

describe('pickStats', () => {
  it('cuts the statistics of every column down to what computeStats gives for the columns a table keeps them for', () => {
    const table = new Table({
      a: vectorFromArray([3, 1, 2]),
      b: vectorFromArray(['x', null, 'y'], new Utf8()),
      c: vectorFromArray([10n, 20n, null], new Int64()),
    });
    const all = computeStats(table);
    for (const [skip, only] of [
      [[], undefined],
      [['b'], undefined],
      [[], ['a', 'c']],
      [['a'], ['a', 'b']],
      [[], []],
    ] as const) {
      const picked = pickStats(all, new Set(skip), only && new Set(only));
      expect(picked).toEqual(computeStats(table, new Set(skip), only && new Set(only)));
      expect(JSON.stringify(picked)).toBe(JSON.stringify(computeStats(table, new Set(skip), only && new Set(only))));
    }
    expect(Object.keys(pickStats(all, new Set(['b']), new Set(['a', 'b'])).nullCount)).toEqual(['a']);
  });
});

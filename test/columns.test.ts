import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineBuffer, Utf8Builder, constantUtf8, sequenceInt64 } from '../src/pipeline/columns.ts';

const lines = [
  'abc',
  'héllo wörld 😀',
  '',
  'x'.repeat(1_000),
  '\uD800 lone surrogate',
  ...Array.from({ length: 700 }, (_, i) => (i % 97 === 0 ? `ü${i}` : `line ${i}`)),
];
const utf8 = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s));

describe('column builders', () => {
  it('LineBuffer encodes lines as TextEncoder does, chunk by chunk, and is reusable', () => {
    const buffer = new LineBuffer();
    for (let round = 0; round < 2; round++) {
      buffer.reset();
      buffer.append(lines, 0, 300, 1_000);
      buffer.append(lines, 300);
      expect([...buffer.vector()]).toEqual(lines.map(utf8));
    }
    buffer.reset();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at NUL on purpose: lines wholly ASCII
    buffer.append(lines.filter((l) => !/[^\x00-\x7f]/.test(l)));
    expect(buffer.vector().length).toBe(lines.length - 10);
  });

  it('Utf8Builder appends strings, nulls and bytes of another column', () => {
    const b = new Utf8Builder(2, 4);
    const values = ['a', null, 'héllo', '', 'x'.repeat(100), undefined];
    for (const v of values) b.append(v);
    const v = b.finish();
    expect([...v]).toEqual(values.map((x) => x ?? null));
    const g = new Utf8Builder(1, 1);
    for (const i of [4, 1, 2]) g.appendRun(b.offsets, b.bytes, b.validity, i, i + 1);
    expect([...g.finish()]).toEqual(['x'.repeat(100), null, 'héllo']);
  });

  it('Utf8Builder.appendRun copies runs of rows whole or row by row alike, nulls and offsets included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string({ maxLength: 40 }), { freq: 3 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
        fc.option(fc.string({ maxLength: 5 })),
        (values, cuts, before) => {
          const src = new Utf8Builder(1, 1);
          for (const v of values) src.append(v);
          const runs = cuts.map(([a, b]) => {
            const from = a % values.length;
            return [from, from + (b % (values.length - from + 1))] as const;
          });
          const byRun = new Utf8Builder(1, 1);
          const byRow = new Utf8Builder(1, 1);
          for (const b of [byRun, byRow]) b.append(before);
          for (const [from, to] of runs) {
            byRun.appendRun(src.offsets, src.bytes, src.nulls ? src.validity : null, from, to);
            for (let i = from; i < to; i++) byRow.appendRun(src.offsets, src.bytes, src.nulls ? src.validity : null, i, i + 1);
          }
          const want = [before, ...runs.flatMap(([from, to]) => values.slice(from, to))].map((v) => v ?? null);
          expect([...byRun.finish()]).toEqual(want);
          expect([...byRow.finish()]).toEqual(want);
          expect(byRun.nulls).toBe(byRow.nulls);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('constant and sequence columns', () => {
    expect([...constantUtf8('batch-1', 5)]).toEqual(Array(5).fill('batch-1'));
    expect([...constantUtf8('x', 0)]).toEqual([]);
    expect([...sequenceInt64(7, 4)]).toEqual([7n, 8n, 9n, 10n]);
    expect([...sequenceInt64(2 ** 31 - 2, 3)]).toEqual([2n ** 31n - 2n, 2n ** 31n - 1n, 2n ** 31n]);
  });
});

describe('typed rows', () => {
  it('event_date is the UTC day of occurred_at, to the microsecond, before 1970 and far ahead', async () => {
    const { TypedRows } = await import('../src/pipeline/typed-rows.ts');
    const day = 86_400_000_000n;
    const times = [
      0n,
      -1n,
      day - 1n,
      day,
      (2_000_000n * day) / 1000n - 1n,
      BigInt(Date.UTC(2200, 0, 2)) * 1000n - 1n,
      BigInt(Date.UTC(2200, 0, 2)) * 1000n,
      2n ** 53n + 5n,
    ];
    const rows = new TypedRows(4);
    times.forEach((us, i) => {
      rows.push(
        {
          event_id: `e${i}`,
          event_type: 'stage_entered',
          occurred_at_us: us,
          creator_id: 'c',
          work_id: 'w',
          schema_version: 1,
          stage: 'draft',
          words: null,
          duration_minutes: null,
          words_changed: null,
          revision_no: null,
          reader_id: null,
          engagement_seconds: null,
          progress_pct: null,
          attributes: null,
        },
        i + 1,
        0n,
      );
    });
    const table = rows.silverTable(Uint32Array.from(times.keys()), 'b');
    const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
    expect([...table.getChild('event_date')!.data[0]!.values]).toEqual(times.map((us) => Number(floorDiv(us, day))));
  });

  it('silverTable in any order, with rows left out, gives row r of the table in file order at order[r]', async () => {
    const { TypedRows } = await import('../src/pipeline/typed-rows.ts');
    const { checkChunk } = await import('../src/pipeline/check-lines.ts');
    const { generateEvents } = await import('../src/pipeline/generator/index.ts');
    const lines = [...generateEvents({ events: 400, seed: 9, days: 3, invalidRate: 0 })].flat();
    const rows = new TypedRows(16);
    rows.appendData(checkChunk({ lines, firstLine: 1, ingestedAt: 5n, batchId: '', rawColumn: false }).result.typed);
    const all = rows
      .silverTable(
        Uint32Array.from({ length: rows.length }, (_, i) => i),
        'b',
      )
      .toArray();
    fc.assert(
      fc.property(fc.shuffledSubarray([...all.keys()]), fc.boolean(), (picked, sorted) => {
        const order = Uint32Array.from(sorted ? [...picked].sort((a, b) => a - b) : picked);
        const table = rows.silverTable(order, 'b').toArray();
        expect(table.map((r) => r.toJSON())).toEqual([...order].map((i) => all[i]!.toJSON()));
      }),
      { numRuns: 60 },
    );
  });
});

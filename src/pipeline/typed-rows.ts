import { Bool, Float64, TimestampMicrosecond, makeData, makeVector, type Vector } from 'apache-arrow';
import type { TypedEvent } from './contract.ts';
import { column } from './columns.ts';

const STRINGS = ['event_id', 'event_type', 'creator_id', 'work_id', 'stage', 'reader_id', 'attributes'] as const;
/** Whole numbers travel as doubles (all are far below 2^53) and become BIGINT in SQL. */
const NUMBERS = ['words', 'duration_minutes', 'words_changed', 'revision_no', 'engagement_seconds', 'progress_pct'] as const;

/**
 * Typed event columns for one bronze file, one slot per bronze row; `parsed` is false where the
 * line was rejected before typing. Preallocated typed arrays keep a million rows cheap.
 */
export class TypedRows {
  private readonly strings: Record<(typeof STRINGS)[number], (string | null)[]>;
  private readonly numbers: Record<(typeof NUMBERS)[number], Float64Array>;
  private readonly numberValid: Record<(typeof NUMBERS)[number], Uint8Array>;
  private readonly occurredAt: BigInt64Array;
  private readonly parsed: Uint8Array;

  constructor(private readonly length: number) {
    const bits = () => new Uint8Array(Math.ceil(length / 8));
    this.strings = Object.fromEntries(STRINGS.map((k) => [k, new Array<string | null>(length).fill(null)])) as TypedRows['strings'];
    this.numbers = Object.fromEntries(NUMBERS.map((k) => [k, new Float64Array(length)])) as TypedRows['numbers'];
    this.numberValid = Object.fromEntries(NUMBERS.map((k) => [k, bits()])) as TypedRows['numberValid'];
    this.occurredAt = new BigInt64Array(length);
    this.parsed = bits();
  }

  set(i: number, e: TypedEvent): void {
    const bit = 1 << (i & 7);
    const byte = i >> 3;
    this.parsed[byte]! |= bit;
    for (const k of STRINGS) this.strings[k][i] = e[k];
    for (const k of NUMBERS) {
      const v = e[k];
      if (v !== null) {
        this.numbers[k][i] = v;
        this.numberValid[k][byte]! |= bit;
      }
    }
    this.occurredAt[i] = e.occurred_at_us;
  }

  /** The columns, named as silver names them, plus `parsed`. */
  vectors(): Record<string, Vector> {
    const n = this.length;
    const out: Record<string, Vector> = {};
    const nulls = (bitmap: Uint8Array) => n - popcount(bitmap, n);
    for (const k of STRINGS) out[k] = column('string', this.strings[k]);
    for (const k of NUMBERS) {
      out[k] = makeVector(makeData({ type: new Float64(), length: n, nullCount: nulls(this.numberValid[k]), nullBitmap: this.numberValid[k], data: this.numbers[k] }));
    }
    out.occurred_at = makeVector(
      makeData({ type: new TimestampMicrosecond('UTC'), length: n, nullCount: nulls(this.parsed), nullBitmap: this.parsed.slice(), data: this.occurredAt }),
    );
    out.parsed = makeVector(makeData({ type: new Bool(), length: n, nullCount: 0, data: this.parsed }));
    return out;
  }
}

function popcount(bitmap: Uint8Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (bitmap[i >> 3]! & (1 << (i & 7))) count++;
  return count;
}

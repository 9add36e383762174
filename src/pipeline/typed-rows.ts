import { DateDay, Float64, Int32, Table, makeData, makeVector, type Vector } from 'apache-arrow';
import type { TypedEvent } from './contract.ts';
import { Utf8Builder, constantUtf8, copyBits, int64Column, type Utf8Data } from './columns.ts';
import { FIELDS, LineScan } from './scan-line.ts';
import { EVENT_FIELDS, SILVER_BATCH_COLUMNS, silverFields } from './schema.ts';

const KEPT = silverFields(EVENT_FIELDS);
/** String columns (an object field is kept as its JSON text), in field order. */
const STRINGS: readonly string[] = KEPT.filter((f) => f.column === 'string').map((f) => f.name);
/** Whole numbers travel as doubles (all are far below 2^53) and become BIGINT in SQL and silver. */
const NUMBERS: readonly string[] = KEPT.filter((f) => f.column === 'long' || f.column === 'double').map((f) => f.name);
const WHOLE = new Set<string>(KEPT.filter((f) => f.column === 'long').map((f) => f.name));
const TIMESTAMPS = KEPT.filter((f) => f.column === 'timestamp').map((f) => f.name);
if (TIMESTAMPS.join() !== 'occurred_at') throw new Error(`typed-rows: occurred_at must be the one timestamp field (got ${TIMESTAMPS.join(', ')})`);

const MICROS_PER_DAY = 86_400_000_000;
const TWO_32 = 4_294_967_296;
const scan = new LineScan();
/** The scanner's index of each string and number column. */
const STRING_FIELDS = Int32Array.from(STRINGS, (name) => FIELDS.indexOf(name));
const NUMBER_FIELDS = Int32Array.from(NUMBERS, (name) => FIELDS.indexOf(name));

/** TypedRows as plain buffers: what crosses between threads (all ArrayBuffers, transferable). */
export interface TypedRowsData {
  length: number;
  strings: Record<string, Utf8Data>;
  raw: Utf8Data | undefined;
  numbers: Record<string, Float64Array>;
  numberValid: Record<string, Uint8Array>;
  occurredAt: BigInt64Array;
  occurredKey: Float64Array;
  lineNo: Float64Array;
  ingestedAt: BigInt64Array;
}

/** The buffers of `data`, to transfer rather than copy. */
export function typedRowsBuffers(data: TypedRowsData): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of [...Object.values(data.strings), ...(data.raw ? [data.raw] : [])])
    out.push(s.offsets.buffer as ArrayBuffer, s.bytes.buffer as ArrayBuffer, s.validity.buffer as ArrayBuffer);
  for (const a of [...Object.values(data.numbers), ...Object.values(data.numberValid), data.occurredAt, data.occurredKey, data.lineNo, data.ingestedAt])
    out.push(a.buffer as ArrayBuffer);
  return out;
}

/**
 * The typed events of one silver batch, column by column, in the order the contract accepted them.
 * Strings are UTF-8 from the start and numbers sit in typed arrays, so a million rows cost a few
 * hundred MB of plain buffers rather than millions of JS objects for the garbage collector.
 *
 * Two views come out of it: a narrow table in bronze order for the checks in DuckDB
 * (`checkTable`), and the silver rows themselves in their final order (`silverTable`).
 */
export class TypedRows {
  length = 0;
  private capacity: number;
  /** per column of STRINGS, NUMBERS (arrays, not records keyed by name: read per line) */
  private readonly strings: Utf8Builder[];
  private readonly numbers: Float64Array[];
  private readonly numberValid: Uint8Array[];
  /** epoch microseconds, exact */
  private occurredAt: BigInt64Array;
  /** occurredAt's buffer as 32-bit words */
  private occurredHalves: Int32Array;
  /** the same as doubles, for sorting (order-preserving; ties are settled on the exact value) */
  private occurredKey: Float64Array;
  private lineNo: Float64Array;
  private ingestedAt: BigInt64Array;

  /** the raw text of each row, kept only when an expectation reads it */
  private readonly raw: Utf8Builder | undefined;

  constructor(capacity = 1024, withRaw = false) {
    this.capacity = Math.max(capacity, 16);
    this.raw = withRaw ? new Utf8Builder(this.capacity, this.capacity * 256) : undefined;
    this.strings = STRINGS.map((k) => new Utf8Builder(this.capacity, this.capacity * (k === 'attributes' ? 8 : 16)));
    this.numbers = NUMBERS.map(() => new Float64Array(this.capacity));
    this.numberValid = NUMBERS.map(() => new Uint8Array(Math.ceil(this.capacity / 8)));
    this.occurredAt = new BigInt64Array(this.capacity);
    this.occurredHalves = new Int32Array(this.occurredAt.buffer);
    this.occurredKey = new Float64Array(this.capacity);
    this.lineNo = new Float64Array(this.capacity);
    this.ingestedAt = new BigInt64Array(this.capacity);
  }

  push(e: TypedEvent, lineNo: number, ingestedAt: bigint, raw?: string): void {
    const i = this.length;
    if (i >= this.capacity) this.grow();
    this.raw?.append(raw);
    const values = e as unknown as Record<string, string | number | null>;
    for (let k = 0; k < STRINGS.length; k++) this.strings[k]!.append(values[STRINGS[k]!] as string | null);
    for (let k = 0; k < NUMBERS.length; k++) setNumber(this.numbers[k]!, this.numberValid[k]!, i, values[NUMBERS[k]!] as number | null);
    this.occurredAt[i] = e.occurred_at_us;
    this.occurredKey[i] = Number(e.occurred_at_us);
    this.lineNo[i] = lineNo;
    this.ingestedAt[i] = ingestedAt;
    this.length = i + 1;
  }

  /**
   * The row of the line text[from, to) appended, when the fast check (scan-line.ts) vouches for
   * it: the same row push(checkLine(line).event, …, raw) would append. False, and nothing
   * appended, when the line must go through checkLine.
   */
  pushLine(text: string, from: number, to: number, lineNo: number, ingestedAt: bigint, raw?: string): boolean {
    if (!scan.scan(text, from, to)) return false;
    const i = this.length;
    if (i >= this.capacity) this.grow();
    this.raw?.append(raw);
    for (let k = 0; k < STRING_FIELDS.length; k++) appendField(this.strings[k]!, text, STRING_FIELDS[k]!);
    const v = scan.value;
    for (let k = 0; k < NUMBER_FIELDS.length; k++) {
      const f = NUMBER_FIELDS[k]!;
      if (scan.has(f)) setNumber(this.numbers[k]!, this.numberValid[k]!, i, v[f]!);
    }
    setSafeInt64(this.occurredHalves, i, scan.occurredUs);
    this.occurredKey[i] = scan.occurredUs;
    this.lineNo[i] = lineNo;
    this.ingestedAt[i] = ingestedAt;
    this.length = i + 1;
    return true;
  }

  /** The rows as compact buffers (copies), e.g. to send from another thread (see appendData). */
  toData(): TypedRowsData {
    const n = this.length;
    const bits = Math.ceil(n / 8);
    return {
      length: n,
      strings: Object.fromEntries(STRINGS.map((name, k) => [name, this.strings[k]!.toData()])),
      raw: this.raw?.toData(),
      numbers: Object.fromEntries(NUMBERS.map((name, k) => [name, this.numbers[k]!.slice(0, n)])),
      numberValid: Object.fromEntries(NUMBERS.map((name, k) => [name, this.numberValid[k]!.slice(0, bits)])),
      occurredAt: this.occurredAt.slice(0, n),
      occurredKey: this.occurredKey.slice(0, n),
      lineNo: this.lineNo.slice(0, n),
      ingestedAt: this.ingestedAt.slice(0, n),
    };
  }

  /** Every row of `data` (made by toData), appended. */
  appendData(data: TypedRowsData): void {
    const n = data.length;
    const at = this.length;
    while (at + n > this.capacity) this.grow();
    STRINGS.forEach((name, k) => {
      this.strings[k]!.appendData(data.strings[name]!);
    });
    if (this.raw && data.raw) this.raw.appendData(data.raw);
    NUMBERS.forEach((name, k) => {
      this.numbers[k]!.set(data.numbers[name]!, at);
      copyBits(data.numberValid[name]!, this.numberValid[k]!, at, n);
    });
    this.occurredAt.set(data.occurredAt, at);
    this.occurredKey.set(data.occurredKey, at);
    this.lineNo.set(data.lineNo, at);
    this.ingestedAt.set(data.ingestedAt, at);
    this.length = at + n;
  }

  /** The line number of typed row `i`. */
  lineOf(i: number): number {
    return this.lineNo[i]!;
  }

  /**
   * Rows in bronze order for the checks in DuckDB: `row_idx` (this row's index here), `line_no`,
   * `ingested_at`, `occurred_at`, `event_id` and every number column (as DOUBLE: SQL casts the
   * whole ones), plus the other string columns named in `strings` (`raw` too, when kept).
   * Zero-copy views of the buffers.
   */
  checkTable(strings: readonly string[]): Table {
    const n = this.length;
    const out: Record<string, Vector> = {
      row_idx: makeVector(makeData({ type: new Int32(), length: n, nullCount: 0, data: rowIndexes(n) })),
      line_no: int64Column('long', int64From(this.lineNo, n)),
      ingested_at: int64Column('timestamp', this.ingestedAt.subarray(0, n)),
      occurred_at: int64Column('timestamp', this.occurredAt.subarray(0, n)),
    };
    STRINGS.forEach((name, k) => {
      if (name === 'event_id' || strings.includes(name)) out[name] = this.strings[k]!.finish();
    });
    if (this.raw && strings.includes('raw')) out.raw = this.raw.finish();
    NUMBERS.forEach((name, k) => {
      out[name] = this.numberVector(k, n);
    });
    return new Table(out);
  }

  /**
   * Row indexes without `excluded`, ordered as silver stores them: by occurred_at, then event_id
   * compared as UTF-8 bytes (DuckDB's order for VARCHAR).
   */
  silverOrder(excluded: ReadonlySet<number>): Uint32Array {
    const n = this.length;
    const order: number[] = [];
    for (let i = 0; i < n; i++) if (!excluded.has(i)) order.push(i);
    const key = this.occurredKey;
    const exact = this.occurredAt;
    const { offsets, bytes } = this.strings[STRINGS.indexOf('event_id')]!;
    const byId = (a: number, b: number): number => {
      let x = offsets[a]!;
      let y = offsets[b]!;
      const xe = offsets[a + 1]!;
      const ye = offsets[b + 1]!;
      for (; x < xe && y < ye; x++, y++) if (bytes[x] !== bytes[y]) return bytes[x]! - bytes[y]!;
      return xe - x - (ye - y);
    };
    const compare = (a: number, b: number): number => key[a]! - key[b]! || (exact[a]! < exact[b]! ? -1 : exact[a]! > exact[b]! ? 1 : byId(a, b));
    // Generated feeds usually arrive in order: then one pass over neighbours shows it, far cheaper
    // than Array#sort calling the comparator. Otherwise TimSort runs in about linear time.
    let sorted = true;
    for (let r = 1; r < order.length && sorted; r++) sorted = compare(order[r - 1]!, order[r]!) < 0;
    if (!sorted) order.sort(compare);
    return Uint32Array.from(order);
  }

  /** The silver/events columns of the rows in `order` (silverColumns of schema.ts, column for column). */
  silverTable(order: Uint32Array, batchId: string): Table {
    const n = order.length;
    const out: Record<string, Vector> = {};
    // Runs of consecutive rows (start, length): a generated feed arrives in order, so a batch is a
    // few long runs between the rows left out, and strings are copied a run at a time.
    const runs = consecutiveRuns(order);
    const gatherString = (k: number): Vector => {
      const src = this.strings[k]!;
      let bytes = 0;
      for (let r = 0; r < runs.length; r += 2) bytes += src.offsets[runs[r]! + runs[r + 1]!]! - src.offsets[runs[r]!]!;
      const b = new Utf8Builder(n, bytes);
      const validity = src.nulls > 0 ? src.validity : null;
      for (let r = 0; r < runs.length; r += 2) b.appendRun(src.offsets, src.bytes, validity, runs[r]!, runs[r]! + runs[r + 1]!);
      return b.finish();
    };
    const gatherNumber = (k: number): Vector => {
      const src = this.numbers[k]!;
      const valid = this.numberValid[k]!;
      const bitmap = new Uint8Array(Math.ceil(n / 8));
      let nulls = 0;
      if (WHOLE.has(NUMBERS[k]!)) {
        const data = new BigInt64Array(n);
        const halves = new Int32Array(data.buffer);
        for (let r = 0; r < n; r++) {
          const i = order[r]!;
          if (valid[i >> 3]! & (1 << (i & 7))) {
            bitmap[r >> 3]! |= 1 << (r & 7);
            const v = src[i]!;
            if (Math.abs(v) <= Number.MAX_SAFE_INTEGER) setSafeInt64(halves, r, v);
            else data[r] = BigInt(v);
          } else nulls++;
        }
        return int64Column('long', data, { bitmap, nulls });
      }
      const data = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const i = order[r]!;
        if (valid[i >> 3]! & (1 << (i & 7))) {
          bitmap[r >> 3]! |= 1 << (r & 7);
          data[r] = src[i]!;
        } else nulls++;
      }
      return makeVector(makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap: bitmap, data }));
    };
    const occurred = new BigInt64Array(n);
    const ingested = new BigInt64Array(n);
    const days = new Int32Array(n);
    // int64 values moved as pairs of 32-bit words: reading a BigInt64Array makes a BigInt per value.
    const [occurredTo, ingestedTo] = [new Int32Array(occurred.buffer), new Int32Array(ingested.buffer)];
    const occurredFrom = this.occurredHalves;
    const ingestedFrom = new Int32Array(this.ingestedAt.buffer);
    for (let r = 0; r < n; r++) {
      const i = order[r]!;
      occurredTo[2 * r] = occurredFrom[2 * i]!;
      occurredTo[2 * r + 1] = occurredFrom[2 * i + 1]!;
      ingestedTo[2 * r] = ingestedFrom[2 * i]!;
      ingestedTo[2 * r + 1] = ingestedFrom[2 * i + 1]!;
      const key = this.occurredKey[i]!;
      // The UTC date of occurred_at (floor, also before 1970); exact arithmetic beyond 2^53 µs.
      if (Math.abs(key) < 2 ** 53) {
        days[r] = floorDay(key);
      } else {
        const us = this.occurredAt[i]!;
        days[r] = Number((us - (((us % 86_400_000_000n) + 86_400_000_000n) % 86_400_000_000n)) / 86_400_000_000n);
      }
    }
    for (const { name, column } of KEPT) {
      if (column === 'timestamp') out[name] = int64Column('timestamp', occurred);
      else if (column === 'string') out[name] = gatherString(STRINGS.indexOf(name));
      else out[name] = gatherNumber(NUMBERS.indexOf(name));
    }
    const batch: Record<(typeof SILVER_BATCH_COLUMNS)[number]['name'], () => Vector> = {
      batch_id: () => constantUtf8(batchId, n),
      ingested_at: () => int64Column('timestamp', ingested),
      event_date: () => makeVector(makeData({ type: new DateDay(), length: n, nullCount: 0, data: days })),
    };
    for (const { name } of SILVER_BATCH_COLUMNS) out[name] = batch[name]();
    return new Table(out);
  }

  private numberVector(k: number, n: number): Vector {
    const valid = this.numberValid[k]!.subarray(0, Math.ceil(n / 8));
    let set = 0;
    for (let i = 0; i < n; i++) if (valid[i >> 3]! & (1 << (i & 7))) set++;
    return makeVector(makeData({ type: new Float64(), length: n, nullCount: n - set, nullBitmap: valid, data: this.numbers[k]!.subarray(0, n) }));
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grow = <T extends Float64Array | BigInt64Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a as never);
      return b;
    };
    for (let k = 0; k < NUMBERS.length; k++) {
      this.numbers[k] = grow(this.numbers[k]!, capacity);
      this.numberValid[k] = grow(this.numberValid[k]!, Math.ceil(capacity / 8));
    }
    this.occurredAt = grow(this.occurredAt, capacity);
    this.occurredHalves = new Int32Array(this.occurredAt.buffer);
    this.occurredKey = grow(this.occurredKey, capacity);
    this.lineNo = grow(this.lineNo, capacity);
    this.ingestedAt = grow(this.ingestedAt, capacity);
    this.capacity = capacity;
  }
}

/** floor(us / one day) for a whole number of microseconds below 2^53, exact (the division may round). */
function floorDay(us: number): number {
  let day = Math.floor(us / MICROS_PER_DAY);
  if (day * MICROS_PER_DAY > us) day--;
  else if ((day + 1) * MICROS_PER_DAY <= us) day++;
  return day;
}

function setNumber(values: Float64Array, valid: Uint8Array, i: number, v: number | null): void {
  if (v === null) return;
  values[i] = v;
  valid[i >> 3]! |= 1 << (i & 7);
}

/** Field `f` of the line `scan` vouched for last, or null when the line has none. */
function appendField(b: Utf8Builder, text: string, f: number): void {
  if (scan.has(f)) b.appendAscii(text, scan.start[f]!, scan.end[f]!);
  else b.appendNull();
}

/** Safe integer `v` into int64 `i` of `halves` (an int64 buffer as 32-bit words, little-endian): no BigInt made. */
function setSafeInt64(halves: Int32Array, i: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  halves[2 * i] = v - high * TWO_32;
  halves[2 * i + 1] = high;
}

function rowIndexes(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** The first `n` whole numbers of `values` as int64s. */
function int64From(values: Float64Array, n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Math.abs(v) <= Number.MAX_SAFE_INTEGER) setSafeInt64(halves, i, v);
    else out[i] = BigInt(v);
  }
  return out;
}

/** `order` as runs of consecutive indexes: start, length, start, length, … */
function consecutiveRuns(order: Uint32Array): Uint32Array {
  const runs: number[] = [];
  for (let r = 0; r < order.length; ) {
    const start = order[r]!;
    let length = 1;
    while (r + length < order.length && order[r + length] === start + length) length++;
    runs.push(start, length);
    r += length;
  }
  return Uint32Array.from(runs);
}

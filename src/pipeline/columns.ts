import {
  Bool,
  Float64,
  Int64,
  List,
  Table,
  TimestampMicrosecond,
  Utf8,
  Field,
  makeData,
  makeVector,
  vectorFromArray,
  type Vector,
  type DataType,
} from 'apache-arrow';

/** Column builders for rows made in TypeScript, keeping microsecond timestamps and 64-bit integers exact. */
export type ColumnType = 'string' | 'long' | 'double' | 'boolean' | 'timestamp' | 'string[]';

export function column(type: ColumnType, values: readonly unknown[]): Vector {
  const n = values.length;
  switch (type) {
    case 'string':
      return utf8Column(values as readonly (string | null | undefined)[]);
    case 'boolean':
      return vectorFromArray(values as (boolean | null)[], new Bool());
    case 'string[]':
      return vectorFromArray(values as (string[] | null)[], new List(new Field('element', new Utf8(), true)));
    case 'double': {
      const data = new Float64Array(n);
      const { bitmap, nulls } = validity(values, (v, i) => (data[i] = v as number));
      return makeVector(makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap: bitmap, data }));
    }
    case 'long':
    case 'timestamp': {
      const data = new BigInt64Array(n);
      const { bitmap, nulls } = validity(values, (v, i) => (data[i] = typeof v === 'bigint' ? v : BigInt(v as number)));
      const t: DataType = type === 'long' ? new Int64() : new TimestampMicrosecond('UTC');
      return makeVector(makeData({ type: t as Int64, length: n, nullCount: nulls, nullBitmap: bitmap, data }));
    }
  }
}

function validity(values: readonly unknown[], set: (v: unknown, i: number) => void): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      nulls++;
      return;
    }
    bitmap[i >> 3]! |= 1 << (i & 7);
    set(v, i);
  });
  return { bitmap, nulls };
}

/** A table from named columns of the given types, in the order given. */
export function tableOf(spec: Record<string, ColumnType>, data: Record<string, readonly unknown[]>): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(spec)) vectors[name] = column(type, data[name] ?? []);
  return new Table(vectors);
}

const encoder = new TextEncoder();

/**
 * A Utf8 vector encoded straight into one buffer: much less garbage than Arrow's builder, which
 * matters for a million raw lines.
 */
function utf8Column(values: readonly (string | null | undefined)[]): Vector {
  if (values.length > 256) {
    const ascii = asciiColumn(values);
    if (ascii) return ascii;
  }
  const builder = new Utf8Builder(values.length, 1024 + values.reduce((s: number, v) => s + (v ? v.length : 0), 0));
  for (const v of values) builder.append(v);
  return builder.finish();
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at NUL on purpose: everything outside ASCII
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Strings that are all ASCII and none null (received lines, usually) encoded with one TextEncoder
 * call over their concatenation: each call costs far more than its bytes for lines of a few hundred
 * characters. Undefined when the values do not qualify.
 */
function asciiColumn(values: readonly (string | null | undefined)[]): Vector | undefined {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'string') return undefined;
    at += v.length;
    if (at > 0x7fffffff) return undefined;
    offsets[i + 1] = at;
  }
  const joined = (values as readonly string[]).join('');
  if (NON_ASCII.test(joined)) return undefined;
  const bytes = new Uint8Array(at);
  encoder.encodeInto(joined, bytes);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: bytes }));
}

export const LINE_RUN = 256;
const joinedRuns = new WeakMap<readonly string[], string[]>();

/**
 * `lines` joined in runs of LINE_RUN (the last may be shorter), made once per array: the line
 * checks and LineBuffer both read a chunk this way, and joining copies every character.
 */
export function lineRuns(lines: readonly string[]): string[] {
  let runs = joinedRuns.get(lines);
  if (!runs) {
    runs = [];
    for (let start = 0; start < lines.length; start += LINE_RUN) runs.push(lines.slice(start, start + LINE_RUN).join(''));
    joinedRuns.set(lines, runs);
  }
  return runs;
}

/**
 * The raw lines of one Parquet file, UTF-8 encoded as they arrive, chunk by chunk, into buffers
 * that are kept: a run's next batch reuses them (fresh memory costs page faults, and JS strings
 * kept alive until the file is written would all be promoted to the old generation of the GC).
 * All-ASCII runs of lines are encoded with one TextEncoder call each (a call costs more than its
 * bytes for lines of a few hundred characters); other lines one by one.
 */
export class LineBuffer {
  private bytes = new Uint8Array(0);
  private offsets = new Int32Array(1);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  /**
   * Lines `from`..`to`-1 of `lines`, appended. `expectedRows`, the rows the file will have, sizes
   * the buffer once from the first lines' length rather than by repeated doubling.
   */
  append(lines: readonly string[], from = 0, to = lines.length, expectedRows = 0): void {
    const n = to - from;
    if (this.length + n + 1 > this.offsets.length) {
      const grown = new Int32Array(Math.max(this.length + n + 1, this.offsets.length * 2));
      grown.set(this.offsets.subarray(0, this.length + 1));
      this.offsets = grown;
    }
    let at = this.offsets[this.length]!;
    let chars = 0;
    for (let i = from; i < to; i++) chars += lines[i]!.length;
    const reserve = (bytes: number): void => {
      if (at + bytes <= this.bytes.length) return;
      if (at + bytes > 0x7fffffff) throw new RangeError('the raw lines of one Parquet file exceed 2 GB');
      const grown = new Uint8Array(Math.min(0x7fffffff, Math.max(this.bytes.length * 2, at + bytes + chars)));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    };
    // A guess from the first lines, never more than 256 MB: a file of huge lines grows as it must.
    if (at === 0 && expectedRows > n && n > 0) reserve(Math.min(2 ** 28, Math.ceil((chars / n) * expectedRows * 1.1)) - chars);
    const joined = from % LINE_RUN === 0 ? joinedRuns.get(lines) : undefined;
    let row = this.length;
    for (let start = from; start < to; start += LINE_RUN) {
      const end = Math.min(to, start + LINE_RUN);
      const whole = joined && end === Math.min(lines.length, start + LINE_RUN);
      const run = whole ? joined[start / LINE_RUN]! : lines.slice(start, end).join('');
      chars -= run.length;
      if (!NON_ASCII.test(run)) {
        reserve(run.length);
        encoder.encodeInto(run, this.bytes.subarray(at));
        for (let i = start; i < end; i++) this.offsets[++row] = at += lines[i]!.length;
        continue;
      }
      for (let i = start; i < end; i++) {
        const line = lines[i]!;
        reserve(line.length * 3);
        at += encoder.encodeInto(line, this.bytes.subarray(at)).written;
        this.offsets[++row] = at;
      }
    }
    this.length = row;
  }

  /**
   * Lines `from`..`to`-1 of UTF-8 `text` (line i at text[offsets[i], offsets[i + 1])), appended;
   * `expectedRows` as in `append`.
   */
  appendUtf8(text: Uint8Array, offsets: Int32Array, from: number, to: number, expectedRows = 0): void {
    const n = to - from;
    if (this.length + n + 1 > this.offsets.length) {
      const grown = new Int32Array(Math.max(this.length + n + 1, this.offsets.length * 2, expectedRows + 1));
      grown.set(this.offsets.subarray(0, this.length + 1));
      this.offsets = grown;
    }
    const at = this.offsets[this.length]!;
    const start = offsets[from]!;
    const size = offsets[to]! - start;
    if (at + size > this.bytes.length) {
      if (at + size > 0x7fffffff) throw new RangeError('the raw lines of one Parquet file exceed 2 GB');
      const guess = at === 0 && expectedRows > n && n > 0 ? Math.min(2 ** 28, Math.ceil((size / n) * expectedRows * 1.1)) : 0;
      const grown = new Uint8Array(Math.min(0x7fffffff, Math.max(this.bytes.length * 2, at + size, guess)));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.bytes.set(text.subarray(start, start + size), at);
    const shift = at - start;
    let row = this.length;
    for (let i = from + 1; i <= to; i++) this.offsets[++row] = offsets[i]! + shift;
    this.length = row;
  }

  /** The lines so far, in buffers of their own (offsets from 0). */
  copy(): { bytes: Uint8Array; offsets: Int32Array } {
    const n = this.length;
    return { bytes: this.bytes.slice(0, this.offsets[n]!), offsets: this.offsets.slice(0, n + 1) };
  }

  /** The lines so far as a Utf8 vector over these buffers: valid until the next reset. */
  vector(): Vector {
    const n = this.length;
    return makeVector(
      makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: this.offsets.subarray(0, n + 1), data: this.bytes.subarray(0, this.offsets[n]!) }),
    );
  }
}

/** `n` copies of one string: its bytes once, then doubled into place. */
export function constantUtf8(value: string, n: number): Vector {
  const one = encoder.encode(value);
  const bytes = new Uint8Array(one.length * n);
  if (n > 0) {
    bytes.set(one);
    for (let filled = one.length; filled < bytes.length; filled *= 2) bytes.copyWithin(filled, 0, Math.min(filled, bytes.length - filled));
  }
  const offsets = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) offsets[i] = i * one.length;
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: bytes }));
}

/** An Int64 or timestamp column of 64-bit values already in place. */
export function int64Column(type: 'long' | 'timestamp', data: BigInt64Array, validity?: { bitmap: Uint8Array; nulls: number }): Vector {
  const t: DataType = type === 'long' ? new Int64() : new TimestampMicrosecond('UTC');
  return makeVector(makeData({ type: t as Int64, length: data.length, nullCount: validity?.nulls ?? 0, nullBitmap: validity?.bitmap, data }));
}

/** Whole numbers first..first+n-1 as an Int64 column, without a BigInt per value. */
export function sequenceInt64(first: number, n: number): Vector {
  const data = new BigInt64Array(n);
  if (first >= 0 && first + n <= 0x7fffffff) {
    const halves = new Int32Array(data.buffer);
    for (let i = 0; i < n; i++) halves[2 * i] = first + i; // little-endian low word; the high word stays 0
  } else {
    for (let i = 0; i < n; i++) data[i] = BigInt(first + i);
  }
  return int64Column('long', data);
}

/** A Utf8 column's buffers, trimmed, as Utf8Builder.toData makes them. */
export interface Utf8Data {
  length: number;
  nulls: number;
  offsets: Int32Array;
  bytes: Uint8Array;
  validity: Uint8Array;
}

/** Bits 0..n-1 of `from` to bits at..at+n-1 of `to` (set bits only: `to` starts cleared there). */
export function copyBits(from: Uint8Array, to: Uint8Array, at: number, n: number): void {
  if ((at & 7) === 0) {
    to.set(from.subarray(0, Math.ceil(n / 8)), at >> 3);
    const spare = n & 7;
    if (spare) to[(at + n) >> 3]! &= (1 << spare) - 1; // keep bits beyond n of the last byte clear
    return;
  }
  for (let i = 0; i < n; i++) if (from[i >> 3]! & (1 << (i & 7))) to[(at + i) >> 3]! |= 1 << ((at + i) & 7);
}

/**
 * UTF-8 strings appended one by one into a growing buffer, for Arrow Utf8 columns. ASCII, the
 * common case, is copied byte by byte: cheaper than a TextEncoder call for short strings.
 */
export class Utf8Builder {
  offsets: Int32Array;
  bytes: Uint8Array;
  validity: Uint8Array;
  length = 0;
  nulls = 0;

  constructor(capacity = 1024, byteCapacity = capacity * 16) {
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(Math.max(byteCapacity, 64));
    this.validity = new Uint8Array(Math.ceil(capacity / 8));
  }

  get byteLength(): number {
    return this.offsets[this.length]!;
  }

  append(v: string | null | undefined): void {
    const i = this.length;
    if (i + 1 >= this.offsets.length) this.grow(i + 1);
    let at = this.offsets[i]!;
    if (v === null || v === undefined) {
      this.nulls++;
    } else {
      this.validity[i >> 3]! |= 1 << (i & 7);
      const n = v.length;
      // A string of n UTF-16 units takes at most 3n bytes.
      if (at + n * 3 > this.bytes.length) this.reserve(at + n * 3);
      const bytes = this.bytes;
      let j = 0;
      if (n <= 64) {
        for (; j < n; j++) {
          const c = v.charCodeAt(j);
          if (c >= 0x80) break;
          bytes[at + j] = c;
        }
      }
      at += j === n ? n : j + encoder.encodeInto(j === 0 ? v : v.slice(j), bytes.subarray(at + j)).written;
    }
    this.length = i + 1;
    this.offsets[i + 1] = at;
  }

  /** text[start, end), known to be ASCII, appended. */
  appendAscii(text: string, start: number, end: number): void {
    const i = this.length;
    if (i + 1 >= this.offsets.length) this.grow(i + 1);
    let at = this.offsets[i]!;
    if (at + end - start > this.bytes.length) this.reserve(at + end - start);
    const bytes = this.bytes;
    for (let j = start; j < end; j++) bytes[at++] = text.charCodeAt(j);
    this.validity[i >> 3]! |= 1 << (i & 7);
    this.length = i + 1;
    this.offsets[i + 1] = at;
  }

  appendNull(): void {
    const i = this.length;
    if (i + 1 >= this.offsets.length) this.grow(i + 1);
    this.nulls++;
    this.length = i + 1;
    this.offsets[i + 1] = this.offsets[i]!;
  }

  /** Rows `from` to `to` - 1 of another builder (or column buffers), their bytes in one copy. */
  appendRun(offsets: Int32Array, bytes: Uint8Array, validity: Uint8Array | null, from: number, to: number): void {
    const row = this.length;
    const n = to - from;
    if (row + n >= this.offsets.length) this.grow(row + n);
    const at = this.offsets[row]!;
    const start = offsets[from]!;
    const size = offsets[to]! - start;
    if (at + size > this.bytes.length) this.reserve(at + size);
    this.bytes.set(bytes.subarray(start, start + size), at);
    const out = this.offsets;
    const shift = at - start;
    for (let k = 1; k <= n; k++) out[row + k] = offsets[from + k]! + shift;
    const v = this.validity;
    for (let k = 0; k < n; k++) {
      const i = from + k;
      if (validity && (validity[i >> 3]! & (1 << (i & 7))) === 0) this.nulls++;
      else v[(row + k) >> 3]! |= 1 << ((row + k) & 7);
    }
    this.length = row + n;
  }

  /** The strings so far as compact buffers (copies), e.g. to send to another thread. */
  toData(): Utf8Data {
    const n = this.length;
    return {
      length: n,
      nulls: this.nulls,
      offsets: this.offsets.slice(0, n + 1),
      bytes: this.bytes.slice(0, this.offsets[n]!),
      validity: this.validity.slice(0, Math.ceil(n / 8)),
    };
  }

  /** Every string of `data` (made by toData), appended. */
  appendData(data: Utf8Data): void {
    const n = data.length;
    const row = this.length;
    if (row + n + 1 > this.offsets.length) this.grow(row + n);
    const base = this.offsets[row]!;
    const size = data.offsets[n]! - data.offsets[0]!;
    if (base + size > this.bytes.length) this.reserve(base + size);
    this.bytes.set(data.bytes.subarray(data.offsets[0]!, data.offsets[n]!), base);
    const shift = base - data.offsets[0]!;
    for (let i = 1; i <= n; i++) this.offsets[row + i] = data.offsets[i]! + shift;
    copyBits(data.validity, this.validity, row, n);
    this.nulls += data.nulls;
    this.length = row + n;
  }

  /** The column so far; the builder's buffers are shared, so append no more after this. */
  finish(): Vector {
    const n = this.length;
    return makeVector(
      makeData({
        type: new Utf8(),
        length: n,
        nullCount: this.nulls,
        nullBitmap: this.nulls > 0 ? this.validity.subarray(0, Math.ceil(n / 8)) : undefined,
        valueOffsets: this.offsets.subarray(0, n + 1),
        data: this.bytes.subarray(0, this.offsets[n]!),
      }),
    );
  }

  private grow(rows: number): void {
    const capacity = Math.max(rows + 1, this.offsets.length * 2);
    const offsets = new Int32Array(capacity);
    offsets.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = offsets;
    const validity = new Uint8Array(Math.ceil(capacity / 8));
    validity.set(this.validity);
    this.validity = validity;
  }

  private reserve(bytes: number): void {
    if (bytes > 0x7fffffff) throw new RangeError('a string column of one batch exceeds 2 GB');
    const grown = new Uint8Array(Math.min(0x7fffffff, Math.max(this.bytes.length * 2, bytes)));
    grown.set(this.bytes.subarray(0, this.offsets[this.length]!));
    this.bytes = grown;
  }
}

/** The raw int64 of a timestamp or long column (Arrow's `get` rounds timestamps to milliseconds). */
export function bigintAt(vector: Vector, i: number): bigint {
  let row = i;
  for (const d of vector.data) {
    if (row < d.length) return (d.values as BigInt64Array)[row]!;
    row -= d.length;
  }
  throw new RangeError(`row ${i} is beyond the column`);
}

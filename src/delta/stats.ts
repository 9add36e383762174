import { DataType, type Table, type Vector } from 'apache-arrow';

/** Longest string kept in min/max stats, as Spark does; a longer max is left out. */
const STRING_PREFIX = 32;

export interface FileStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, number>;
}

/** Delta per-file statistics for the top-level primitive columns of `table`. */
export function computeStats(table: Table, skip: ReadonlySet<string> = new Set(), only?: ReadonlySet<string>): FileStats {
  const stats: FileStats = { numRecords: table.numRows, minValues: {}, maxValues: {}, nullCount: {} };
  for (const field of table.schema.fields) {
    if (skip.has(field.name) || (only && !only.has(field.name))) continue;
    const column = table.getChild(field.name)!;
    const kind = statKind(field.type);
    if (!kind) continue;
    const { min, max, nulls } = minMax(column, kind);
    stats.nullCount[field.name] = nulls;
    if (min === undefined || max === undefined) continue;
    if (kind === 'string') {
      stats.minValues[field.name] = (min as string).slice(0, STRING_PREFIX);
      if ((max as string).length <= STRING_PREFIX) stats.maxValues[field.name] = max;
    } else {
      stats.minValues[field.name] = formatStat(min, field.type);
      stats.maxValues[field.name] = formatStat(max, field.type);
    }
  }
  return stats;
}

/** `stats` (of every column) cut down to what computeStats(…, skip, only) gives: each column's figures stand alone. */
export function pickStats(stats: FileStats, skip: ReadonlySet<string>, only?: ReadonlySet<string>): FileStats {
  const keep = (name: string): boolean => !skip.has(name) && (!only || only.has(name));
  const pick = <T>(values: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(values).filter(([name]) => keep(name)));
  return { numRecords: stats.numRecords, minValues: pick(stats.minValues), maxValues: pick(stats.maxValues), nullCount: pick(stats.nullCount) };
}

type Kind = 'number' | 'bigint' | 'string' | 'nullcount';

function statKind(type: DataType): Kind | undefined {
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isInt(type)) return type.bitWidth === 64 ? 'bigint' : 'number';
  if (DataType.isFloat(type)) return 'number';
  if (DataType.isDate(type)) return 'number';
  if (DataType.isTimestamp(type)) return 'bigint';
  if (DataType.isBool(type) || DataType.isBinary(type) || DataType.isDecimal(type)) return 'nullcount';
  if (DataType.isStruct(type) || DataType.isList(type) || DataType.isMap(type)) return undefined;
  return 'nullcount';
}

function minMax(column: Vector, kind: Kind): { min: unknown; max: unknown; nulls: number } {
  let nulls = 0;
  let min: number | bigint | Uint8Array | undefined;
  let max: number | bigint | Uint8Array | undefined;
  for (const data of column.data) {
    const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
    nulls += data.nullCount;
    if (kind === 'nullcount') continue;
    const isValid = (i: number): boolean => {
      if (!bitmap) return true;
      const bit = data.offset + i;
      return (bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0;
    };
    if (kind === 'string') {
      // Compare UTF-8 bytes (Spark's order for strings) in place, and decode only the two winners.
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let lo = -1;
      let hi = -1;
      for (let i = 0; i < data.length; i++) {
        if (!isValid(i)) continue;
        if (lo < 0) {
          lo = hi = i;
          continue;
        }
        // equal to the least so far: not above the greatest either (most rows of a column with few values)
        const c = compareAt(bytes, view, offsets, i, lo);
        if (c < 0) lo = i;
        else if (c > 0 && compareAt(bytes, view, offsets, i, hi) > 0) hi = i;
      }
      if (lo >= 0) {
        const low = bytes.subarray(offsets[lo]!, offsets[lo + 1]!);
        const high = bytes.subarray(offsets[hi]!, offsets[hi + 1]!);
        if (min === undefined || compareBytes(low, min as Uint8Array) < 0) min = low;
        if (max === undefined || compareBytes(high, max as Uint8Array) > 0) max = high;
      }
      continue;
    }
    if (kind === 'bigint') {
      // Reading a BigInt64Array makes a heap BigInt per value; compare the two 32-bit halves instead.
      const values = data.values as BigInt64Array | BigUint64Array;
      const at = minMax64(values, data.length, isValid);
      if (at.lo >= 0) {
        const low = values[at.lo]!;
        const high = values[at.hi]!;
        if (min === undefined || low < (min as bigint)) min = low;
        if (max === undefined || high > (max as bigint)) max = high;
      }
      continue;
    }
    // value buffers of a sliced Data are already sliced; the null bitmap is not
    const values = data.values as ArrayLike<number | bigint>;
    for (let i = 0; i < data.length; i++) {
      if (!isValid(i)) continue;
      const v = values[i]!;
      if (typeof v === 'number' && Number.isNaN(v)) return { min: undefined, max: undefined, nulls: column.nullCount };
      if (min === undefined || v < (min as number | bigint)) min = v;
      if (max === undefined || v > (max as number | bigint)) max = v;
    }
  }
  if (kind === 'string') {
    return { min: min && decoder.decode(min as Uint8Array), max: max && decoder.decode(max as Uint8Array), nulls };
  }
  return { min, max, nulls };
}

/** The indexes of the least and greatest valid values of a 64-bit column (-1 when none is valid). */
function minMax64(values: BigInt64Array | BigUint64Array, length: number, isValid: (i: number) => boolean): { lo: number; hi: number } {
  const words = new Int32Array(values.buffer, values.byteOffset, length * 2);
  // little-endian: word 2i is the low half (compared unsigned), 2i + 1 the high half (signed unless the column is unsigned)
  const signed = values instanceof BigInt64Array ? 0 : 0x80000000;
  const less = (i: number, j: number): boolean => {
    const a = words[2 * i + 1]! ^ signed;
    const b = words[2 * j + 1]! ^ signed;
    return a < b || (a === b && words[2 * i]! >>> 0 < words[2 * j]! >>> 0);
  };
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < length; i++) {
    if (!isValid(i)) continue;
    if (lo < 0) lo = hi = i;
    else if (less(i, lo)) lo = i;
    else if (less(hi, i)) hi = i;
  }
  return { lo, hi };
}

/** Strings i and j of one Utf8 buffer, compared as bytes (four at a time, big-endian, while both have four). */
function compareAt(bytes: Uint8Array, view: DataView, offsets: Int32Array, i: number, j: number): number {
  let x = offsets[i]!;
  let y = offsets[j]!;
  const xe = offsets[i + 1]!;
  const ye = offsets[j + 1]!;
  if (x === y && xe === ye) return 0;
  for (; x + 4 <= xe && y + 4 <= ye; x += 4, y += 4) {
    const a = view.getUint32(x);
    const b = view.getUint32(y);
    if (a !== b) return a < b ? -1 : 1;
  }
  for (; x < xe && y < ye; x++, y++) {
    const d = bytes[x]! - bytes[y]!;
    if (d !== 0) return d;
  }
  return xe - x - (ye - y);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const decoder = new TextDecoder();

function formatStat(v: unknown, type: DataType): unknown {
  if (DataType.isTimestamp(type)) return formatTimestamp(v as bigint, type.unit, type.timezone != null);
  if (DataType.isDate(type)) {
    const ms = type.unit === 0 ? Number(v) * 86_400_000 : Number(v);
    return new Date(ms).toISOString().slice(0, 10);
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
  return v;
}

/** Delta timestamp stats: ISO-8601 with microseconds; `Z` only for UTC-adjusted timestamps. */
export function formatTimestamp(value: bigint, unit: number, utc: boolean): string {
  const perSecond = [1n, 1000n, 1_000_000n, 1_000_000_000n][unit]!;
  const micros = (value * 1_000_000n) / perSecond;
  // BigInt division truncates toward zero: before 1970 the second is the one below
  const fracMicros = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = (micros - fracMicros) / 1_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${String(fracMicros).padStart(6, '0')}${utc ? 'Z' : ''}`;
}

import {
  Bool, Float64, Int64, List, Table, TimestampMicrosecond, Utf8, Field, makeData, makeVector, vectorFromArray, type Vector,
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
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let capacity = 1024;
  for (const v of values) if (v) capacity += v.length;
  let bytes = new Uint8Array(capacity);
  let at = 0;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nulls++;
    } else {
      bitmap[i >> 3]! |= 1 << (i & 7);
      // A string of k UTF-16 units takes at most 3k bytes.
      if (at + v.length * 3 > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, at + v.length * 3));
        grown.set(bytes.subarray(0, at));
        bytes = grown;
      }
      at += encoder.encodeInto(v, bytes.subarray(at)).written;
    }
    offsets[i + 1] = at;
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data: bytes.subarray(0, at) }));
}

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
      return vectorFromArray(values as (string | null)[], new Utf8());
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

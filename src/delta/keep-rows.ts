import { type Data, makeData, RecordBatch, type Struct, Table, Type } from 'apache-arrow';

/**
 * `table` with only the rows whose bit in `kept` is set (bit i for row i, counted across its
 * batches), values copied as they are, whatever their type: OPTIMIZE writes the rows a deletion
 * vector leaves into a new file.
 */
export function keepRows(table: Table, kept: Uint8Array): Table {
  let start = 0;
  const batches = table.batches.map((batch) => {
    const rows: number[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const row = start + i;
      if (kept[row >> 3]! & (1 << (row & 7))) rows.push(i);
    }
    start += batch.numRows;
    return new RecordBatch(table.schema, take(batch.data, rows) as Data<Struct>);
  });
  return new Table(table.schema, batches);
}

type Values = { [i: number]: number | bigint; constructor: new (n: number) => Values };

/**
 * The values of `data` at `rows`. Buffers as Arrow JS slices them: fixed-width values start at the
 * slice, booleans and validity bits are read at `offset + i`, value offsets are absolute into
 * values or a child that is not sliced.
 */
function take(data: Data, rows: readonly number[]): Data {
  const { type } = data;
  const length = rows.length;
  let nullCount = 0;
  let nullBitmap: Uint8Array | undefined;
  if (data.nullCount > 0) {
    nullBitmap = new Uint8Array(Math.ceil(length / 8));
    rows.forEach((r, j) => {
      if (data.getValid(r)) nullBitmap![j >> 3]! |= 1 << (j & 7);
      else nullCount++;
    });
  }
  const props = { type, length, nullCount, nullBitmap } as const;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length });
    case Type.Bool: {
      const bits = new Uint8Array(Math.ceil(length / 8));
      rows.forEach((r, j) => {
        const at = data.offset + r;
        if (data.values[at >> 3] & (1 << (at & 7))) bits[j >> 3]! |= 1 << (j & 7);
      });
      return makeData({ ...props, data: bits } as never);
    }
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.Duration:
    case Type.FixedSizeBinary:
      return makeData({ ...props, data: fixedWidth(data, rows) } as never);
    case Type.Dictionary:
      return makeData({ ...props, data: fixedWidth(data, rows), dictionary: data.dictionary } as never);
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as unknown as ArrayLike<number | bigint> & { constructor: new (n: number) => ArrayLike<number | bigint> };
      const big = typeof offsets[0] === 'bigint';
      const out = new offsets.constructor(length + 1) as unknown as (number | bigint)[];
      const parts: Uint8Array[] = [];
      let at = 0;
      rows.forEach((r, j) => {
        const from = Number(offsets[r]);
        const to = Number(offsets[r + 1]);
        parts.push((data.values as Uint8Array).subarray(from, to));
        at += to - from;
        out[j + 1] = big ? BigInt(at) : at;
      });
      if (big) out[0] = 0n;
      const values = new Uint8Array(at);
      let pos = 0;
      for (const p of parts) {
        values.set(p, pos);
        pos += p.length;
      }
      return makeData({ ...props, valueOffsets: out, data: values } as never);
    }
    case Type.List:
    case Type.Map: {
      const offsets = data.valueOffsets;
      const out = new Int32Array(length + 1);
      const childRows: number[] = [];
      rows.forEach((r, j) => {
        for (let k = offsets[r]!; k < offsets[r + 1]!; k++) childRows.push(k);
        out[j + 1] = childRows.length;
      });
      return makeData({ ...props, valueOffsets: out, child: take(data.children[0]!, childRows) } as never);
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const childRows = rows.flatMap((r) => Array.from({ length: size }, (_, k) => r * size + k));
      return makeData({ ...props, child: take(data.children[0]!, childRows) } as never);
    }
    case Type.Struct:
      return makeData({ ...props, children: data.children.map((c) => take(c, rows)) } as never);
    default:
      throw new Error(`rows cannot be dropped from a column of type ${String(type)}`);
  }
}

function fixedWidth(data: Data, rows: readonly number[]): Values {
  const values = data.values as unknown as Values;
  const stride = data.stride;
  const out = new values.constructor(rows.length * stride);
  rows.forEach((r, j) => {
    for (let k = 0; k < stride; k++) out[j * stride + k] = values[r * stride + k]!;
  });
  return out;
}

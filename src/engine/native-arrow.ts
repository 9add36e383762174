import {
  Binary,
  Bool,
  DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import type * as NodeApi from '@duckdb/node-api';
import type Bindings from '@duckdb/node-bindings';

/**
 * Arrow tables in and out of native DuckDB (`@duckdb/node-api`), which speaks neither Arrow nor
 * IPC: column data is copied between Arrow buffers and DuckDB vectors, 2,048 rows at a time. The
 * Arrow types are those DuckDB-WASM produces for the same SQL types, so both engines hand the rest
 * of the code identical tables.
 */

type Api = typeof NodeApi;
type Duck = typeof Bindings;
type DuckType = NodeApi.DuckDBType;
type Result = NodeApi.DuckDBMaterializedResult;

const CHUNK = 2048;

/** The DuckDB type an Arrow column becomes (as DuckDB-WASM's Arrow import maps it). */
export function duckTypeOfArrow(api: Api, type: DataType, column: string): DuckType {
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return api.VARCHAR;
  if (DataType.isBool(type)) return api.BOOLEAN;
  if (DataType.isInt(type)) {
    const signed = { 8: api.TINYINT, 16: api.SMALLINT, 32: api.INTEGER, 64: api.BIGINT } as const;
    const unsigned = { 8: api.UTINYINT, 16: api.USMALLINT, 32: api.UINTEGER, 64: api.UBIGINT } as const;
    return (type.isSigned ? signed : unsigned)[type.bitWidth as 8 | 16 | 32 | 64];
  }
  if (DataType.isFloat(type)) return type.precision === 2 ? api.DOUBLE : api.FLOAT;
  if (DataType.isDate(type)) return api.DATE;
  if (DataType.isTimestamp(type)) return type.timezone ? api.TIMESTAMPTZ : api.TIMESTAMP;
  if (DataType.isDecimal(type)) return api.DECIMAL(type.precision, type.scale);
  if (DataType.isBinary(type)) return api.BLOB;
  if (DataType.isList(type)) return api.LIST(duckTypeOfArrow(api, type.children[0]!.type, `${column}.element`));
  throw new Error(`native engine: column ${column} has Arrow type ${type}, which this engine cannot load`);
}

/** Append every row of `table` to `appender`, whose columns have `types` (one per Arrow column, in order). */
export function appendTable(api: Api, duck: Duck, appender: NodeApi.DuckDBAppender, table: Table, types: DuckType[]): void {
  for (const batch of table.batches) {
    for (let start = 0; start < batch.numRows; start += CHUNK) {
      const count = Math.min(CHUNK, batch.numRows - start);
      const chunk = api.DuckDBDataChunk.create(types, count);
      batch.schema.fields.forEach((field, c) => {
        const data = batch.getChildAt(c)!.data[0]!;
        fillVector(api, duck, chunk, c, data, start, count, types[c]!, field.name);
      });
      appender.appendDataChunk(chunk);
    }
  }
}

function fillVector(
  api: Api,
  duck: Duck,
  chunk: NodeApi.DuckDBDataChunk,
  c: number,
  data: Data,
  start: number,
  count: number,
  type: DuckType,
  name: string,
): void {
  const vector = duck.data_chunk_get_vector(chunk.chunk, c);
  const row = data.offset + start;
  const { typeId } = type;
  const T = api.DuckDBTypeId;
  const valid = (i: number): boolean => !data.nullBitmap || data.nullCount === 0 || (data.nullBitmap[(row + i) >> 3]! & (1 << ((row + i) & 7))) !== 0;
  if (typeId === T.VARCHAR || typeId === T.BLOB) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < count; i++) {
      if (valid(i)) duck.vector_assign_string_element_len(vector, i, bytes.subarray(offsets[row + i]!, offsets[row + i + 1]!));
    }
    setValidity(duck, vector, data, row, count);
    return;
  }
  if (typeId === T.BOOLEAN) {
    const out = new Uint8Array(count);
    const bits = data.values as Uint8Array;
    for (let i = 0; i < count; i++) out[i] = (bits[(row + i) >> 3]! >> ((row + i) & 7)) & 1;
    duck.copy_data_to_vector(vector, 0, out.buffer, 0, count);
    setValidity(duck, vector, data, row, count);
    return;
  }
  if (typeId === T.LIST || typeId === T.DECIMAL) {
    // Rare here (reject reasons, decimals): value by value.
    const values: NodeApi.DuckDBValue[] = [];
    for (let i = 0; i < count; i++) values.push(valid(i) ? toDuckValue(api, data, row + i, type) : null);
    chunk.setColumnValues(c, values);
    return;
  }
  const values = data.values as ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number; BYTES_PER_ELEMENT: number };
  if (DataType.isTimestamp(data.type) && data.type.unit !== TimeUnit.MICROSECOND) {
    const scale = [1_000_000n, 1000n, 1n, 1n][data.type.unit]!;
    const micros = new BigInt64Array(count);
    for (let i = 0; i < count; i++)
      micros[i] = data.type.unit === TimeUnit.NANOSECOND ? (values[row + i] as bigint) / 1000n : (values[row + i] as bigint) * scale;
    duck.copy_data_to_vector(vector, 0, micros.buffer, 0, count * 8);
  } else if (DataType.isDate(data.type) && data.type.unit !== 0) {
    const days = new Int32Array(count);
    for (let i = 0; i < count; i++) days[i] = Math.floor(Number(values[row + i]) / 86_400_000);
    duck.copy_data_to_vector(vector, 0, days.buffer, 0, count * 4);
  } else {
    const width = values.BYTES_PER_ELEMENT;
    if (!width) throw new Error(`native engine: cannot load column ${name} of Arrow type ${data.type}`);
    duck.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + row * width, count * width);
  }
  setValidity(duck, vector, data, row, count);
}

function setValidity(duck: Duck, vector: Bindings.Vector, data: Data, row: number, count: number): void {
  if (!data.nullBitmap || data.nullCount === 0) return;
  const bits = new Uint8Array(Math.ceil(count / 8));
  if ((row & 7) === 0) bits.set(data.nullBitmap.subarray(row >> 3, (row >> 3) + bits.length));
  else for (let i = 0; i < count; i++) if (data.nullBitmap[(row + i) >> 3]! & (1 << ((row + i) & 7))) bits[i >> 3]! |= 1 << (i & 7);
  duck.vector_ensure_validity_writable(vector);
  duck.copy_data_to_vector_validity(vector, 0, bits.buffer, 0, bits.length);
}

function toDuckValue(api: Api, data: Data, i: number, type: DuckType): NodeApi.DuckDBValue {
  if (type.typeId === api.DuckDBTypeId.LIST) {
    const child = data.children[0]!;
    const offsets = data.valueOffsets as Int32Array;
    const items: NodeApi.DuckDBValue[] = [];
    const childType = (type as NodeApi.DuckDBListType).valueType;
    for (let j = offsets[i]!; j < offsets[i + 1]!; j++) {
      const ok = !child.nullBitmap || child.nullCount === 0 || (child.nullBitmap[(child.offset + j) >> 3]! & (1 << ((child.offset + j) & 7))) !== 0;
      items.push(ok ? toDuckValue(api, child, child.offset + j, childType) : null);
    }
    return api.listValue(items);
  }
  if (type.typeId === api.DuckDBTypeId.VARCHAR) {
    const offsets = data.valueOffsets as Int32Array;
    return new TextDecoder().decode((data.values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!));
  }
  if (type.typeId === api.DuckDBTypeId.DECIMAL) {
    const words = data.values as Uint32Array;
    let v = 0n;
    for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[i * 4 + w]!);
    v = BigInt.asIntN(128, v);
    const t = type as NodeApi.DuckDBDecimalType;
    return api.decimalValue(v, t.width, t.scale);
  }
  const v = (data.values as ArrayLike<unknown>)[i];
  return v as NodeApi.DuckDBValue;
}

/** The Arrow type DuckDB-WASM gives a result column of this DuckDB type. */
function arrowTypeOf(api: Api, type: DuckType): DataType {
  const T = api.DuckDBTypeId;
  switch (type.typeId) {
    case T.BOOLEAN:
      return new Bool();
    case T.TINYINT:
      return new Int8();
    case T.SMALLINT:
      return new Int16();
    case T.INTEGER:
      return new Int32();
    case T.BIGINT:
      return new Int64();
    case T.UTINYINT:
      return new Uint8();
    case T.USMALLINT:
      return new Uint16();
    case T.UINTEGER:
      return new Uint32();
    case T.UBIGINT:
      return new Uint64();
    case T.FLOAT:
      return new Float32();
    case T.DOUBLE:
      return new Float64();
    case T.HUGEINT:
      return new Decimal(0, 38, 128);
    case T.DECIMAL: {
      const t = type as NodeApi.DuckDBDecimalType;
      return new Decimal(t.scale, t.width, 128);
    }
    case T.VARCHAR:
    case T.UUID:
    case T.ENUM:
      return new Utf8();
    case T.BLOB:
      return new Binary();
    case T.DATE:
      return new DateDay();
    case T.TIME:
      return new TimeMicrosecond();
    case T.TIMESTAMP:
      return new Timestamp(TimeUnit.MICROSECOND);
    case T.TIMESTAMP_TZ:
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case T.TIMESTAMP_S:
      return new Timestamp(TimeUnit.SECOND);
    case T.TIMESTAMP_MS:
      return new Timestamp(TimeUnit.MILLISECOND);
    case T.TIMESTAMP_NS:
      return new Timestamp(TimeUnit.NANOSECOND);
    case T.LIST:
      return new List(new Field('l', arrowTypeOf(api, (type as NodeApi.DuckDBListType).valueType), true));
    default:
      throw new Error(`native engine: results of type ${type.toString()} are not supported`);
  }
}

/** Bytes per value of the types whose DuckDB vector data is the Arrow value buffer as is. */
function fixedWidth(api: Api, typeId: number): number | undefined {
  const T = api.DuckDBTypeId;
  switch (typeId) {
    case T.TINYINT:
    case T.UTINYINT:
      return 1;
    case T.SMALLINT:
    case T.USMALLINT:
      return 2;
    case T.INTEGER:
    case T.UINTEGER:
    case T.FLOAT:
    case T.DATE:
      return 4;
    case T.BIGINT:
    case T.UBIGINT:
    case T.DOUBLE:
    case T.TIME:
    case T.TIMESTAMP:
    case T.TIMESTAMP_TZ:
    case T.TIMESTAMP_S:
    case T.TIMESTAMP_MS:
    case T.TIMESTAMP_NS:
      return 8;
    case T.HUGEINT:
      return 16;
    default:
      return undefined;
  }
}

/** A materialised DuckDB result as an Arrow table, typed as DuckDB-WASM would type it. */
export function tableOfResult(api: Api, duck: Duck, result: Result): Table {
  const columns = result.columnCount;
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  const chunks: NodeApi.DuckDBDataChunk[] = [];
  for (let i = 0; i < result.chunkCount; i++) chunks.push(result.getChunk(i));
  const total = chunks.reduce((s, ch) => s + ch.rowCount, 0);
  const fields: Field[] = [];
  const children: Data[] = [];
  for (let c = 0; c < columns; c++) {
    const type = arrowTypeOf(api, types[c]!);
    fields.push(new Field(names[c]!, type, true));
    children.push(columnData(api, duck, chunks, c, types[c]!, type, total));
  }
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: total, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

function columnData(api: Api, duck: Duck, chunks: NodeApi.DuckDBDataChunk[], c: number, duckType: DuckType, type: DataType, total: number): Data {
  const T = api.DuckDBTypeId;
  const bitmap = new Uint8Array(Math.ceil(total / 8)).fill(0xff);
  let nulls = 0;
  let row = 0;
  const readValidity = (vector: Bindings.Vector, n: number): void => {
    const validity = duck.vector_get_validity(vector, Math.ceil(n / 64) * 8);
    if (validity) {
      for (let i = 0; i < n; i++) {
        if ((validity[i >> 3]! & (1 << (i & 7))) === 0) {
          bitmap[(row + i) >> 3]! &= ~(1 << ((row + i) & 7));
          nulls++;
        }
      }
    }
  };
  const width = duckType.typeId === T.DECIMAL ? undefined : fixedWidth(api, duckType.typeId);
  if (width !== undefined) {
    const out = new Uint8Array(total * width);
    for (const chunk of chunks) {
      const n = chunk.rowCount;
      const vector = duck.data_chunk_get_vector(chunk.chunk, c);
      out.set(duck.vector_get_data(vector, n * width), row * width);
      readValidity(vector, n);
      row += n;
    }
    const values = width === 16 ? new Uint32Array(out.buffer) : typedView(type, out);
    return makeData({ type: type as Int32, length: total, nullCount: nulls, nullBitmap: nulls ? bitmap : null, data: values as Int32Array });
  }
  if (duckType.typeId === T.VARCHAR || duckType.typeId === T.BLOB) {
    const offsets = new Int32Array(total + 1);
    let bytes = new Uint8Array(Math.max(1024, total * 16));
    let at = 0;
    for (const chunk of chunks) {
      const n = chunk.rowCount;
      const vector = duck.data_chunk_get_vector(chunk.chunk, c);
      const raw = duck.vector_get_data(vector, n * 16);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      readValidity(vector, n);
      for (let i = 0; i < n; i++) {
        const r = row + i;
        if (bitmap[r >> 3]! & (1 << (r & 7))) {
          const length = view.getUint32(i * 16, true);
          if (at + length > bytes.length) {
            const grown = new Uint8Array(Math.max(bytes.length * 2, at + length));
            grown.set(bytes.subarray(0, at));
            bytes = grown;
          }
          if (length <= 12) bytes.set(raw.subarray(i * 16 + 4, i * 16 + 4 + length), at);
          else bytes.set(duck.get_data_from_pointer(raw.buffer as ArrayBuffer, raw.byteOffset + i * 16 + 8, length), at);
          at += length;
        }
        offsets[r + 1] = at;
      }
      row += n;
    }
    return makeData({
      type: type as Utf8,
      length: total,
      nullCount: nulls,
      nullBitmap: nulls ? bitmap : null,
      valueOffsets: offsets,
      data: bytes.subarray(0, at),
    });
  }
  if (duckType.typeId === T.BOOLEAN) {
    const bits = new Uint8Array(Math.ceil(total / 8));
    for (const chunk of chunks) {
      const n = chunk.rowCount;
      const vector = duck.data_chunk_get_vector(chunk.chunk, c);
      const raw = duck.vector_get_data(vector, n);
      for (let i = 0; i < n; i++) if (raw[i]) bits[(row + i) >> 3]! |= 1 << ((row + i) & 7);
      readValidity(vector, n);
      row += n;
    }
    return makeData({ type: type as Bool, length: total, nullCount: nulls, nullBitmap: nulls ? bitmap : null, data: bits });
  }
  // Everything else (decimals, lists, enums, uuids): through JS values. Results of these are small here.
  const values: unknown[] = [];
  for (const chunk of chunks) {
    const vector = chunk.getColumnVector(c);
    for (let i = 0; i < chunk.rowCount; i++) values.push(jsValue(api, vector.getItem(i), duckType));
  }
  return vectorFromArray(values as never[], type).data[0]!;
}

function typedView(type: DataType, bytes: Uint8Array): ArrayBufferView {
  const b = bytes.buffer;
  if (DataType.isFloat(type)) return type.precision === 2 ? new Float64Array(b) : new Float32Array(b);
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) return type.isSigned ? new BigInt64Array(b) : new BigUint64Array(b);
    if (type.bitWidth === 32) return type.isSigned ? new Int32Array(b) : new Uint32Array(b);
    if (type.bitWidth === 16) return type.isSigned ? new Int16Array(b) : new Uint16Array(b);
    return type.isSigned ? new Int8Array(b) : bytes;
  }
  if (DataType.isDate(type)) return new Int32Array(b);
  return new BigInt64Array(b); // timestamps, times
}

function jsValue(api: Api, value: NodeApi.DuckDBValue, type: DuckType): unknown {
  if (value === null) return null;
  const T = api.DuckDBTypeId;
  if (type.typeId === T.LIST) {
    const valueType = (type as NodeApi.DuckDBListType).valueType;
    return (value as NodeApi.DuckDBListValue).items.map((v) => jsValue(api, v, valueType));
  }
  if (type.typeId === T.DECIMAL) {
    // Arrow's builder takes a decimal as its 128-bit two's complement, least significant word first.
    const v = BigInt.asUintN(128, (value as NodeApi.DuckDBDecimalValue).value);
    return Uint32Array.from({ length: 4 }, (_, w) => Number((v >> BigInt(32 * w)) & 0xffffffffn));
  }
  if (type.typeId === T.BLOB) return (value as NodeApi.DuckDBBlobValue).bytes;
  return typeof value === 'object' ? String(value) : value;
}

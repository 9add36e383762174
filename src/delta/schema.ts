import { DataType, type Field, type Schema } from 'apache-arrow';

/** Delta schema JSON (the `schemaString` of `metaData`). */
export type DeltaType =
  | string
  | { type: 'struct'; fields: DeltaField[] }
  | { type: 'array'; elementType: DeltaType; containsNull: boolean }
  | { type: 'map'; keyType: DeltaType; valueType: DeltaType; valueContainsNull: boolean };

export interface DeltaField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export interface DeltaSchema {
  type: 'struct';
  fields: DeltaField[];
}

const PRIMITIVES = new Set([
  'string', 'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz',
]);

export function parseSchema(schemaString: string): DeltaSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaString);
  } catch {
    throw new Error('delta: metaData.schemaString is not valid JSON');
  }
  const s = schema as DeltaSchema;
  if (s?.type !== 'struct' || !Array.isArray(s.fields)) throw new Error('delta: metaData.schemaString is not a struct type');
  return s;
}

/** The Delta type of an Arrow field, as DuckDB hands it to us. */
export function deltaTypeOfArrow(type: DataType, column: string): DeltaType {
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isInt(type)) {
    if (!type.isSigned) throw new Error(`delta: column ${column} has unsigned type ${type}, which Delta has no type for`);
    return ({ 8: 'byte', 16: 'short', 32: 'integer', 64: 'long' } as const)[type.bitWidth];
  }
  if (DataType.isFloat(type)) return type.precision === 2 ? 'double' : 'float';
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'binary';
  if (DataType.isDate(type)) return 'date';
  if (DataType.isTimestamp(type)) return type.timezone ? 'timestamp' : 'timestamp_ntz';
  if (DataType.isDecimal(type)) return `decimal(${type.precision},${type.scale})`;
  if (DataType.isStruct(type)) return { type: 'struct', fields: type.children.map(deltaFieldOfArrow) };
  if (DataType.isList(type)) {
    const child = type.children[0]!;
    return { type: 'array', elementType: deltaTypeOfArrow(child.type, `${column}.element`), containsNull: true };
  }
  if (DataType.isMap(type)) {
    const entries = type.children[0]!.type.children;
    return {
      type: 'map',
      keyType: deltaTypeOfArrow(entries[0]!.type, `${column}.key`),
      valueType: deltaTypeOfArrow(entries[1]!.type, `${column}.value`),
      valueContainsNull: true,
    };
  }
  throw new Error(`delta: column ${column} has Arrow type ${type}, which this writer does not map to a Delta type`);
}

/** Every column is written nullable: Arrow's flag says only whether this batch happened to hold a null. */
function deltaFieldOfArrow(field: Field): DeltaField {
  return { name: field.name, type: deltaTypeOfArrow(field.type, field.name), nullable: true, metadata: {} };
}

export function deltaSchemaOfArrow(schema: Schema): DeltaSchema {
  return { type: 'struct', fields: schema.fields.map(deltaFieldOfArrow) };
}

/** The DuckDB SQL type that holds values of a Delta type. */
export function duckdbType(type: DeltaType): string {
  if (typeof type === 'string') {
    const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
    if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
    const t = (
      {
        string: 'VARCHAR', long: 'BIGINT', integer: 'INTEGER', short: 'SMALLINT', byte: 'TINYINT', float: 'FLOAT',
        double: 'DOUBLE', boolean: 'BOOLEAN', binary: 'BLOB', date: 'DATE', timestamp: 'TIMESTAMPTZ',
        timestamp_ntz: 'TIMESTAMP', void: 'INTEGER',
      } as Record<string, string>
    )[type];
    if (!t) throw new Error(`delta: unsupported column type ${type}`);
    return t;
  }
  if (type.type === 'struct') {
    return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  }
  if (type.type === 'array') return `${duckdbType(type.elementType)}[]`;
  if (type.type === 'map') return `MAP(${duckdbType(type.keyType)}, ${duckdbType(type.valueType)})`;
  throw new Error(`delta: unsupported column type ${JSON.stringify(type)}`);
}

export function isPrimitive(type: DeltaType): type is string {
  return typeof type === 'string' && (PRIMITIVES.has(type) || type.startsWith('decimal('));
}

export function typeName(type: DeltaType): string {
  return typeof type === 'string' ? type : type.type;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

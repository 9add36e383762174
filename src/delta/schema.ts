import { DeltaError } from './errors.ts';
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

const PRIMITIVES = new Set(['string', 'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz']);

/** A table's schema from its `schemaString`; `where` opens the message when it is not a sound schema. */
export function parseSchema(schemaString: string, where = 'the table cannot be read: its schema'): DeltaSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaString);
  } catch {
    throw new SchemaError(`${where} (metaData.schemaString) is not valid JSON`);
  }
  const problem = typeProblem(schema, 'the schema', true);
  if (problem) throw new SchemaError(`${where} (metaData.schemaString) is not a Delta schema: ${problem}`);
  return schema as DeltaSchema;
}

export class SchemaError extends DeltaError {
  static override readonly code = 'INVALID_SCHEMA';
  override name = 'SchemaError';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What is wrong with a Delta type (`top`: the schema itself, which must be a struct), in words. */
function typeProblem(type: unknown, at: string, top = false): string | undefined {
  if (typeof type === 'string') {
    if (top) return `${at} is not a struct type`;
    if (PRIMITIVES.has(type) || type === 'void' || type === 'variant') return undefined;
    const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
    if (dec && Number(dec[1]) >= 1 && Number(dec[1]) <= 38 && Number(dec[2]) <= Number(dec[1])) return undefined;
    if (type === 'decimal') return undefined;
    return `${at} has the type ${JSON.stringify(type)}, which is not a Delta type`;
  }
  if (!isObject(type)) return `${at} has no type`;
  if (top && type.type !== 'struct') return `${at} is not a struct type`;
  switch (type.type) {
    case 'struct': {
      if (!Array.isArray(type.fields)) return `${at} is a struct without a list of fields`;
      const names = new Set<string>();
      for (const f of type.fields as unknown[]) {
        if (!isObject(f) || typeof f.name !== 'string' || f.name === '') return `${at} has a field without a name`;
        if (names.has(f.name.toLowerCase())) return `${at} has two fields named ${JSON.stringify(f.name)}`;
        names.add(f.name.toLowerCase());
        if (f.metadata !== undefined && !isObject(f.metadata)) return `the metadata of column ${JSON.stringify(f.name)} is not an object`;
        const inner = typeProblem(f.type, `column ${JSON.stringify(f.name)}`);
        if (inner) return inner;
      }
      return undefined;
    }
    case 'array':
      return typeProblem(type.elementType, `the elements of ${at}`);
    case 'map':
      return typeProblem(type.keyType, `the keys of ${at}`) ?? typeProblem(type.valueType, `the values of ${at}`);
    default:
      return `${at} has the type ${JSON.stringify(type.type)}, which is not a Delta type`;
  }
}

/** The Delta type of an Arrow field, as DuckDB hands it to us. */
export function deltaTypeOfArrow(type: DataType, column: string): DeltaType {
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isInt(type)) {
    if (!type.isSigned) throw new DeltaError(`column ${column} has unsigned type ${type}, which Delta has no type for`);
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
  throw new DeltaError(`column ${column} has Arrow type ${type}, which this writer does not map to a Delta type`);
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
        string: 'VARCHAR',
        long: 'BIGINT',
        integer: 'INTEGER',
        short: 'SMALLINT',
        byte: 'TINYINT',
        float: 'FLOAT',
        double: 'DOUBLE',
        boolean: 'BOOLEAN',
        binary: 'BLOB',
        date: 'DATE',
        timestamp: 'TIMESTAMPTZ',
        timestamp_ntz: 'TIMESTAMP',
        void: 'INTEGER',
      } as Record<string, string>
    )[type];
    if (!t) throw new DeltaError(`unsupported column type ${type}`);
    return t;
  }
  if (type.type === 'struct') {
    return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  }
  if (type.type === 'array') return `${duckdbType(type.elementType)}[]`;
  if (type.type === 'map') return `MAP(${duckdbType(type.keyType)}, ${duckdbType(type.valueType)})`;
  throw new DeltaError(`unsupported column type ${JSON.stringify(type)}`);
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

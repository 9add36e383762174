import { CodedError } from '../errors.ts';
import { DataType, TimeUnit, DateUnit, type Field } from 'apache-arrow';
import { quoteString } from '../engine/duckdb.ts';
import { checkFieldIds, findFileField, type MappingMode } from './mapping.ts';
import { duckdbType, type DeltaField, type DeltaType } from './schema.ts';

/**
 * The SQL that turns a column of a data file (as DuckDB imported its Arrow) into a value of the
 * schema's type under the schema's (logical) names: struct fields found by physical name or
 * field id and renamed, fields a file lacks as NULL, fields the schema no longer has left out,
 * narrower types (type widening, INT96 or nanosecond timestamps) cast — at any depth, through
 * arrays and maps.
 */

export class FileSchemaError extends CodedError {
  static readonly code = 'FILE_SCHEMA';
  override name = 'FileSchemaError';
}

interface Converted {
  sql: string;
  /** the file's value already has exactly the schema's type and names */
  same: boolean;
}

/** The expression for the top-level file column `source` read as `field`. */
export function columnExpression(source: string, file: Field, field: DeltaField, mode: MappingMode): string {
  if (typeof field.type === 'string') {
    checkLeaf(file.type, field.type, field.name);
    return castTo(source, field.type);
  }
  const c = convert(source, file.type, field.type, mode, field.name, 0);
  return c.same ? `CAST(${source} AS ${duckdbType(field.type)})` : c.sql;
}

function convert(expr: string, file: DataType, type: DeltaType, mode: MappingMode, path: string, depth: number): Converted {
  if (typeof type === 'string') {
    checkLeaf(file, type, path);
    return { sql: castTo(expr, type), same: sameLeaf(file, type) };
  }
  if (type.type === 'struct') {
    if (!DataType.isStruct(file)) throw mismatch(path, file, 'struct');
    const fileFields = file.children;
    checkFieldIds(fileFields, mode);
    let same = fileFields.length === type.fields.length;
    const parts = type.fields.map((f, i) => {
      const at = findFileField(fileFields, f, mode);
      if (at === undefined) {
        same = false;
        return `${quoteString(f.name)}: NULL::${duckdbType(f.type)}`;
      }
      const child = convert(`struct_extract(${expr}, ${quoteString(fileFields[at]!.name)})`, fileFields[at]!.type, f.type, mode, `${path}.${f.name}`, depth);
      same &&= child.same && at === i && fileFields[at]!.name === f.name;
      return `${quoteString(f.name)}: ${child.sql}`;
    });
    return same ? { sql: expr, same } : { sql: `CASE WHEN ${expr} IS NULL THEN NULL ELSE {${parts.join(', ')}} END`, same };
  }
  if (type.type === 'array') {
    if (!(DataType.isList(file) || DataType.isFixedSizeList(file))) throw mismatch(path, file, 'array');
    const x = `x${depth}`;
    const element = convert(x, file.children[0]!.type, type.elementType, mode, `${path}.element`, depth + 1);
    return element.same ? { sql: expr, same: true } : { sql: `list_transform(${expr}, lambda ${x}: ${element.sql})`, same: false };
  }
  if (!DataType.isMap(file)) throw mismatch(path, file, 'map');
  const [keyField, valueField] = file.children[0]!.type.children as Field[];
  const e = `e${depth}`;
  const key = convert(`struct_extract(${e}, 'key')`, keyField!.type, type.keyType, mode, `${path}.key`, depth + 1);
  const value = convert(`struct_extract(${e}, 'value')`, valueField!.type, type.valueType, mode, `${path}.value`, depth + 1);
  if (key.same && value.same) return { sql: expr, same: true };
  return { sql: `map_from_entries(list_transform(map_entries(${expr}), lambda ${e}: {'key': ${key.sql}, 'value': ${value.sql}}))`, same: false };
}

export function castTo(expr: string, type: string): string {
  // Through TIMESTAMP: DuckDB without ICU casts any timestamp unit to TIMESTAMPTZ only that way.
  if (type === 'timestamp') return `CAST(CAST(${expr} AS TIMESTAMP) AS TIMESTAMPTZ)`;
  return `CAST(${expr} AS ${duckdbType(type)})`;
}

const INT_WIDTH: Record<string, number> = { byte: 8, short: 16, integer: 32, long: 64 };

function sameLeaf(file: DataType, type: string): boolean {
  if (type in INT_WIDTH) return DataType.isInt(file) && file.isSigned && file.bitWidth === INT_WIDTH[type];
  switch (type) {
    case 'string':
      return DataType.isUtf8(file);
    case 'binary':
      return DataType.isBinary(file);
    case 'boolean':
      return DataType.isBool(file);
    case 'float':
      return DataType.isFloat(file) && file.precision === 1;
    case 'double':
      return DataType.isFloat(file) && file.precision === 2;
    case 'date':
      return DataType.isDate(file) && file.unit === DateUnit.DAY;
    case 'timestamp':
      return DataType.isTimestamp(file) && file.unit === TimeUnit.MICROSECOND && !!file.timezone;
    case 'timestamp_ntz':
      return DataType.isTimestamp(file) && file.unit === TimeUnit.MICROSECOND && !file.timezone;
  }
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  return !!dec && DataType.isDecimal(file) && file.precision === Number(dec[1]) && file.scale === Number(dec[2]);
}

/** Whether a file's values can be cast to the schema's type: the same kind, or one type widening allows. */
function readableAs(file: DataType, type: string): boolean {
  if (DataType.isNull(file) || type === 'void') return true;
  if (type in INT_WIDTH) return DataType.isInt(file);
  switch (type) {
    case 'string':
      return DataType.isUtf8(file) || DataType.isLargeUtf8(file);
    case 'binary':
      return DataType.isBinary(file) || DataType.isLargeBinary(file) || DataType.isFixedSizeBinary(file);
    case 'boolean':
      return DataType.isBool(file);
    case 'float':
      return DataType.isFloat(file);
    case 'double':
      return DataType.isFloat(file) || DataType.isInt(file);
    case 'date':
      return DataType.isDate(file);
    case 'timestamp':
      return DataType.isTimestamp(file);
    case 'timestamp_ntz':
      return DataType.isTimestamp(file) || DataType.isDate(file);
  }
  return type.startsWith('decimal(') && (DataType.isDecimal(file) || DataType.isInt(file));
}

function checkLeaf(file: DataType, type: string, path: string): void {
  if (!readableAs(file, type)) throw mismatch(path, file, type);
}

const mismatch = (path: string, file: DataType, type: string): FileSchemaError =>
  new FileSchemaError(`column ${path} holds ${String(file)} values, which cannot be read as ${type}`);

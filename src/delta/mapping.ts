import { DeltaError } from './errors.ts';
import type { Field } from 'apache-arrow';
import type { Add, Metadata, Protocol } from './actions.ts';
import type { DeltaField } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * Column mapping: with mode `name` or `id`, each schema field (nested ones too) has a physical
 * name and an id in its metadata; data files, `partitionValues` and `stats` use the physical
 * names, and in mode `id` Parquet columns are matched by their `field_id`.
 */
export type MappingMode = 'none' | 'name' | 'id';

const MODE = 'delta.columnMapping.mode';
const PHYSICAL = 'delta.columnMapping.physicalName';
const ID = 'delta.columnMapping.id';
/** where arrow-rs (parquet-wasm) puts a Parquet column's field_id */
const PARQUET_FIELD_ID = 'PARQUET:field_id';

/** The table property counts only when the protocol has column mapping: reader 2, or reader 3 with the feature. */
export function mappingEnabled(protocol: Protocol): boolean {
  return protocol.minReaderVersion === 2 || (protocol.minReaderVersion >= 3 && (protocol.readerFeatures ?? []).includes('columnMapping'));
}

/** The mode named by the table property, whether or not it is valid (for checks). */
export function declaredMode(metadata: Metadata): string {
  return metadata.configuration[MODE] ?? 'none';
}

export function mappingMode(protocol: Protocol, metadata: Metadata): MappingMode {
  const mode = declaredMode(metadata);
  return mappingEnabled(protocol) && (mode === 'name' || mode === 'id') ? mode : 'none';
}

/** A column the log maps (by name or id) that the schema or a data file cannot be matched to. */
export class ColumnMappingError extends DeltaError {
  static override readonly code = 'COLUMN_MAPPING';
  override name = 'ColumnMappingError';
}

/** The name a field has in data files, `partitionValues` and `stats`. */
export function physicalName(field: DeltaField, mode: MappingMode): string {
  if (mode === 'none') return field.name;
  const name = field.metadata?.[PHYSICAL];
  if (typeof name !== 'string' || name === '') throw new ColumnMappingError(`column ${field.name} has no ${PHYSICAL} in its metadata`);
  return name;
}

export function columnId(field: DeltaField): number {
  const id = field.metadata?.[ID];
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new ColumnMappingError(`column ${field.name} has no ${ID} in its metadata`);
  return id;
}

/** A Parquet column's field_id, as parquet-wasm hands it over in the Arrow field metadata. */
export function fileFieldId(field: Field): number | undefined {
  const id = field.metadata.get(PARQUET_FIELD_ID);
  return id === undefined ? undefined : Number(id);
}

/**
 * The index among `fileFields` (one struct level of a data file) of the column that holds
 * `field`, or undefined when the file has none (it then reads as null). Without mapping, names
 * match regardless of case, as Spark matches them.
 */
export function findFileField(fileFields: readonly Field[], field: DeltaField, mode: MappingMode): number | undefined {
  if (mode === 'id') {
    const id = columnId(field);
    const i = fileFields.findIndex((f) => fileFieldId(f) === id);
    return i < 0 ? undefined : i;
  }
  const name = physicalName(field, mode);
  const exact = fileFields.findIndex((f) => f.name === name);
  if (exact >= 0) return exact;
  const lower = name.toLowerCase();
  const i = fileFields.findIndex((f) => f.name.toLowerCase() === lower);
  return i < 0 ? undefined : i;
}

/** In mode id a file without field ids cannot be matched to the schema: the protocol says refuse it. */
export function checkFieldIds(fileFields: readonly Field[], mode: MappingMode): void {
  if (mode === 'id' && fileFields.length > 0 && !fileFields.some((f) => fileFieldId(f) !== undefined)) {
    throw new ColumnMappingError('the table maps columns by id but the file has no Parquet field ids');
  }
}

/** A partition column's value in an `add`, looked up by its physical name. */
export function partitionValue(add: Pick<Add, 'partitionValues'>, field: DeltaField, mode: MappingMode): string | null | undefined {
  const key = physicalName(field, mode);
  return Object.hasOwn(add.partitionValues, key) ? (add.partitionValues[key] ?? null) : undefined;
}

/** Under mapping every struct field, at any depth, must carry what the mode resolves columns by. */
export function checkMappingMetadata(fields: readonly DeltaField[], mode: MappingMode, where: string): void {
  if (mode === 'none') return;
  const visit = (type: DeltaField['type'], path: string): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const f of type.fields) field(f, `${path}.${f.name}`);
    } else if (type.type === 'array') {
      visit(type.elementType, path);
    } else {
      visit(type.keyType, path);
      visit(type.valueType, path);
    }
  };
  const field = (f: DeltaField, path: string): void => {
    try {
      if (mode === 'id') columnId(f);
      physicalName(f, mode);
    } catch {
      const key = mode === 'id' && typeof f.metadata?.[ID] !== 'number' ? ID : PHYSICAL;
      throw new ColumnMappingError(`${where} cannot be read: its columns are mapped by ${mode}, but column ${path} has no ${key} in its metadata`);
    }
    visit(f.type, path);
  };
  for (const f of fields) field(f, f.name);
}

/** An `add`'s partition values under the schema's column names. */
export function logicalPartitionValues(
  snapshot: Pick<Snapshot, 'protocol' | 'metadata' | 'schema'>,
  add: Pick<Add, 'partitionValues'>,
): Record<string, string | null> {
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  if (mode === 'none') return add.partitionValues;
  const out: Record<string, string | null> = {};
  for (const f of snapshot.schema.fields) {
    const v = partitionValue(add, f, mode);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** The physical names of top-level columns given by their schema names (names not in the schema stay as they are). */
export function physicalNames(snapshot: Pick<Snapshot, 'protocol' | 'metadata' | 'schema'>, names: readonly string[]): string[] {
  const mode = mappingMode(snapshot.protocol, snapshot.metadata);
  if (mode === 'none') return [...names];
  return names.map((n) => {
    const f = snapshot.schema.fields.find((x) => x.name === n);
    return f ? physicalName(f, mode) : n;
  });
}

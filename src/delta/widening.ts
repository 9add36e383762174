import type { DeltaField, DeltaSchema, DeltaType } from './schema.ts';

/**
 * Type widening: files written before a column's type was widened hold the narrower type; the
 * scan casts them to the schema's. The changes a schema records (`delta.typeChanges`) must all
 * be ones this reader knows how to convert, as the protocol requires of readers.
 */

const INTEGERS = ['byte', 'short', 'integer', 'long'];

function decimal(type: string): { precision: number; scale: number } | undefined {
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Whether values of `from` can be read as `to` by a cast, as the Delta type widening rules allow. */
export function isSupportedWidening(from: string, to: string): boolean {
  if (from === to) return true;
  const i = INTEGERS.indexOf(from);
  if (i >= 0 && INTEGERS.indexOf(to) > i) return true;
  if (from === 'float' && to === 'double') return true;
  if (['byte', 'short', 'integer'].includes(from) && to === 'double') return true;
  if (from === 'date' && to === 'timestamp_ntz') return true;
  const target = decimal(to);
  if (!target) return false;
  const source = decimal(from);
  if (source) {
    const k1 = target.precision - source.precision;
    const k2 = target.scale - source.scale;
    return k1 >= k2 && k2 >= 0;
  }
  // decimal(10 + k1, k2) (long: 20 + k1) with k1 >= k2 >= 0. Spark refuses tables with the
  // narrower decimals early previews allowed (byte as decimal(4,1)), and so does this reader.
  const digits = ({ byte: 10, short: 10, integer: 10, long: 20 } as Record<string, number>)[from];
  return digits !== undefined && target.precision - target.scale >= digits;
}

export interface TypeChange {
  column: string;
  fromType: string;
  toType: string;
}

/** The first recorded type change, anywhere in the schema, that this reader cannot honour. */
export function unsupportedTypeChange(schema: DeltaSchema): TypeChange | undefined {
  for (const field of schema.fields) {
    const found = inField(field, field.name);
    if (found) return found;
  }
  return undefined;
}

function inField(field: DeltaField, path: string): TypeChange | undefined {
  const changes = field.metadata?.['delta.typeChanges'];
  if (Array.isArray(changes)) {
    for (const c of changes as { fromType?: unknown; toType?: unknown; fieldPath?: unknown }[]) {
      const fromType = String(c.fromType);
      const toType = String(c.toType);
      const column = typeof c.fieldPath === 'string' ? `${path}.${c.fieldPath}` : path;
      if (!isSupportedWidening(fromType, toType)) return { column, fromType, toType };
    }
  }
  return inType(field.type, path);
}

function inType(type: DeltaType, path: string): TypeChange | undefined {
  if (typeof type === 'string') return undefined;
  if (type.type === 'struct') {
    for (const f of type.fields) {
      const found = inField(f, `${path}.${f.name}`);
      if (found) return found;
    }
    return undefined;
  }
  if (type.type === 'array') return inType(type.elementType, `${path}.element`);
  return inType(type.keyType, `${path}.key`) ?? inType(type.valueType, `${path}.value`);
}

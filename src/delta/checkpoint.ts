import { DataType, tableFromIPC } from 'apache-arrow';
import { decodeParquet } from '../parquet/codec.ts';
import type { Action } from './actions.ts';

const ACTION_COLUMNS = ['protocol', 'metaData', 'add', 'remove', 'txn', 'domainMetadata'];

/** The actions of a classic checkpoint Parquet file (one action column set per row). */
export function readCheckpointActions(bytes: Uint8Array): Action[] {
  const table = tableFromIPC(decodeParquet(bytes));
  const present = ACTION_COLUMNS.filter((c) => table.schema.fields.some((f) => f.name === c));
  const actions: Action[] = [];
  for (const name of present) {
    const column = table.getChild(name)!;
    for (let i = 0; i < column.length; i++) {
      const value = column.get(i);
      if (value == null) continue;
      actions.push({ [name]: plain(value, column.type) } as Action);
    }
  }
  return actions;
}

/** An Arrow value (struct row, map row, list vector, BigInt) as a plain JSON-like value. */
function plain(value: unknown, type: DataType): unknown {
  if (value == null) return null;
  if (DataType.isStruct(type)) {
    const row = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of type.children) out[f.name] = plain(row[f.name], f.type);
    return out;
  }
  if (DataType.isMap(type)) {
    const valueType = type.children[0]!.type.children[1]!.type;
    const out: Record<string, unknown> = {};
    for (const [k, v] of value as Iterable<[string, unknown]>) out[k] = plain(v, valueType);
    return out;
  }
  if (DataType.isList(type)) return Array.from(value as Iterable<unknown>, (v) => plain(v, type.children[0]!.type));
  if (typeof value === 'bigint') return Number(value);
  return value;
}

import { DataType, type Table, type Vector } from 'apache-arrow';
import { formatTimestamp } from './stats.ts';

export interface Part {
  values: Record<string, string | null>;
  table: Table;
}

/**
 * Split `data` into runs of equal partition values, each without the partition columns
 * (Delta keeps those in `partitionValues`, not in the files). Slices are zero-copy; input
 * sorted by the partition columns gives one file per partition.
 */
export function partitionTable(data: Table, columns: string[]): Part[] {
  if (columns.length === 0) return [{ values: {}, table: data }];
  const vectors = columns.map((c) => data.getChild(c)!);
  const keep = data.schema.fields.map((f) => f.name).filter((n) => !columns.includes(n));
  const project = (t: Table): Table => t.select(keep);
  const parts: Part[] = [];
  let start = 0;
  let key: string | undefined;
  let values: Record<string, string | null> = {};
  for (let i = 0; i <= data.numRows; i++) {
    const rowValues = i < data.numRows ? rowPartition(vectors, columns, i) : undefined;
    const rowKey = rowValues && JSON.stringify(rowValues);
    if (i === data.numRows || rowKey !== key) {
      if (i > start) parts.push({ values, table: project(data.slice(start, i)) });
      start = i;
      key = rowKey;
      values = rowValues ?? {};
    }
  }
  if (parts.length === 0) parts.push({ values: Object.fromEntries(columns.map((c) => [c, null])), table: project(data) });
  return parts;
}

function rowPartition(vectors: Vector[], columns: string[], i: number): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  columns.forEach((c, j) => {
    out[c] = partitionValueString(vectors[j]!, i);
  });
  return out;
}

export function partitionValueString(vector: Vector, i: number): string | null {
  if (!vector.isValid(i)) return null;
  const type = vector.type as DataType;
  if (DataType.isTimestamp(type)) {
    const data = vector.data[0]!;
    let row = i;
    let chunk = data;
    for (const d of vector.data) {
      if (row < d.length) {
        chunk = d;
        break;
      }
      row -= d.length;
    }
    const raw = (chunk.values as BigInt64Array)[row]!;
    return formatTimestamp(raw, type.unit, false).replace('T', ' ');
  }
  const v = vector.get(i);
  if (DataType.isDate(type)) return new Date(v as number).toISOString().slice(0, 10);
  return String(v);
}

/** `col=value/...` with Hive's escaping; null is Hive's default partition. */
export function partitionPath(values: Record<string, string | null>, columns: string[]): string {
  return columns.map((c) => `${escapeHive(c)}=${values[c] == null ? '__HIVE_DEFAULT_PARTITION__' : escapeHive(values[c]!)}`).join('/');
}

function escapeHive(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Hive escaping percent-encodes every C0 control character and DEL, as Spark does
  return s.replace(/[\x00-\x1f"#%'*/:=?\\\x7f{[\]^]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

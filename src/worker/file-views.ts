import { CodedError } from '../errors.ts';

/**
 * A CSV, JSON or JSON-lines file dropped on the SQL console, read in TypeScript (DuckDB's own CSV
 * and JSON readers need files it can open, and its JSON extension is not available offline) into
 * columns typed from their values: BIGINT, DOUBLE, BOOLEAN or VARCHAR (nested JSON as its text).
 */
export class FileViewError extends CodedError {
  static readonly code = 'FILE_VIEW';
  override name = 'FileViewError';
}

export type Cell = string | number | boolean | null;

export interface FileTable {
  columns: { name: string; type: 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' }[];
  rows: Cell[][];
}

/** The console name of a file: `file_` and its name in lowercase letters, digits and `_` (sales-2024.csv → file_sales_2024). */
export function fileViewName(fileName: string): string {
  const base = fileName
    .split(/[\\/]/)
    .pop()!
    .replace(/\.(csv|tsv|parquet|json|jsonl|ndjson)$/i, '');
  return `file_${
    base
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'data'
  }`;
}

/** RFC 4180 CSV (quotes, doubled quotes, CRLF or LF); the first record names the columns. */
export function csvTable(text: string, fileName: string): FileTable {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endField();
      records.push(record);
      record = [];
    } else field += c;
  }
  if (quoted) throw new FileViewError(`${fileName}: a quoted field is never closed`);
  if (field !== '' || record.length > 0) {
    endField();
    records.push(record);
  }
  const [header, ...body] = records.filter((r) => !(r.length === 1 && r[0] === ''));
  if (!header) throw new FileViewError(`${fileName} is empty: a CSV file needs a header line naming its columns`);
  const bad = body.findIndex((r) => r.length !== header.length);
  if (bad >= 0) throw new FileViewError(`${fileName}: line ${bad + 2} has ${body[bad]!.length} fields, the header has ${header.length}`);
  return typed(
    uniqueNames(header),
    body.map((r) => r.map((v) => (v === '' ? null : v))),
    true,
  );
}

/** A JSON array of objects, one object, or JSON lines (one object a line). */
export function jsonTable(text: string, fileName: string): FileTable {
  const body = text.replace(/^\uFEFF/, '').trim();
  let objects: unknown[];
  if (body.startsWith('[')) {
    objects = parse(body, fileName, 1) as unknown[];
  } else {
    objects = body.split(/\r?\n/).flatMap((line, n) => (line.trim() === '' ? [] : [parse(line, fileName, n + 1)]));
  }
  if (objects.length === 0) throw new FileViewError(`${fileName} holds no JSON objects`);
  const names: string[] = [];
  for (const [n, o] of objects.entries()) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new FileViewError(`${fileName}: record ${n + 1} is not a JSON object`);
    for (const k of Object.keys(o)) if (!names.includes(k)) names.push(k);
  }
  const cell = (v: unknown): Cell => (v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as Cell));
  return typed(
    uniqueNames(names),
    objects.map((o) => names.map((k) => cell((o as Record<string, unknown>)[k]))),
    false,
  );
}

function parse(text: string, fileName: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FileViewError(`${fileName}: line ${line} is not valid JSON (${(err as Error).message})`);
  }
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    const name = raw.trim() || `column${i + 1}`;
    const n = seen.get(name.toLowerCase()) ?? 0;
    seen.set(name.toLowerCase(), n + 1);
    return n === 0 ? name : `${name}_${n + 1}`;
  });
}

/** Each column's type from its values (CSV: from text that reads as a number or a boolean). */
function typed(names: string[], rows: Cell[][], fromText: boolean): FileTable {
  const columns = names.map((name, c) => {
    const values = rows.map((r) => r[c]).filter((v): v is Exclude<Cell, null> => v !== null && v !== undefined);
    const all = (ok: (v: Exclude<Cell, null>) => boolean) => values.length > 0 && values.every(ok);
    const isInt = (v: Exclude<Cell, null>) => (fromText ? typeof v === 'string' && /^-?\d{1,18}$/.test(v) : typeof v === 'number' && Number.isSafeInteger(v));
    const isNum = (v: Exclude<Cell, null>) => (fromText ? typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) : typeof v === 'number');
    const isBool = (v: Exclude<Cell, null>) => (fromText ? typeof v === 'string' && /^(true|false)$/i.test(v) : typeof v === 'boolean');
    const type = all(isInt) ? 'BIGINT' : all(isNum) ? 'DOUBLE' : all(isBool) ? 'BOOLEAN' : 'VARCHAR';
    return { name, type } as FileTable['columns'][number];
  });
  const convert = (v: Cell, type: FileTable['columns'][number]['type']): Cell => {
    if (v === null || v === undefined) return null;
    if (type === 'BIGINT' || type === 'DOUBLE') return typeof v === 'number' ? v : Number(v);
    if (type === 'BOOLEAN') return typeof v === 'boolean' ? v : /^true$/i.test(String(v));
    return String(v);
  };
  return { columns, rows: rows.map((r) => columns.map((c, i) => convert(r[i] ?? null, c.type))) };
}

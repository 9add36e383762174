/**
 * The shape of the actions this reader relies on, checked as a commit or checkpoint is parsed: a
 * log is input from a stranger, and a field of the wrong type must be a sentence naming the table,
 * the version and the field, not a TypeError deep in a scan. Fields the reader does not use are
 * left alone, and any field may be absent where the protocol makes it optional.
 */

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const string: Check = (v) => typeof v === 'string';
const int: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const count: Check = (v) => int(v) && (v as number) >= 0;
const bool: Check = (v) => typeof v === 'boolean';
const object: Check = isObject;
const strings: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const stringMap =
  (nullable: boolean): Check =>
  (v) =>
    isObject(v) && Object.values(v).every((x) => typeof x === 'string' || (nullable && x === null));
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined || v === null || c(v);

const WHAT = new Map<Check, string>([
  [string, 'a string'],
  [int, 'a whole number'],
  [count, 'a whole number ≥ 0'],
  [bool, 'true or false'],
  [object, 'an object'],
  [strings, 'a list of strings'],
]);

interface Field {
  check: Check;
  what: string;
  required: boolean;
}

const req = (check: Check, what = WHAT.get(check)!): Field => ({ check, what, required: true });
const opt = (check: Check, what = WHAT.get(check)!): Field => ({ check: optional(check), what, required: false });

const SHAPES: Record<string, Record<string, Field>> = {
  protocol: { minReaderVersion: req(count), minWriterVersion: req(count), readerFeatures: opt(strings), writerFeatures: opt(strings) },
  metaData: {
    id: req(string),
    format: req((v) => isObject(v) && typeof v.provider === 'string', 'an object with a provider'),
    schemaString: req(string),
    partitionColumns: req(strings),
    configuration: opt(stringMap(true), 'an object of strings'),
    createdTime: opt(int),
  },
  add: {
    path: req(string),
    partitionValues: req(stringMap(true), 'an object of strings and nulls'),
    size: req(count),
    modificationTime: req(int),
    dataChange: req(bool),
    stats: opt(string),
    tags: opt(stringMap(true), 'an object of strings and nulls'),
    deletionVector: opt(object),
  },
  remove: {
    path: req(string),
    deletionTimestamp: opt(int),
    dataChange: req(bool),
    partitionValues: opt(stringMap(true), 'an object of strings and nulls'),
    size: opt(count),
    deletionVector: opt(object),
  },
  cdc: { path: req(string), partitionValues: req(stringMap(true), 'an object of strings and nulls'), size: req(count), dataChange: req(bool) },
  txn: { appId: req(string), version: req(int), lastUpdated: opt(int) },
  commitInfo: {},
};

/** What is wrong with one action of a log, in words, or undefined when its shape is sound. */
export function actionProblem(action: Record<string, unknown>): string | undefined {
  const keys = Object.keys(action);
  const kind = keys.find((k) => k in SHAPES);
  if (kind === undefined) return undefined; // an action this reader does not use: left to the protocol check
  const body = action[kind];
  if (!isObject(body)) return `its ${kind} action is ${describe(body)}, not an object`;
  for (const [name, field] of Object.entries(SHAPES[kind]!)) {
    const value = body[name];
    if (value === undefined && !field.required) continue;
    if (value === undefined) return `its ${kind} action has no ${name}`;
    if (!field.check(value)) return `the ${name} of its ${kind} action is ${describe(value)}, not ${field.what}`;
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import schema from '../../contracts/event_schema.json' with { type: 'json' };
import { EVENT_FIELDS, type EarlyStage } from './schema.ts';

/**
 * Contract v1 for one raw line (SPEC §1). A line is parsed with JSON.parse and validated against
 * contracts/event_schema.json; nothing parsed is ever merged into a trusted object, so keys such as
 * `__proto__` are just unknown fields.
 *
 * Reason names (stable; `<field>` is a top-level field name or, for unknown fields, the key):
 * - `invalid_json` (stage parse): the line is not JSON.
 * - `not_object`: the line is JSON but not an object (array, number, string, null, …).
 * - `required:<field>`: a field is missing (common, or required by the event_type).
 * - `type:<field>`, `enum:<field>`, `const:<field>`, `minimum:<field>`, `maximum:<field>`,
 *   `minLength:<field>`, `maxLength:<field>`: the field breaks that JSON Schema keyword.
 * - `format:occurred_at`: not an RFC 3339 date-time with an offset or Z, or not a real date.
 * - `additionalProperties:<key>`: a field that contract v1 does not have.
 * - `forbidden:<field>`: a field of another event type (e.g. `words` on a reader_engagement).
 * - `maxDepth:attributes`: attributes nested deeper than ATTRIBUTES_MAX_DEPTH levels.
 */

export { EVENT_TYPES, STAGES, type EventType, type Stage } from './schema.ts';

export const SCHEMA_VERSION = 1;
/** Deeper attributes are rejected: they could not be re-serialised safely in every engine. */
export const ATTRIBUTES_MAX_DEPTH = 64;
const MAX_ERRORS = 20;
const ECHO_CHARS = 200;

type Field = (typeof EVENT_FIELDS)[number];
type Value<F extends Field> = F['json'] extends 'integer' | 'number' ? number : string;

/**
 * A valid event, typed: every field of the contract (null when the line has none), occurred_at
 * as epoch microseconds (UTC) and attributes as their JSON text.
 */
export type TypedEvent = { occurred_at_us: bigint } & {
  [F in Exclude<Field, { name: 'occurred_at' }> as F['name']]: F['types'] extends 'all'
    ? F['required'] extends true
      ? Value<F>
      : Value<F> | null
    : Value<F> | null;
};

export interface Accepted {
  ok: true;
  event: TypedEvent;
}

export interface Rejected {
  ok: false;
  stage: EarlyStage;
  /** The event_id when the line has one that is a valid id (a string of 1–64 characters). */
  eventId: string | null;
  /** Rule names, deduplicated, in field order. */
  reasons: string[];
  /** Readable messages naming the JSON path and the offending value. */
  errors: string[];
}

export type CheckResult = Accepted | Rejected;

const FIELD_ORDER: readonly string[] = Object.keys(schema.properties);

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  // strictRequired would reject the per-event-type `required` inside if/then.
  validator ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictNumbers: true }).compile(schema);
  return validator;
}

export function checkLine(raw: string, lineNo: number): CheckResult {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return reject('parse', null, [{ reason: 'invalid_json', field: '', message: `line ${lineNo}: invalid JSON: ${clip(message)}` }]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return reject('schema', null, [{ reason: 'not_object', field: '', message: `(root): must be a JSON object (got ${preview(data)})` }]);
  }
  const record = data as Record<string, unknown>;
  const eventId = readableId(own(record, 'event_id'));
  const check = validate();
  const violations = check(record) ? [] : fromAjv(record, check.errors ?? []);

  const occurredAt = own(record, 'occurred_at');
  const occurredUs = typeof occurredAt === 'string' ? rfc3339ToMicros(occurredAt) : null;
  if (typeof occurredAt === 'string' && occurredUs === null && !violations.some((v) => v.reason === 'format:occurred_at')) {
    violations.push(formatViolation(occurredAt));
  }
  const attributes = own(record, 'attributes');
  if (attributes !== undefined && depthExceeds(attributes, ATTRIBUTES_MAX_DEPTH)) {
    violations.push({
      reason: 'maxDepth:attributes',
      field: 'attributes',
      message: `/attributes: must be nested at most ${ATTRIBUTES_MAX_DEPTH} levels deep`,
    });
  }
  if (violations.length > 0 || occurredUs === null) return reject('schema', eventId, violations);

  return { ok: true, event: toTypedEvent(record, occurredUs) };
}

interface Violation {
  reason: string;
  field: string;
  message: string;
}

function reject(stage: EarlyStage, eventId: string | null, violations: Violation[]): Rejected {
  const order = (field: string) => {
    const i = FIELD_ORDER.indexOf(field);
    return i < 0 ? FIELD_ORDER.length : i;
  };
  const sorted = violations
    .map((v, i) => ({ v, i }))
    .sort((a, b) => order(a.v.field) - order(b.v.field) || a.i - b.i)
    .map(({ v }) => v);
  const kept = sorted.slice(0, MAX_ERRORS);
  const errors = kept.map((v) => v.message);
  if (sorted.length > kept.length) errors.push(`… and ${sorted.length - kept.length} more errors`);
  return { ok: false, stage, eventId, reasons: [...new Set(kept.map((v) => v.reason))], errors };
}

function fromAjv(record: Record<string, unknown>, errors: ErrorObject[]): Violation[] {
  const typed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const eventType = own(record, 'event_type');
  const out: Violation[] = [];
  for (const e of errors) {
    // `if` only repeats that its `then` failed; a type error makes enum/range errors on that field noise.
    if (e.keyword === 'if') continue;
    if (e.keyword !== 'type' && typed.has(e.instancePath)) continue;
    out.push(describeError(e, record, eventType));
  }
  return out;
}

function describeError(e: ErrorObject, record: Record<string, unknown>, eventType: unknown): Violation {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') {
    const field = String(params.missingProperty);
    const byType = e.schemaPath.includes('/then/') ? ` for event_type ${JSON.stringify(eventType)}` : '';
    return { reason: `required:${field}`, field, message: `/${field}: is required${byType}` };
  }
  if (e.keyword === 'additionalProperties') {
    const key = String(params.additionalProperty);
    return {
      reason: `additionalProperties:${clip(key, 64)}`,
      field: key,
      message: `${pointer(key)}: is not a field of contract v1 (got ${preview(own(record, key))})`,
    };
  }
  const field = decodePointer(e.instancePath);
  const got = `(got ${preview(own(record, field))})`;
  const path = pointer(field);
  switch (e.keyword) {
    case 'false schema':
      return { reason: `forbidden:${field}`, field, message: `${path}: is not allowed for event_type ${JSON.stringify(eventType)} ${got}` };
    case 'type':
      return { reason: `type:${field}`, field, message: `${path}: must be ${String(params.type)} ${got}` };
    case 'enum':
      return { reason: `enum:${field}`, field, message: `${path}: must be one of ${(params.allowedValues as unknown[]).join(', ')} ${got}` };
    case 'const':
      return { reason: `const:${field}`, field, message: `${path}: must be ${JSON.stringify(params.allowedValue)} ${got}` };
    case 'minimum':
    case 'maximum':
      return { reason: `${e.keyword}:${field}`, field, message: `${path}: must be ${String(params.comparison)} ${String(params.limit)} ${got}` };
    case 'minLength':
      return { reason: `minLength:${field}`, field, message: `${path}: must be at least ${String(params.limit)} characters long ${got}` };
    case 'maxLength':
      return { reason: `maxLength:${field}`, field, message: `${path}: must be at most ${String(params.limit)} characters long ${got}` };
    case 'pattern':
      return formatViolation(own(record, field), field);
    default:
      return { reason: `${e.keyword}:${field}`, field, message: `${path}: ${e.message ?? e.keyword} ${got}` };
  }
}

function formatViolation(value: unknown, field = 'occurred_at'): Violation {
  return {
    reason: `format:${field}`,
    field,
    message: `${pointer(field)}: must be an RFC 3339 date-time with an offset or Z (got ${preview(value)})`,
  };
}

function toTypedEvent(r: Record<string, unknown>, occurredUs: bigint): TypedEvent {
  const event: Record<string, unknown> = {};
  for (const { name, json } of EVENT_FIELDS) {
    const v = own(r, name);
    if (name === 'occurred_at') event.occurred_at_us = occurredUs;
    else if (json === 'object') event[name] = v === undefined ? null : JSON.stringify(v);
    else if (json === 'string') event[name] = typeof v === 'string' ? v : null;
    else event[name] = typeof v === 'number' ? v : null;
  }
  return event as TypedEvent;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch microseconds (UTC) of an RFC 3339 date-time, or null when the text is not one or names
 * a date that does not exist. Digits beyond microseconds are truncated.
 */
export function rfc3339ToMicros(text: string): bigint | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetSeconds = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return null;
    offsetSeconds = (m[8] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  const micros = Number((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function readableId(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) return null;
  // Lengths count code points, as in the schema; only a long id can have too many.
  return value.length <= 64 || [...value].length <= 64 ? value : null;
}

/** Iterative, so hostile nesting cannot overflow the stack. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function pointer(field: string): string {
  return `/${clip(field.replaceAll('~', '~0').replaceAll('/', '~1'), 64)}`;
}

function decodePointer(path: string): string {
  return path.slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
}

function clip(text: string, max = ECHO_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A short rendering of any parsed JSON value; bounded in length and depth whatever the input. */
function preview(value: unknown): string {
  const out = render(value, 3);
  return out.length > ECHO_CHARS ? `${out.slice(0, ECHO_CHARS)}…` : out;
}

function render(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, ECHO_CHARS - 20));
  if (typeof value !== 'object' || value === null) return String(value);
  const isArray = Array.isArray(value);
  if (depth === 0) return isArray ? '[…]' : '{…}';
  const parts: string[] = [];
  let length = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (length > ECHO_CHARS) {
      parts.push('…');
      break;
    }
    const child = render((value as Record<string, unknown>)[key], depth - 1);
    const part = isArray ? child : `${JSON.stringify(clip(key, 64))}:${child}`;
    parts.push(part);
    length += part.length + 1;
  }
  return isArray ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}

import contract from '../../contracts/event_schema.json' with { type: 'json' };
import { daysFromCivil, daysInMonth } from './contract.ts';
import { carries, EVENT_FIELDS, EVENT_TYPES, type EventField } from './schema.ts';

/**
 * A fast path of checkLine (contract.ts) for the common shape of an event line: one flat JSON
 * object whose strings are printable ASCII without escapes, whose numbers are plain decimals, and
 * whose attributes, if any, map plain keys to plain strings. `scan` either vouches that checkLine
 * would accept the line, with the field positions and values it would type, or gives up (false)
 * and checkLine decides, so rejects and their reasons always come from checkLine. It allocates
 * nothing per line: JSON.parse, ajv and the typed-event object were most of silver's cost.
 */

/** The contract's fields in field order (schema.ts); a field's index is its bit in `present`. */
export const FIELDS: readonly string[] = EVENT_FIELDS.map((f) => f.name);
if (FIELDS.length > 32) throw new Error(`scan-line: ${FIELDS.length} fields do not fit the 32-bit field mask`);

const index = (name: string): number => FIELDS.indexOf(name);
const EVENT_TYPE = index('event_type');
const OCCURRED_AT = index('occurred_at');

// How the scanner checks a field's value against the contract:
/** a string: length bounds, and one of `enum` when there is one */
const TEXT = 0;
/** an RFC 3339 date-time (a timestamp column); its epoch microseconds go to `value` */
const TIME = 1;
/** a number: integer or not, bounds (`const` is both bounds) */
const NUMBER = 2;
/** a flat object of plain strings (see flatObjectEnd) */
const OBJECT = 3;
/** a keyword the scanner does not know: a line with this field goes to checkLine */
const UNKNOWN = 4;

type Property = {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  enum?: string[];
  const?: unknown;
  pattern?: string;
};
const PROPERTIES = contract.properties as Record<string, Property>;
const KNOWN_KEYWORDS = new Set(['type', 'minimum', 'maximum', 'minLength', 'maxLength', 'enum', 'const', 'pattern']);

const KIND = new Uint8Array(FIELDS.length);
const MIN = new Float64Array(FIELDS.length).fill(-Infinity);
const MAX = new Float64Array(FIELDS.length).fill(Infinity);
const INTEGER = new Uint8Array(FIELDS.length);
const MIN_LENGTH = new Int32Array(FIELDS.length);
const MAX_LENGTH = new Int32Array(FIELDS.length).fill(0x7fffffff);
const ENUMS: (readonly string[] | undefined)[] = [];
const bit = (f: number): number => 1 << f;
let STRING_FIELDS = 0;
let OBJECT_FIELDS = 0;

(EVENT_FIELDS as readonly EventField[]).forEach((field, f) => {
  const p = PROPERTIES[field.name] ?? {};
  const known = Object.keys(p).every((k) => KNOWN_KEYWORDS.has(k)) && (p.pattern === undefined || field.column === 'timestamp');
  if (field.json === 'string') {
    STRING_FIELDS |= bit(f);
    KIND[f] = !known || (field.column === 'timestamp' && p.enum !== undefined) ? UNKNOWN : field.column === 'timestamp' ? TIME : TEXT;
    MIN_LENGTH[f] = p.minLength ?? 0;
    MAX_LENGTH[f] = p.maxLength ?? 0x7fffffff;
    ENUMS[f] = p.enum;
  } else if (field.json === 'object') {
    OBJECT_FIELDS |= bit(f);
    KIND[f] = known && Object.keys(p).length === 1 ? OBJECT : UNKNOWN;
  } else {
    const fixed = typeof p.const === 'number' ? p.const : undefined;
    KIND[f] = known && (p.const === undefined || fixed !== undefined) && p.enum === undefined ? NUMBER : UNKNOWN;
    INTEGER[f] = field.json === 'integer' ? 1 : 0;
    MIN[f] = fixed ?? p.minimum ?? -Infinity;
    MAX[f] = fixed ?? p.maximum ?? Infinity;
  }
});

/** Per event type (EVENT_TYPES order), the fields it must have and those it may have. */
const REQUIRED = EVENT_TYPES.map((t) => EVENT_FIELDS.reduce((m, field, f) => (field.required && carries(field, t) ? m | bit(f) : m), 0));
const ALLOWED = EVENT_TYPES.map((t) => EVENT_FIELDS.reduce((m, field, f) => (carries(field, t) ? m | bit(f) : m), 0));

/** Field index by (first character << 5 | length) of its name; -1 for none (fieldAt settles a clash). */
const FIELD_BY_KEY = new Int8Array(128 << 5).fill(-1);
FIELDS.forEach((name, i) => {
  const key = (name.charCodeAt(0) << 5) | name.length;
  if (name.length < 32 && FIELD_BY_KEY[key] === -1) FIELD_BY_KEY[key] = i;
});

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const MAX_ATTRIBUTE_KEYS = 16;

/** The outcome of the last successful `scan`: where each field's text is, and its value. */
export class LineScan {
  /** bit f set: field f is present */
  present = 0;
  /** string fields: the text between the quotes; attributes: the object's text, braces included */
  readonly start = new Int32Array(FIELDS.length);
  readonly end = new Int32Array(FIELDS.length);
  /** number fields */
  readonly value = new Float64Array(FIELDS.length);
  /** epoch microseconds of occurred_at (a safe integer) */
  occurredUs = 0;
  private readonly keyStart = new Int32Array(MAX_ATTRIBUTE_KEYS);
  private readonly keyEnd = new Int32Array(MAX_ATTRIBUTE_KEYS);

  has(field: number): boolean {
    return (this.present & (1 << field)) !== 0;
  }

  /**
   * True when checkLine would accept the line text[from, to); the fields are then set as checkLine
   * would type them (positions in `text`).
   */
  scan(text: string, from = 0, to = text.length): boolean {
    const n = to;
    let i = skipSpace(text, from, n);
    if (code(text, i, n) !== 0x7b) return false;
    let present = 0;
    i = skipSpace(text, i + 1, n);
    for (;;) {
      if (code(text, i, n) !== 0x22) return false;
      const keyEnd = stringEnd(text, i + 1, n);
      if (keyEnd < 0) return false;
      const len = keyEnd - i - 1;
      const f = fieldAt(text, i + 1, len);
      if (f < 0 || (present & (1 << f)) !== 0) return false;
      present |= 1 << f;
      i = skipSpace(text, keyEnd + 1, n);
      if (code(text, i, n) !== 0x3a) return false;
      i = skipSpace(text, i + 1, n);
      const c = code(text, i, n);
      if ((STRING_FIELDS & (1 << f)) !== 0) {
        if (c !== 0x22) return false;
        const e = stringEnd(text, i + 1, n);
        if (e < 0) return false;
        this.start[f] = i + 1;
        this.end[f] = e;
        i = e + 1;
      } else if ((OBJECT_FIELDS & (1 << f)) !== 0) {
        const e = this.flatObjectEnd(text, i, n);
        if (e < 0) return false;
        this.start[f] = i;
        this.end[f] = e;
        i = e;
      } else {
        const e = numberEnd(text, i, n);
        if (e < 0) return false;
        this.value[f] = numberValue(text, i, e);
        i = e;
      }
      i = skipSpace(text, i, n);
      const sep = code(text, i, n);
      if (sep === 0x2c) {
        i = skipSpace(text, i + 1, n);
        continue;
      }
      if (sep !== 0x7d) return false;
      break;
    }
    if (skipSpace(text, i + 1, n) !== n) return false;
    this.present = present;
    return this.valid(text, present);
  }

  /** The contract's rules, on fields already known to be of the right JSON types. */
  private valid(text: string, present: number): boolean {
    const type = oneOf(EVENT_TYPES, text, this.start[EVENT_TYPE]!, this.end[EVENT_TYPE]!);
    if (type < 0) return false;
    const required = REQUIRED[type]!;
    if ((present & required) !== required || (present & ~ALLOWED[type]!) !== 0) return false;
    for (let f = 0, bits = present; bits !== 0; f++, bits >>>= 1) {
      if ((bits & 1) !== 0 && !this.fieldValid(text, f)) return false;
    }
    this.occurredUs = this.value[OCCURRED_AT]!;
    return true;
  }

  private fieldValid(text: string, f: number): boolean {
    switch (KIND[f]) {
      case TEXT: {
        // ASCII only (stringEnd), so characters are code points, as the contract counts them.
        const len = this.end[f]! - this.start[f]!;
        const values = ENUMS[f];
        return len >= MIN_LENGTH[f]! && len <= MAX_LENGTH[f]! && (values === undefined || oneOf(values, text, this.start[f]!, this.end[f]!) >= 0);
      }
      case TIME: {
        const us = timestampMicros(text, this.start[f]!, this.end[f]!);
        this.value[f] = us;
        return !Number.isNaN(us);
      }
      case NUMBER: {
        const v = this.value[f]!;
        return (INTEGER[f] === 0 || Number.isInteger(v)) && v >= MIN[f]! && v <= MAX[f]!;
      }
      case OBJECT:
        return true;
      default:
        return false;
    }
  }

  /**
   * The end (past `}`) of `{"key":"value",...}` at `i`: no spaces, keys unique and not starting
   * with a digit (JSON.stringify would put array-index keys first), values plain strings, so the
   * text is exactly what JSON.stringify(JSON.parse(text)) gives back. -1 otherwise.
   */
  private flatObjectEnd(text: string, i: number, n: number): number {
    if (code(text, i, n) !== 0x7b) return -1;
    i++;
    if (code(text, i, n) === 0x7d) return i + 1;
    for (let k = 0; ; k++) {
      if (k === MAX_ATTRIBUTE_KEYS || code(text, i, n) !== 0x22) return -1;
      const ke = stringEnd(text, i + 1, n);
      if (ke < 0) return -1;
      const first = text.charCodeAt(i + 1);
      if (first >= 0x30 && first <= 0x39) return -1;
      for (let j = 0; j < k; j++) if (sameText(text, this.keyStart[j]!, this.keyEnd[j]!, i + 1, ke)) return -1;
      this.keyStart[k] = i + 1;
      this.keyEnd[k] = ke;
      if (code(text, ke + 1, n) !== 0x3a || code(text, ke + 2, n) !== 0x22) return -1;
      const ve = stringEnd(text, ke + 3, n);
      if (ve < 0) return -1;
      const c = code(text, ve + 1, n);
      if (c === 0x7d) return ve + 2;
      if (c !== 0x2c) return -1;
      i = ve + 2;
    }
  }
}

// Reads stay within the text: a read past the end would make V8 deoptimize on every line.
function skipSpace(text: string, i: number, n: number): number {
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return n;
}

/** The index of the closing quote of a string whose text starts at `i`; -1 unless it is all printable ASCII without escapes. */
function stringEnd(text: string, i: number, n: number): number {
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}

function sameText(text: string, a: number, ae: number, b: number, be: number): boolean {
  if (ae - a !== be - b) return false;
  for (; a < ae; a++, b++) if (text.charCodeAt(a) !== text.charCodeAt(b)) return false;
  return true;
}

/** The end of a JSON number at `i`, before `n`; -1 when there is none. */
function numberEnd(text: string, i: number, n: number): number {
  if (code(text, i, n) === 0x2d) i++;
  let c = code(text, i, n);
  if (c === 0x30) {
    c = code(text, ++i, n);
  } else if (c >= 0x31 && c <= 0x39) {
    do c = code(text, ++i, n);
    while (c >= 0x30 && c <= 0x39);
  } else {
    return -1;
  }
  if (c === 0x2e) {
    c = code(text, ++i, n);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = code(text, ++i, n);
    while (c >= 0x30 && c <= 0x39);
  }
  if (c === 0x65 || c === 0x45) {
    c = code(text, ++i, n);
    if (c === 0x2b || c === 0x2d) c = code(text, ++i, n);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = code(text, ++i, n);
    while (c >= 0x30 && c <= 0x39);
  }
  return i;
}

/** The character code at `i`, or -1 at or past the end of the line. */
function code(text: string, i: number, n: number): number {
  return i < n ? text.charCodeAt(i) : -1;
}

/**
 * The value of the JSON number text[i, e), as JSON.parse reads it. Up to 15 significant digits and
 * 22 decimals with no exponent, one exact integer divided by an exact power of ten is correctly
 * rounded; anything else goes to Number.
 */
function numberValue(text: string, i: number, e: number): number {
  const negative = text.charCodeAt(i) === 0x2d;
  let digits = 0;
  let decimals = -1;
  let m = 0;
  for (let j = negative ? i + 1 : i; j < e; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x2e) {
      decimals = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || ++digits > 15) return Number(text.slice(i, e));
    m = m * 10 + (c - 0x30);
    if (decimals >= 0) decimals++;
  }
  if (decimals > 22) return Number(text.slice(i, e));
  const v = decimals > 0 ? m / POW10[decimals]! : m;
  return negative ? -v : v;
}

/** The index in `values` of text[a, e), or -1. */
function oneOf(values: readonly string[], text: string, a: number, e: number): number {
  const len = e - a;
  for (let k = 0; k < values.length; k++) if (values[k]!.length === len && text.startsWith(values[k]!, a)) return k;
  return -1;
}

/** The field whose name is text[i, i + len), or -1. */
function fieldAt(text: string, i: number, len: number): number {
  const f = len < 32 ? FIELD_BY_KEY[((text.charCodeAt(i) & 127) << 5) | len]! : -1;
  if (f >= 0 && text.startsWith(FIELDS[f]!, i)) return f;
  // Two names with the same first letter and length: the table holds the first.
  for (let g = f + 1; f >= 0 && g < FIELDS.length; g++) if (FIELDS[g]!.length === len && text.startsWith(FIELDS[g]!, i)) return g;
  return -1;
}

function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 0x30;
  return d >= 0 && d <= 9 ? d : NaN;
}

function two(text: string, i: number): number {
  return digit(text, i) * 10 + digit(text, i + 1);
}

/**
 * rfc3339ToMicros (contract.ts) of text[a, e), as a number; NaN when it is not a date-time, or
 * when the result is beyond 2^53 µs (years outside about 1685–2255: checkLine takes those).
 */
function timestampMicros(text: string, a: number, e: number): number {
  if (e - a < 20) return NaN;
  const year = two(text, a) * 100 + two(text, a + 2);
  const month = two(text, a + 5);
  const day = two(text, a + 8);
  const hour = two(text, a + 11);
  const minute = two(text, a + 14);
  const second = two(text, a + 17);
  const t = text.charCodeAt(a + 10);
  if (text.charCodeAt(a + 4) !== 0x2d || text.charCodeAt(a + 7) !== 0x2d || (t !== 0x54 && t !== 0x74)) return NaN;
  if (text.charCodeAt(a + 13) !== 0x3a || text.charCodeAt(a + 16) !== 0x3a) return NaN;
  // NaN fails every comparison below.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return NaN;
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return NaN;
  let i = a + 19;
  let micros = 0;
  if (text.charCodeAt(i) === 0x2e) {
    i++;
    let k = 0;
    for (; i < e; i++, k++) {
      const d = digit(text, i);
      if (Number.isNaN(d)) break;
      if (k < 6) micros = micros * 10 + d;
    }
    if (k === 0) return NaN;
    for (; k < 6; k++) micros *= 10;
  }
  let offset = 0;
  const z = text.charCodeAt(i);
  if (z === 0x5a || z === 0x7a) {
    if (i + 1 !== e) return NaN;
  } else if (z === 0x2b || z === 0x2d) {
    if (i + 6 !== e || text.charCodeAt(i + 3) !== 0x3a) return NaN;
    const oh = two(text, i + 1);
    const om = two(text, i + 4);
    if (!(oh <= 23 && om <= 59)) return NaN;
    offset = (z === 0x2d ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return NaN;
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  const us = seconds * 1_000_000 + micros;
  return Math.abs(us) <= Number.MAX_SAFE_INTEGER ? us : NaN;
}

import { CodedError } from '../errors.ts';

/**
 * Reads contracts/expectations.yml: a YAML list of maps `{name, expr, action}` with scalar values
 * (plain, 'single' or "double" quoted) and comments. Anything outside that subset is an error
 * rather than a guess, so a file this accepts means the same to any YAML parser. Callers load the
 * text themselves (fs in Node, Vite `?raw` in the browser).
 */

export const EXPECTATION_ACTIONS = ['warn', 'drop', 'fail'] as const;
export type ExpectationAction = (typeof EXPECTATION_ACTIONS)[number];

export interface Expectation {
  name: string;
  /** A DuckDB SQL boolean over typed silver rows; NULL counts as a violation. */
  expr: string;
  action: ExpectationAction;
}

export class ExpectationsError extends CodedError {
  static readonly code = 'INVALID_EXPECTATIONS';
  override name = 'ExpectationsError';
  readonly line: number;
  constructor(source: string, line: number, message: string) {
    super(`${source} line ${line}: ${message}`);
    this.line = line;
  }
}

const KEYS = ['name', 'expr', 'action'] as const;
type Key = (typeof KEYS)[number];
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

interface Item {
  line: number;
  keyIndent: number;
  values: Partial<Record<Key, { value: string; line: number }>>;
}

export function parseExpectations(text: string, source = 'expectations.yml'): Expectation[] {
  const fail = (line: number, message: string): never => {
    throw new ExpectationsError(source, line, message);
  };
  const items: Item[] = [];
  let dashIndent = -1;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const indent = raw.length - raw.trimStart().length;
    const body = raw.trim();
    if (body === '' || body.startsWith('#')) return;
    if (raw.slice(0, indent).includes('\t')) fail(lineNo, 'tabs are not allowed for indentation');

    let entry = body;
    let current = items[items.length - 1];
    if (body === '-' || body.startsWith('- ')) {
      if (dashIndent === -1) dashIndent = indent;
      if (indent !== dashIndent) fail(lineNo, `list items must all start in column ${dashIndent + 1}`);
      entry = body.slice(1).trimStart();
      if (entry === '') fail(lineNo, 'expected "- key: value" on the same line as the dash');
      current = { line: lineNo, keyIndent: indent + body.length - entry.length, values: {} };
      items.push(current);
    } else if (current === undefined) {
      fail(lineNo, 'expected a list item starting with "- "');
    } else if (indent !== current.keyIndent) {
      fail(lineNo, `expected a key in column ${current.keyIndent + 1}, under the previous key`);
    }

    const match = /^([A-Za-z_][A-Za-z0-9_]*):(?:[ ]+(.*))?$/.exec(entry);
    if (match === null) {
      fail(lineNo, `expected "key: value", got ${JSON.stringify(clip(entry))}`);
      return;
    }
    const key = match[1] as string;
    if (!(KEYS as readonly string[]).includes(key)) fail(lineNo, `unknown key "${key}" (expected ${KEYS.join(', ')})`);
    const item = current as Item;
    if (item.values[key as Key] !== undefined) fail(lineNo, `duplicate key "${key}"`);
    const rawValue = match[2] ?? '';
    const value = scalar(rawValue, (message) => fail(lineNo, message));
    const isNull = value === '' || (!/^['"]/.test(rawValue) && /^(~|null|Null|NULL)$/.test(value));
    if (isNull) fail(lineNo, `"${key}" has no value`);
    item.values[key as Key] = { value, line: lineNo };
  });

  const seen = new Map<string, number>();
  return items.map((item) => {
    for (const key of KEYS) if (item.values[key] === undefined) fail(item.line, `expectation has no "${key}"`);
    const { name, expr, action } = item.values as Record<Key, { value: string; line: number }>;
    if (!NAME.test(name.value)) fail(name.line, `name ${JSON.stringify(name.value)} must be lowercase letters, digits and _ (at most 64)`);
    const first = seen.get(name.value);
    if (first !== undefined) fail(name.line, `duplicate name "${name.value}" (first on line ${first})`);
    seen.set(name.value, name.line);
    if (!(EXPECTATION_ACTIONS as readonly string[]).includes(action.value)) {
      fail(action.line, `unknown action ${JSON.stringify(action.value)} (expected warn, drop or fail)`);
    }
    return { name: name.value, expr: expr.value, action: action.value as ExpectationAction };
  });
}

/** The value of one scalar: quoted, or plain with an optional trailing ` # comment`. */
function scalar(text: string, fail: (message: string) => never): string {
  if (text.startsWith('"')) return quoted(text, '"', fail);
  if (text.startsWith("'")) return quoted(text, "'", fail);
  const hash = text.search(/(^|[ ])#/);
  const value = (hash < 0 ? text : text.slice(0, hash)).trimEnd();
  if (/^[[\]{}&*!|>%@`,?-]/.test(value) && !/^-[0-9]/.test(value)) {
    fail(`quote this value: a plain value cannot start with "${value[0]}"`);
  }
  if (value.includes(': ')) fail('quote this value: a plain value cannot contain ": "');
  return value;
}

function quoted(text: string, quote: '"' | "'", fail: (message: string) => never): string {
  let out = '';
  let i = 1;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'" && c === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i++;
        continue;
      }
      break;
    }
    if (quote === '"' && c === '"') break;
    if (quote === '"' && c === '\\') {
      const next = text[i + 1] ?? '';
      const escaped = Object.hasOwn(ESCAPES, next) ? ESCAPES[next] : undefined;
      if (escaped === undefined) fail(`unsupported escape "\\${text[i + 1] ?? ''}" in a double-quoted value`);
      out += escaped;
      i++;
      continue;
    }
    out += c;
  }
  if (i >= text.length) fail(`missing closing ${quote} (values cannot span lines)`);
  const rest = text.slice(i + 1);
  if (rest.trim() !== '' && !/^[ ]+#/.test(rest)) fail(`unexpected text after the closing ${quote}: ${JSON.stringify(clip(rest))}`);
  return out;
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r' };

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

import { CodedError } from '../errors.ts';
import { quoteIdent, quoteString } from '../engine/duckdb.ts';
import type { DeltaField, DeltaSchema, DeltaType } from './schema.ts';

/**
 * The Spark SQL of CHECK constraints, column invariants and the like, as DuckDB SQL with the
 * same result on every row — or a reason why not. Only a small part of Spark SQL is accepted,
 * the part whose meaning is the same in both engines: columns, literals, comparisons, AND/OR/NOT,
 * IS [NOT] NULL, IN, BETWEEN, LIKE without escapes, + - *, and a few functions. Anything else
 * (division, casts, timestamps, which depend on settings in Spark) is refused rather than
 * guessed at, and the caller refuses the write.
 */
export class UntranslatableError extends CodedError {
  static readonly code = 'UNTRANSLATABLE_CONDITION';
  override name = 'UntranslatableError';
}

type Category = 'number' | 'string' | 'boolean' | 'date' | 'null';

interface Typed {
  sql: string;
  category: Category;
  /** a literal (numbers, strings, booleans, NULL, DATE '...') */
  literal?: 'string' | 'other';
}

interface Token {
  kind: 'ident' | 'quoted' | 'number' | 'string' | 'op' | 'end';
  text: string;
  at: number;
}

const OPERATORS = ['<=>', '<>', '!=', '<=', '>=', '==', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(ch)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), at: start });
    } else if (ch === '`') {
      let name = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new UntranslatableError('a `quoted` name is not closed');
        if (text[i] === '`') {
          if (text[i + 1] === '`') {
            name += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i++];
      }
      tokens.push({ kind: 'quoted', text: name, at: start });
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i))!;
      i += m[0].length;
      if (/[A-Za-z_]/.test(text[i] ?? '')) throw new UntranslatableError(`the number ${text.slice(start, i + 2)}… has a type suffix`);
      tokens.push({ kind: 'number', text: m[0], at: start });
    } else if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new UntranslatableError('a string literal is not closed');
      const value = text.slice(i + 1, end);
      if (value.includes('\\')) throw new UntranslatableError(`the string literal ${text.slice(i, end + 1)} has a backslash escape`);
      if (text[end + 1] === ch) throw new UntranslatableError('a string literal has a doubled quote');
      i = end + 1;
      tokens.push({ kind: 'string', text: value, at: start });
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) throw new UntranslatableError(`the character ${JSON.stringify(ch)} is not supported`);
      i += op.length;
      tokens.push({ kind: 'op', text: op, at: start });
    }
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

const RESERVED = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'BETWEEN', 'LIKE', 'DATE']);
const COMPARISONS: Record<string, string> = {
  '=': '=',
  '==': '=',
  '<>': '<>',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '<=>': 'IS NOT DISTINCT FROM',
};
const NUMERIC = new Set(['byte', 'short', 'integer', 'long', 'double']);

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    text: string,
    private readonly schema: DeltaSchema,
  ) {
    this.tokens = tokenize(text);
  }

  parse(): Typed {
    const e = this.or();
    if (this.peek().kind !== 'end') throw new UntranslatableError(`unexpected ${this.describe(this.peek())}`);
    if (e.category !== 'boolean' && e.category !== 'null') throw new UntranslatableError('the expression is not a condition (true or false)');
    return e;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.pos++;
    return true;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }

  private expectOp(op: string): void {
    if (!this.isOp(op)) throw new UntranslatableError(`expected "${op}" but found ${this.describe(this.peek())}`);
    this.pos++;
  }

  private describe(t: Token): string {
    return t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`;
  }

  private or(): Typed {
    let left = this.and();
    while (this.acceptWord('OR')) left = logical('OR', left, this.and());
    return left;
  }

  private and(): Typed {
    let left = this.not();
    while (this.acceptWord('AND')) left = logical('AND', left, this.not());
    return left;
  }

  private not(): Typed {
    if (this.acceptWord('NOT')) {
      const inner = this.not();
      requireBoolean(inner, 'NOT');
      return { sql: `(NOT ${inner.sql})`, category: 'boolean' };
    }
    return this.predicate();
  }

  private predicate(): Typed {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && t.text in COMPARISONS) {
      this.pos++;
      const right = this.additive();
      comparable(left, right, t.text);
      return { sql: `(${coerce(left, right).sql} ${COMPARISONS[t.text]} ${coerce(right, left).sql})`, category: 'boolean' };
    }
    if (this.acceptWord('IS')) {
      const negated = this.acceptWord('NOT');
      if (!this.acceptWord('NULL')) throw new UntranslatableError(`IS ${negated ? 'NOT ' : ''}must be followed by NULL`);
      return { sql: `(${left.sql} IS ${negated ? 'NOT ' : ''}NULL)`, category: 'boolean' };
    }
    const negated = this.isWord('NOT') && (this.isWord('IN', 1) || this.isWord('BETWEEN', 1) || this.isWord('LIKE', 1));
    if (negated) this.pos++;
    const not = negated ? 'NOT ' : '';
    if (this.acceptWord('IN')) {
      this.expectOp('(');
      const items: Typed[] = [this.additive()];
      while (this.isOp(',')) {
        this.pos++;
        items.push(this.additive());
      }
      this.expectOp(')');
      for (const item of items) {
        if (!item.literal) throw new UntranslatableError('IN lists must hold literals only');
        comparable(left, item, 'IN');
      }
      return { sql: `(${left.sql} ${not}IN (${items.map((i) => coerce(i, left).sql).join(', ')}))`, category: 'boolean' };
    }
    if (this.acceptWord('BETWEEN')) {
      const low = this.additive();
      if (!this.acceptWord('AND')) throw new UntranslatableError('BETWEEN needs AND');
      const high = this.additive();
      comparable(left, low, 'BETWEEN');
      comparable(left, high, 'BETWEEN');
      return { sql: `(${left.sql} ${not}BETWEEN ${coerce(low, left).sql} AND ${coerce(high, left).sql})`, category: 'boolean' };
    }
    if (this.acceptWord('LIKE')) {
      const pattern = this.additive();
      if (left.category !== 'string' || pattern.literal !== 'string') throw new UntranslatableError('LIKE needs a string and a string literal pattern');
      return { sql: `(${left.sql} ${not}LIKE ${pattern.sql})`, category: 'boolean' };
    }
    return left;
  }

  private additive(): Typed {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text;
      left = arithmetic(op, left, this.multiplicative());
    }
    return left;
  }

  private multiplicative(): Typed {
    let left = this.unary();
    while (this.isOp('*')) {
      this.pos++;
      left = arithmetic('*', left, this.unary());
    }
    const t = this.peek();
    // Spark and DuckDB differ on division by zero and on the type of the result.
    if (t.kind === 'op' && t.text === '/') throw new UntranslatableError('division is not supported');
    if (t.kind === 'op' && t.text === '%') throw new UntranslatableError('the remainder operator % is not supported');
    return left;
  }

  private unary(): Typed {
    if (this.isOp('-')) {
      this.pos++;
      const inner = this.unary();
      if (inner.category !== 'number') throw new UntranslatableError('unary minus needs a number');
      return { sql: `(- ${inner.sql})`, category: 'number', ...(inner.literal ? { literal: 'other' as const } : {}) };
    }
    return this.primary();
  }

  private primary(): Typed {
    const t = this.next();
    if (t.kind === 'number') return { sql: t.text, category: 'number', literal: 'other' };
    if (t.kind === 'string') return { sql: quoteString(t.text), category: 'string', literal: 'string' };
    if (t.kind === 'op' && t.text === '(') {
      const inner = this.or();
      this.expectOp(')');
      return inner;
    }
    const word = t.kind === 'ident' ? t.text.toUpperCase() : '';
    if (word === 'TRUE' || word === 'FALSE') return { sql: word, category: 'boolean', literal: 'other' };
    if (word === 'NULL') return { sql: 'NULL', category: 'null', literal: 'other' };
    if (word === 'DATE' && this.peek().kind === 'string') {
      const value = this.next().text;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UntranslatableError(`the date literal '${value}' is not of the form yyyy-mm-dd`);
      return { sql: `DATE ${quoteString(value)}`, category: 'date', literal: 'other' };
    }
    // A column may be called `date`; the other words cannot start a value.
    if (RESERVED.has(word) && word !== 'DATE') throw new UntranslatableError(`unexpected ${this.describe(t)}`);
    if (t.kind === 'ident' && this.isOp('(')) return this.call(t.text);
    if (t.kind === 'ident' || t.kind === 'quoted') return this.column(t.text);
    throw new UntranslatableError(`unexpected ${this.describe(t)}`);
  }

  private call(name: string): Typed {
    this.expectOp('(');
    const args: Typed[] = [];
    if (!this.isOp(')')) {
      args.push(this.or());
      while (this.isOp(',')) {
        this.pos++;
        args.push(this.or());
      }
    }
    this.expectOp(')');
    const fn = name.toLowerCase();
    const one = (category: Category): Typed => {
      if (args.length !== 1 || (args[0]!.category !== category && args[0]!.category !== 'null')) {
        throw new UntranslatableError(`${fn}() takes one ${category === 'number' ? 'number' : category}`);
      }
      return args[0]!;
    };
    switch (fn) {
      case 'length':
      case 'char_length':
      case 'character_length':
        return { sql: `length(${one('string').sql})`, category: 'number' };
      case 'lower':
      case 'lcase':
        return { sql: `lower(${one('string').sql})`, category: 'string' };
      case 'upper':
      case 'ucase':
        return { sql: `upper(${one('string').sql})`, category: 'string' };
      case 'abs':
        return { sql: `abs(${one('number').sql})`, category: 'number' };
      case 'coalesce': {
        const category = args.find((a) => a.category !== 'null')?.category ?? 'null';
        if (args.length === 0 || args.some((a) => a.category !== category && a.category !== 'null')) {
          throw new UntranslatableError('coalesce() takes values of one kind');
        }
        return { sql: `coalesce(${args.map((a) => a.sql).join(', ')})`, category };
      }
      default:
        throw new UntranslatableError(`the function ${name}() is not supported`);
    }
  }

  /** A column, or a field of a struct column (`a.b`), resolved without regard to case as Spark does. */
  private column(first: string): Typed {
    const path = [first];
    while (this.isOp('.')) {
      this.pos++;
      const t = this.next();
      if (t.kind !== 'ident' && t.kind !== 'quoted') throw new UntranslatableError(`expected a field name after "."`);
      path.push(t.text);
    }
    let fields: DeltaField[] = this.schema.fields;
    const sql: string[] = [];
    const names: string[] = [];
    let type: DeltaType | undefined;
    for (const name of path) {
      if (type !== undefined) {
        if (typeof type === 'string' || type.type !== 'struct') throw new UntranslatableError(`${names.join('.')} is not a struct`);
        fields = type.fields;
      }
      const found = fields.filter((f) => f.name.toLowerCase() === name.toLowerCase());
      if (found.length === 0) throw new UntranslatableError(`there is no column ${path.join('.')}`);
      if (found.length > 1) throw new UntranslatableError(`the name ${path.join('.')} is ambiguous`);
      sql.push(quoteIdent(found[0]!.name));
      names.push(found[0]!.name);
      type = found[0]!.type;
    }
    return { sql: sql.join('.'), category: categoryOf(type!, path.join('.')) };
  }
}

function categoryOf(type: DeltaType, name: string): Category {
  if (typeof type === 'string') {
    if (NUMERIC.has(type) || /^decimal\(/.test(type)) return 'number';
    if (type === 'string') return 'string';
    if (type === 'boolean') return 'boolean';
    if (type === 'date') return 'date';
  }
  const shown = typeof type === 'string' ? type : type.type;
  throw new UntranslatableError(`column ${name} is of type ${shown}, which is not supported in conditions`);
}

function requireBoolean(e: Typed, op: string): void {
  if (e.category !== 'boolean' && e.category !== 'null') throw new UntranslatableError(`${op} needs conditions on both sides`);
}

function logical(op: 'AND' | 'OR', left: Typed, right: Typed): Typed {
  requireBoolean(left, op);
  requireBoolean(right, op);
  return { sql: `(${left.sql} ${op} ${right.sql})`, category: 'boolean' };
}

function arithmetic(op: string, left: Typed, right: Typed): Typed {
  for (const side of [left, right]) {
    if (side.category !== 'number' && side.category !== 'null') throw new UntranslatableError(`"${op}" needs numbers`);
  }
  return { sql: `(${left.sql} ${op} ${right.sql})`, category: 'number' };
}

/** Two values Spark and DuckDB compare alike: of one kind, or a date and a string literal. */
function comparable(left: Typed, right: Typed, op: string): void {
  if (left.category === 'null' || right.category === 'null' || left.category === right.category) return;
  const dateAndText = (a: Typed, b: Typed) => a.category === 'date' && b.literal === 'string';
  if (dateAndText(left, right) || dateAndText(right, left)) return;
  throw new UntranslatableError(`${op} compares a ${left.category} with a ${right.category}`);
}

/** A string literal compared with a date becomes a DATE, as Spark casts it. */
function coerce(value: Typed, other: Typed): Typed {
  if (value.literal === 'string' && other.category === 'date') return { sql: `CAST(${value.sql} AS DATE)`, category: 'date' };
  return value;
}

/** The DuckDB SQL of a Spark SQL condition over `schema`'s columns; throws UntranslatableError. */
export function translateCondition(expression: string, schema: DeltaSchema): string {
  return new Parser(expression, schema).parse().sql;
}

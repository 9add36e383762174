import { beforeAll, describe, expect, it } from 'vitest';
import { translateCondition, UntranslatableError } from '../src/delta/check-expressions.ts';
import type { DeltaSchema } from '../src/delta/schema.ts';
import type { Engine } from '../src/engine/types.ts';
import { testEngine } from './helpers/engine.ts';

const SCHEMA: DeltaSchema = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'Name', type: 'string', nullable: true, metadata: {} },
    { name: 'price', type: 'decimal(10,2)', nullable: true, metadata: {} },
    { name: 'born', type: 'date', nullable: true, metadata: {} },
    { name: 'ok', type: 'boolean', nullable: true, metadata: {} },
    { name: 'at', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'ratio', type: 'float', nullable: true, metadata: {} },
    { name: 'date', type: 'date', nullable: true, metadata: {} },
    { name: 'addr', type: { type: 'struct', fields: [{ name: 'zip', type: 'string', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
  ],
};

const sql = (text: string) => translateCondition(text, SCHEMA);
const why = (text: string) => {
  try {
    sql(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UntranslatableError);
    return (err as Error).message;
  }
  throw new Error(`${text} was translated`);
};

describe('Spark SQL conditions as DuckDB SQL', () => {
  it('translates the subset whose meaning both engines share', () => {
    expect(sql('id > 0')).toBe('("id" > 0)');
    expect(sql('name <> "x" AND id BETWEEN 1 AND 10')).toBe(`(("Name" <> 'x') AND ("id" BETWEEN 1 AND 10))`);
    expect(sql('`Name` IS NOT NULL OR NOT ok')).toBe('(("Name" IS NOT NULL) OR (NOT "ok"))');
    expect(sql("born > '1900-01-01'")).toBe(`("born" > CAST('1900-01-01' AS DATE))`);
    expect(sql("date >= DATE '2020-02-29'")).toBe(`("date" >= DATE '2020-02-29')`);
    expect(sql('id NOT IN (1, 2, -3)')).toBe('("id" NOT IN (1, 2, (- 3)))');
    expect(sql("lower(name) LIKE 'a%'")).toBe(`(lower("Name") LIKE 'a%')`);
    expect(sql('price * 2 + 1 <=> 3.50')).toBe('((("price" * 2) + 1) IS NOT DISTINCT FROM 3.50)');
    expect(sql('length(addr.zip) == 5')).toBe('(length("addr"."zip") = 5)');
    expect(sql('coalesce(id, 0) >= abs(-1)')).toBe('(coalesce("id", 0) >= abs((- 1)))');
  });

  it.each([
    ['id / 2 > 1', 'division is not supported'],
    ['at > "2020-01-01"', 'column at is of type timestamp, which is not supported in conditions'],
    ['ratio > 0.5', 'column ratio is of type float, which is not supported in conditions'],
    ['name > 3', '> compares a string with a number'],
    ['id > 0L', 'the number 0L… has a type suffix'],
    ["name RLIKE 'a.*'", 'unexpected "RLIKE"'],
    ["name = 'it\\'s'", "the string literal 'it\\' has a backslash escape"],
    ['upper(name, 2) = "A"', 'upper() takes one string'],
    ['cast(id AS string) = "1"', 'expected ")" but found "AS"'],
    ['id % 2 = 0', 'the remainder operator % is not supported'],
    ['nope > 1', 'there is no column nope'],
    ['id + 1', 'the expression is not a condition (true or false)'],
    ["name LIKE 'a\\_%'", "the string literal 'a\\_%' has a backslash escape"],
    ['id > 0 AND', 'unexpected the end of the expression'],
    ['addr.zip.x = 1', 'addr.zip is not a struct'],
  ])('refuses %s', (text, reason) => {
    expect(why(text)).toBe(reason);
  });
});

describe('what DuckDB makes of the translations', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await testEngine();
    engine.run(`CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES
      (1::BIGINT, 'ann', 9.99::DECIMAL(10,2), DATE '1950-05-01', true, NULL::TIMESTAMPTZ, NULL::FLOAT, NULL::DATE, {'zip': '12345'}),
      (-2, NULL, 0.00, DATE '1850-01-01', false, NULL, NULL, NULL, NULL),
      (NULL, 'bob', NULL, NULL, NULL, NULL, NULL, NULL, {'zip': NULL})
    ) v(id, "Name", price, born, ok, "at", ratio, "date", addr)`);
  });
  const failing = (text: string) =>
    engine.rows<{ id: bigint | null }>(`SELECT id FROM t WHERE (${sql(text)}) IS NOT TRUE ORDER BY id NULLS LAST`).map((r) => r.id);

  it('a row fails when the condition is false or NULL, as in Spark', () => {
    expect(failing('id > 0')).toEqual([-2n, null]);
    expect(failing("born > '1900-01-01'")).toEqual([-2n, null]);
    expect(failing('name IS NOT NULL')).toEqual([-2n]);
    expect(failing('length(addr.zip) = 5')).toEqual([-2n, null]);
    expect(failing('coalesce(id, 0) >= -2')).toEqual([]);
    expect(failing('id <=> NULL OR id IN (1, -2)')).toEqual([]);
  });
});

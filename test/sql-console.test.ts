import { beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { checkReadOnly, rewriteTimeTravel, tokenize } from '../src/worker/sql-text.ts';
import { testEngine } from './helpers/engine.ts';

const known = new Set(['silver_events', 'bronze_events', 'gold_engagement_bands']);
const READ_ONLY =
  'It works on in-memory copies of the tables; Delta tables change only through the pipeline.';

describe('the read-only guard', () => {
  test.each([
    ['SELECT 1', 'query'],
    ['  select * from silver_events ;  -- done', 'query'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'query'],
    ['FROM silver_events LIMIT 3', 'query'],
    ['(SELECT 1) UNION (SELECT 2)', 'query'],
    ['VALUES (1), (2)', 'query'],
    ['DESCRIBE silver_events', 'inspect'],
    ['DESCRIBE SELECT 1', 'inspect'],
    ['SHOW TABLES', 'inspect'],
    ['SHOW ALL TABLES', 'inspect'],
    ['SUMMARIZE silver_events@v0', 'inspect'],
    ['EXPLAIN SELECT 1', 'explain'],
    ['EXPLAIN ANALYZE SELECT 1', 'explain'],
    ["PRAGMA table_info('silver_events')", 'pragma'],
    ["select ';' as semicolon, 'it''s' as quote, \"a;b\" from t /* ; */", 'query'],
  ])('runs %s', (sql, kind) => {
    expect(checkReadOnly(sql).kind).toBe(kind);
  });

  test.each([
    ['DELETE FROM silver_events', 'DELETE'],
    ['insert into silver_events values (1)', 'INSERT'],
    ['DROP TABLE silver_events', 'DROP'],
    ['UPDATE silver_events SET words = 0', 'UPDATE'],
    ['CREATE TABLE x AS SELECT 1', 'CREATE'],
    ["COPY silver_events TO 'x.csv'", 'COPY'],
    ["ATTACH 'x.db'", 'ATTACH'],
    ['SET threads = 1', 'SET'],
    ['CALL pragma_version()', 'CALL'],
    ['WITH x AS (SELECT 1) INSERT INTO silver_events SELECT * FROM x', 'INSERT'],
    ['WITH x AS (SELECT 1) DELETE FROM silver_events', 'DELETE'],
    ['EXPLAIN ANALYZE DELETE FROM silver_events', 'DELETE'],
    ['DESCRIBE (DELETE FROM silver_events)', 'DELETE'],
    ['-- a comment\n/* and another */ DROP TABLE x', 'DROP'],
  ])('refuses %s', (sql, word) => {
    expect(() => checkReadOnly(sql)).toThrow(
      `the console is read-only: it runs SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN and PRAGMA table_info, not ${word}. ${READ_ONLY}`,
    );
  });

  test('one statement at a time, whatever hides the second', () => {
    const one = 'run one statement at a time: the console takes a single statement (a final ";" is fine)';
    expect(() => checkReadOnly('SELECT 1; DROP TABLE silver_events')).toThrow(one);
    expect(() => checkReadOnly('SELECT 1;;')).toThrow(one);
    // Where DuckDB might read a comment or string differently, the guard sees code, and refuses.
    expect(() => checkReadOnly('SELECT 1 /* /* */ ; DROP TABLE x; -- */')).toThrow(one);
    expect(() => checkReadOnly("SELECT E'\\'; DROP TABLE x; --'")).toThrow(one);
    expect(() => checkReadOnly('SELECT $$;$$')).toThrow(one);
    expect(() => checkReadOnly('SELECT 1 -- x\r; DROP TABLE x')).toThrow(one);
  });

  test('says what is wrong with text it cannot read', () => {
    expect(() => checkReadOnly('')).toThrow('there is no SQL to run: type a query, e.g. SELECT * FROM gold_engagement_bands');
    expect(() => checkReadOnly('-- nothing')).toThrow('there is no SQL to run');
    expect(() => checkReadOnly("SELECT 'open")).toThrow("the SQL has a string that is never closed (starting 'open)");
    expect(() => checkReadOnly('SELECT 1 /* open')).toThrow('the SQL has a /* comment that is never closed with */');
    expect(() => checkReadOnly("PRAGMA enable_profiling")).toThrow('only PRAGMA table_info, show_tables, show_tables_expanded, show, database_size run here');
  });

  test('drops only a final semicolon', () => {
    expect(checkReadOnly('SELECT 1 ; -- bye').body).toBe('SELECT 1');
    expect(checkReadOnly("SELECT ';'").body).toBe("SELECT ';'");
  });

  test('tokens cover the text exactly', () => {
    const sql = `SELECT "a""b", 'c''d' -- e\n/* f */ FROM t@v3`;
    expect(tokenize(sql).map((t) => t.text).join('')).toBe(sql);
  });
});

describe('time travel in the console', () => {
  test('name@vN and VERSION AS OF N read version tables; plain names are the latest', () => {
    const r = rewriteTimeTravel(
      'SELECT a.n, b.n FROM (SELECT count(*) n FROM silver_events@v0) a, (SELECT count(*) n FROM Silver_Events VERSION AS OF 2) b, silver_events s',
      known,
    );
    expect(r.sql).toBe(
      'SELECT a.n, b.n FROM (SELECT count(*) n FROM "silver_events@v0") a, (SELECT count(*) n FROM "silver_events@v2") b, silver_events s',
    );
    expect(r.refs).toEqual([{ view: 'silver_events', version: 0 }, { view: 'silver_events', version: 2 }, { view: 'silver_events' }]);
  });

  test('leaves strings, comments, quoted and qualified names alone, but notes the tables they name', () => {
    const sql = `SELECT 'silver_events@v1', s.silver_events -- bronze_events@v1\nFROM "silver_events@v4" s`;
    const r = rewriteTimeTravel(sql, known);
    expect(r.sql).toBe(sql);
    expect(r.refs).toEqual([{ view: 'silver_events', version: 1 }, { view: 'silver_events', version: 4 }]);
    expect(rewriteTimeTravel("PRAGMA table_info('gold_engagement_bands')", known).refs).toEqual([{ view: 'gold_engagement_bands' }]);
  });

  test('an unknown table or a missing version number is a clear error', () => {
    expect(() => rewriteTimeTravel('SELECT * FROM silver_evnts@v1', known)).toThrow(
      'there is no table silver_evnts to travel in time with @v1; the tables are silver_events, bronze_events, gold_engagement_bands',
    );
    expect(() => rewriteTimeTravel('SELECT * FROM silver_events VERSION AS OF latest', known)).toThrow(
      'silver_events VERSION AS OF needs a version number, e.g. silver_events VERSION AS OF 0',
    );
  });

  describe('what it writes is SQL that DuckDB reads', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await testEngine();
      engine.run(`CREATE SCHEMA tt; CREATE TABLE tt."silver_events@v0" AS SELECT 1 AS n; CREATE TABLE tt."silver_events@v2" AS SELECT 2 AS n;
        CREATE VIEW tt.silver_events AS SELECT 3 AS n; USE tt`);
    });
    test.each([
      ['SELECT n FROM silver_events@v0', [1]],
      ['SELECT n FROM silver_events VERSION AS OF 2 AS old', [2]],
      ['SELECT a.n + b.n AS n FROM silver_events@v0 a JOIN silver_events@v2 b ON true', [3]],
      ['SELECT n FROM silver_events@v2 UNION ALL SELECT n FROM silver_events ORDER BY n', [2, 3]],
    ])('%s', (sql, expected) => {
      const rewritten = rewriteTimeTravel(sql, known).sql;
      expect(() => engine.run(`EXPLAIN ${rewritten}`)).not.toThrow();
      expect(engine.rows<{ n: number }>(rewritten).map((r) => r.n)).toEqual(expected);
    });
  });
});

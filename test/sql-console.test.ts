import { beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import {
  ConsoleSyntaxError,
  checkReadOnly,
  consoleMessage,
  listsTables,
  rewriteCatalog,
  rewriteTimeTravel,
  splitStatements,
  tokenize,
} from '../src/worker/sql-text.ts';
import { testEngine } from './helpers/engine.ts';

const known = new Set(['silver_events', 'bronze_events', 'gold_engagement_bands']);
const READ_ONLY = 'It works on in-memory copies of the tables; Delta tables change only through the pipeline.';

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
    ['DELETE FROM silver_events', 'DELETE, which deletes rows'],
    ['insert into silver_events values (1)', 'INSERT, which adds rows'],
    ['DROP TABLE silver_events', 'DROP, which drops a table or other object'],
    ['UPDATE silver_events SET words = 0', 'UPDATE, which changes rows'],
    ['CREATE TABLE x AS SELECT 1', 'CREATE, which creates a table, view or other object'],
    ["COPY silver_events TO 'x.csv'", 'COPY, which reads or writes files'],
    ["ATTACH 'x.db'", 'ATTACH, which attaches a database'],
    ['SET threads = 1', 'SET, which changes a setting'],
    ['CALL pragma_version()', 'CALL, which calls a table function'],
    ['INSTALL parquet', 'INSTALL, which installs an extension'],
    ['WITH x AS (SELECT 1) INSERT INTO silver_events SELECT * FROM x', 'INSERT, which adds rows'],
    ['WITH x AS (SELECT 1) DELETE FROM silver_events', 'DELETE, which deletes rows'],
    ['EXPLAIN ANALYZE DELETE FROM silver_events', 'DELETE, which deletes rows'],
    ['DESCRIBE (DELETE FROM silver_events)', 'DELETE, which deletes rows'],
    ['-- a comment\n/* and another */ DROP TABLE x', 'DROP, which drops a table or other object'],
  ])('refuses %s, naming its kind', (sql, word) => {
    expect(() => checkReadOnly(sql)).toThrow(
      `the console is read-only: it runs SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN and PRAGMA table_info, not ${word}. ${READ_ONLY}`,
    );
  });

  test('a first word that starts no statement is a syntax error, with the statement it likely meant', () => {
    const runs = 'The console runs SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN and PRAGMA table_info.';
    expect(() => checkReadOnly('selec count(*) from silver_events')).toThrow(`syntax error: no SQL statement starts with selec — did you mean SELECT? ${runs}`);
    expect(() => checkReadOnly('DESCRIBEE silver_events')).toThrow(`syntax error: no SQL statement starts with DESCRIBEE — did you mean DESCRIBE? ${runs}`);
    expect(() => checkReadOnly('hello world')).toThrow(`syntax error: no SQL statement starts with hello ${runs}`);
    expect(() => checkReadOnly('selec 1')).toThrow(ConsoleSyntaxError);
  });

  test('statements split at every ; the guard sees', () => {
    expect(splitStatements('SELECT 1; SELECT 2;\n-- done')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitStatements("SELECT ';' AS s; ;  SELECT 2")).toEqual(["SELECT ';' AS s", 'SELECT 2']);
    expect(splitStatements('SELECT 1 /* /* */ ; DROP TABLE x')).toEqual(['SELECT 1 /* /* */', 'DROP TABLE x']);
  });

  test('the catalog: SHOW TABLES and information_schema name the console’s own relations', () => {
    expect(['SHOW TABLES', 'show all tables;', 'DESCRIBE', 'PRAGMA show_tables'].map((q) => listsTables(q))).toEqual([true, true, true, true]);
    expect(listsTables('SHOW silver_events')).toBe(false);
    const r = rewriteCatalog(
      "SELECT table_name FROM information_schema.tables t JOIN lake.information_schema.columns USING (table_name) WHERE x = 'information_schema.tables'",
    );
    expect(r.sql).toBe("SELECT table_name FROM console_tables t JOIN console_columns USING (table_name) WHERE x = 'information_schema.tables'");
    expect([...r.uses].sort()).toEqual(['columns', 'tables']);
    expect(rewriteCatalog('select * from duckdb_tables() union all select * from sqlite_master').sql).toBe(
      'select * from console_tables union all select * from console_tables',
    );
  });

  test('DuckDB’s messages made right: one LINE block, suggestions from the console’s tables, no INSTALL hints', () => {
    const twice =
      'Parser Error: syntax error at or near "FROM"\n\nLINE 1: SELECT count(* FROM silver_events\n                       ^\n\nLINE 1: SELECT count(* FROM silver_events\n                       ^';
    expect(consoleMessage(twice, [])).toBe(
      'Parser Error: syntax error at or near "FROM"\n\nLINE 1: SELECT count(* FROM silver_events\n                       ^',
    );
    const missing = 'Catalog Error: Table with name silver_evnts does not exist!\nDid you mean "silver_events@v0"?\n\nLINE 1: select * from silver_evnts';
    expect(consoleMessage(missing, ['silver_events', 'gold_dropoff_rate'])).toBe(
      'Catalog Error: Table with name silver_evnts does not exist!\nDid you mean "silver_events"?\n\nLINE 1: select * from silver_evnts',
    );
    expect(consoleMessage('Catalog Error: Table with name zzz does not exist!\nDid you mean "sqlite_master"?', ['silver_events'])).toBe(
      'Catalog Error: Table with name zzz does not exist!\nThe tables are silver_events.',
    );
    const extension =
      'Catalog Error: Table Function with name "read_parquet" is not in the catalog, but it exists in the parquet extension.\n\nPlease try installing and loading the parquet extension by running:\nINSTALL parquet;\nLOAD parquet;';
    expect(consoleMessage(extension, [])).toBe(
      "Catalog Error: Table Function read_parquet is in DuckDB's parquet extension, which this page does not load: it runs offline, without DuckDB's extension downloads. " +
        'Query the lakehouse’s tables by name (SHOW TABLES lists them); to query a CSV, Parquet or JSON file, drop it on the SQL tab and it becomes a view.',
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
    expect(() => checkReadOnly('PRAGMA enable_profiling')).toThrow('only PRAGMA table_info, show_tables, show_tables_expanded, show, database_size run here');
  });

  test('drops only a final semicolon', () => {
    expect(checkReadOnly('SELECT 1 ; -- bye').body).toBe('SELECT 1');
    expect(checkReadOnly("SELECT ';'").body).toBe("SELECT ';'");
  });

  test('tokens cover the text exactly', () => {
    const sql = `SELECT "a""b", 'c''d' -- e\n/* f */ FROM t@v3`;
    expect(
      tokenize(sql)
        .map((t) => t.text)
        .join(''),
    ).toBe(sql);
  });
});

describe('time travel in the console', () => {
  test('name@vN and VERSION AS OF N read version tables; plain names are the latest', () => {
    const r = rewriteTimeTravel(
      'SELECT a.n, b.n FROM (SELECT count(*) n FROM silver_events@v0) a, (SELECT count(*) n FROM Silver_Events VERSION AS OF 2) b, silver_events s',
      known,
    );
    expect(r.sql).toBe('SELECT a.n, b.n FROM (SELECT count(*) n FROM "silver_events@v0") a, (SELECT count(*) n FROM "silver_events@v2") b, silver_events s');
    expect(r.refs).toEqual([{ view: 'silver_events', version: 0 }, { view: 'silver_events', version: 2 }, { view: 'silver_events' }]);
  });

  test('leaves strings, comments, quoted and qualified names alone, but notes the tables they name', () => {
    const sql = `SELECT 'silver_events@v1', s.silver_events -- bronze_events@v1\nFROM "silver_events@v4" s`;
    const r = rewriteTimeTravel(sql, known);
    expect(r.sql).toBe(sql);
    expect(r.refs).toEqual([
      { view: 'silver_events', version: 1 },
      { view: 'silver_events', version: 4 },
    ]);
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

import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import type { PipelineContext } from '../src/pipeline/context.ts';
import { loadSql } from '../src/pipeline/sql-node.ts';
import { evaluateExpectations, lateRejects, SILVER_SQL, silverSqlText } from '../src/pipeline/silver/checks.ts';
import { SILVER_EVENTS_DDL } from '../src/pipeline/tables.ts';
import { TypedRows } from '../src/pipeline/typed-rows.ts';
import { checkInto } from '../src/pipeline/check-lines.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

/** sql/silver/: the checks silver runs in the engine, as files, filled in by silver/checks.ts. */
let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const line = (id: string, extra = '', at = '2026-01-02T10:00:00Z') =>
  `{"event_id":"${id}","event_type":"writing_session","occurred_at":"${at}","creator_id":"creator-0001","work_id":"work-00001","schema_version":1,"words":${extra || 100},"duration_minutes":10}`;

function typedRows(lines: string[]): TypedRows {
  const rows = new TypedRows(16);
  checkInto(
    rows,
    lines,
    (i) => i + 1,
    () => 1_767_348_000_000_000n,
    false,
    () => {
      throw new Error('every line here is valid');
    },
  );
  return rows;
}

describe('sql/silver', () => {
  it('holds exactly the files silver runs', () => {
    expect(Object.keys(loadSql('silver'))).toEqual([...SILVER_SQL]);
  });

  it('fills each placeholder, and refuses a missing file, an unfilled placeholder or a value without one', () => {
    const sql = { batch_checked: 'select {{a}}, {{b}}, {{a}}', late_rejects: 'select 1' };
    expect(silverSqlText(sql, 'batch_checked', { a: '1', b: "'$&'" })).toBe("select 1, '$&', 1");
    expect(() => silverSqlText(sql, 'batch_checked', { a: '1' })).toThrow('silver: sql/silver/batch_checked.sql has a placeholder {{b}} that nothing fills');
    expect(() => silverSqlText(sql, 'batch_checked', { a: '1', b: '2', c: '3' })).toThrow('silver: sql/silver/batch_checked.sql lacks the placeholder {{c}}');
    expect(() => silverSqlText({}, 'late_rejects', {})).toThrow('silver: SQL file sql/silver/late_rejects.sql is missing (have: none)');
  });

  it('batch_checked.sql counts each expectation; late_rejects.sql finds drops and duplicates, in line order', () => {
    const ctx: PipelineContext = pipelineContext(engine, undefined, {
      expectations: [
        { name: 'few_words', expr: 'words <= 1000', action: 'drop' },
        // Whole numbers reach the engine as DOUBLE; the expectations see them as BIGINT, as in silver/events.
        { name: 'words_bigint', expr: "typeof(words) = 'BIGINT' AND typeof(duration_minutes) = 'DOUBLE'", action: 'warn' },
      ],
    });
    engine.run(`CREATE OR REPLACE TABLE silver_events ${SILVER_EVENTS_DDL}`);
    engine.run(`INSERT INTO silver_events (event_id, batch_id) VALUES ('e-old', 'batch-1')`);
    const rows = typedRows([line('e1'), line('e2', '5000'), line('e-old'), line('e1'), line('e3'), line('e1')]);
    const quality = evaluateExpectations(ctx, rows, 'batch-2');
    expect(quality.map((q) => [q.expectation, q.action, q.passed, q.failed])).toEqual([
      ['few_words', 'drop', 5, 1],
      ['words_bigint', 'warn', 6, 0],
    ]);
    const late = lateRejects(ctx, 'batch-2');
    expect(late.map((r) => [r.row, r.line, r.eventId, r.stage, r.reasons, r.errors])).toEqual([
      [1, 2, 'e2', 'expectation', ['few_words'], ['expectation few_words failed: requires words <= 1000 (event e2, occurred_at 2026-01-02T10:00:00Z)']],
      [2, 3, 'e-old', 'duplicate', ['duplicate_event_id'], ['/event_id: e-old was already accepted in batch batch-1']],
      [3, 4, 'e1', 'duplicate', ['duplicate_event_id'], ['/event_id: e1 already appeared at line 1 of this batch']],
      [5, 6, 'e1', 'duplicate', ['duplicate_event_id'], ['/event_id: e1 already appeared at line 1 of this batch']],
    ]);
    expect(late.every((r) => r.ingestedAt === 1_767_348_000_000_000n)).toBe(true);
    engine.run('DROP TABLE batch_checked; DROP TABLE silver_events');
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import contract from '../contracts/event_schema.json' with { type: 'json' };
import { carries, EVENT_FIELDS, EVENT_TYPES, REJECT_STAGES, requiredFields, STAGES, type EventField } from '../src/pipeline/schema.ts';

/**
 * src/pipeline/schema.ts spells each event field once; contracts/event_schema.json is the contract
 * users read. They must agree, and adding a field to both must be all it takes for the checks,
 * typed rows and silver to carry it.
 */

type Branch = { if: { properties: { event_type: { const: string } } }; then: { required?: string[]; properties?: Record<string, boolean> } };

/** What the contract says, in the terms of schema.ts. */
function fromContract(c: typeof contract) {
  const properties = c.properties as Record<string, { type: string; enum?: string[] }>;
  const branches = c.allOf as unknown as Branch[];
  const branch = (t: string) => branches.find((b) => b.if.properties.event_type.const === t)!.then;
  return {
    names: Object.keys(properties),
    types: Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, p.type])),
    common: c.required,
    byType: Object.fromEntries(
      EVENT_TYPES.map((t) => [t, { required: [...c.required, ...(branch(t).required ?? [])], forbidden: Object.keys(branch(t).properties ?? {}).sort() }]),
    ),
  };
}

function fromSchema(fields: readonly EventField[]) {
  return {
    names: fields.map((f) => f.name),
    types: Object.fromEntries(fields.map((f) => [f.name, f.json])),
    common: fields.filter((f) => f.types === 'all' && f.required).map((f) => f.name),
    byType: Object.fromEntries(
      EVENT_TYPES.map((t) => [
        t,
        {
          required: requiredFields(fields, t),
          forbidden: fields
            .filter((f) => !carries(f, t))
            .map((f) => f.name)
            .sort(),
        },
      ]),
    ),
  };
}

describe('schema.ts and contracts/event_schema.json', () => {
  it('name the same fields, in the same order, with the same JSON types and the same rules per event type', () => {
    expect(fromSchema(EVENT_FIELDS)).toEqual(fromContract(contract));
    expect(contract.properties.event_type.enum).toEqual([...EVENT_TYPES]);
    expect(contract.properties.stage.enum).toEqual([...STAGES]);
    expect(contract.allOf.map((b) => b.if.properties.event_type.const)).toEqual([...EVENT_TYPES]);
  });

  it('a field the contract lacks, or rules that differ, are seen', () => {
    const extra = [...EVENT_FIELDS, { name: 'word_goal', json: 'integer', column: 'long', types: ['writing_session'], required: false } as const];
    expect(fromSchema(extra)).not.toEqual(fromContract(contract));
    const moved = EVENT_FIELDS.map((f) => (f.name === 'stage' ? { ...f, types: ['stage_entered', 'revision'] as const } : f));
    expect(fromSchema(moved)).not.toEqual(fromContract(contract));
  });

  it('the reject stages are one list', () => {
    expect(REJECT_STAGES).toEqual(['parse', 'schema', 'expectation', 'duplicate']);
  });
});

/** The contract with an optional `word_goal` (a whole number, 0–1,000,000) on writing sessions. */
function contractWithWordGoal(): typeof contract {
  const c = structuredClone(contract) as typeof contract & { properties: Record<string, unknown> };
  c.properties.word_goal = { type: 'integer', minimum: 0, maximum: 1_000_000 };
  for (const b of c.allOf as unknown as Branch[]) {
    if (b.if.properties.event_type.const !== 'writing_session') b.then.properties = { ...b.then.properties, word_goal: false };
  }
  return c;
}

const WORD_GOAL: EventField = { name: 'word_goal', json: 'integer', column: 'long', types: ['writing_session'], required: false };

describe('adding a field: one entry in schema.ts and its property in the contract', () => {
  let m: {
    contract: typeof import('../src/pipeline/contract.ts');
    rows: typeof import('../src/pipeline/typed-rows.ts');
    tables: typeof import('../src/pipeline/tables.ts');
    lakehouse: typeof import('../src/pipeline/lakehouse.ts');
    snapshot: typeof import('../src/delta/snapshot.ts');
    memory: typeof import('../src/storage/memory.ts');
    engine: typeof import('./helpers/engine.ts');
    pipeline: typeof import('./helpers/pipeline.ts');
    generator: typeof import('../src/pipeline/generator/index.ts');
  };

  beforeAll(async () => {
    vi.resetModules();
    vi.doMock('../src/pipeline/schema.ts', async (importOriginal) => {
      const real = await importOriginal<typeof import('../src/pipeline/schema.ts')>();
      return { ...real, EVENT_FIELDS: [...real.EVENT_FIELDS, WORD_GOAL] };
    });
    vi.doMock('../contracts/event_schema.json', () => ({ default: contractWithWordGoal() }));
    m = {
      contract: await import('../src/pipeline/contract.ts'),
      rows: await import('../src/pipeline/typed-rows.ts'),
      tables: await import('../src/pipeline/tables.ts'),
      lakehouse: await import('../src/pipeline/lakehouse.ts'),
      snapshot: await import('../src/delta/snapshot.ts'),
      memory: await import('../src/storage/memory.ts'),
      engine: await import('./helpers/engine.ts'),
      pipeline: await import('./helpers/pipeline.ts'),
      generator: await import('../src/pipeline/generator/index.ts'),
    };
  });

  afterAll(() => {
    vi.doUnmock('../src/pipeline/schema.ts');
    vi.doUnmock('../contracts/event_schema.json');
    vi.resetModules();
  });

  const session = (extra: string) =>
    `{"event_id":"evt-g1","event_type":"writing_session","occurred_at":"2026-01-02T10:00:00Z","creator_id":"creator-0001","work_id":"work-00001","schema_version":1,"words":812,"duration_minutes":45.5${extra}}`;
  const reading = (extra: string) =>
    `{"event_id":"evt-g2","event_type":"reader_engagement","occurred_at":"2026-01-02T10:00:00Z","creator_id":"creator-0001","work_id":"work-00001","schema_version":1,"reader_id":"reader-000001","engagement_seconds":30,"progress_pct":10${extra}}`;

  it('the contract checks type it and hold its rules', () => {
    const ok = m.contract.checkLine(session(',"word_goal":1500'), 1);
    expect(ok.ok && (ok.event as unknown as Record<string, unknown>).word_goal).toBe(1500);
    const without = m.contract.checkLine(session(''), 1);
    expect(without.ok && (without.event as unknown as Record<string, unknown>).word_goal).toBe(null);
    const reasons = (line: string) => {
      const r = m.contract.checkLine(line, 1);
      return r.ok ? [] : r.reasons;
    };
    expect(reasons(reading(',"word_goal":1500'))).toEqual(['forbidden:word_goal']);
    expect(reasons(session(',"word_goal":-1'))).toEqual(['minimum:word_goal']);
    expect(reasons(session(',"word_goal":"1500"'))).toEqual(['type:word_goal']);
  });

  it('the fast scanner vouches for it, and typed rows carry it into silver as a BIGINT column', () => {
    const rows = new m.rows.TypedRows(4);
    for (const [i, line] of [session(',"word_goal":1500'), session(''), session(',"word_goal":2.5')].entries()) {
      expect(rows.pushLine(line, 0, line.length, i + 1, 0n), line).toBe(i < 2);
    }
    const table = rows.silverTable(Uint32Array.from([0, 1]), 'b');
    expect(table.schema.fields.map((f) => f.name)).toEqual([...m.tables.SILVER_EVENT_COLUMNS]);
    expect(String(table.getChild('word_goal')!.type)).toBe('Int64');
    expect([...table.getChild('word_goal')!]).toEqual([1500n, null]);
  });

  it('the silver tables list it, typed', () => {
    expect(m.tables.SILVER_EVENT_COLUMNS.slice(-5)).toEqual(['attributes', 'word_goal', 'batch_id', 'ingested_at', 'event_date']);
    expect(m.tables.TYPED_COLUMNS.word_goal).toBe('long');
    expect(m.tables.SILVER_EVENTS_DDL).toContain('attributes VARCHAR, word_goal BIGINT, batch_id VARCHAR');
  });

  it('a run takes it through bronze and silver, and expectations can name it', async () => {
    const engine = await m.engine.testEngine();
    const storage = new m.memory.MemoryStorage();
    const expectations = [
      ...m.pipeline.shippedExpectations(),
      { name: 'word_goal_reachable', expr: 'word_goal IS NULL OR word_goal <= 100000', action: 'drop' as const },
    ];
    const ctx = m.pipeline.pipelineContext(engine, storage, { expectations });
    const generated = [...m.generator.generateEvents({ events: 500, seed: 4, days: 5, invalidRate: 0 })].flat();
    const extra = [session(',"word_goal":1500'), session(',"word_goal":200000').replace('evt-g1', 'evt-g3'), reading('').replace('evt-g2', 'evt-g4')];
    const summary = await m.lakehouse.runBatch(ctx, [generated, extra], 'test');
    expect(summary.silver.map((r) => [r.bronzeRows, r.silverRows, r.rejectsByReason])).toEqual([[503, 502, { word_goal_reachable: 1 }]]);
    const silver = await m.snapshot.loadSnapshot(storage, m.tables.TABLES.silver);
    expect(silver.schema.fields.find((f) => f.name === 'word_goal')?.type).toBe('long');
    expect(engine.rows('SELECT event_id, word_goal FROM silver_events WHERE word_goal IS NOT NULL')).toEqual([{ event_id: 'evt-g1', word_goal: 1500n }]);
    expect(Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events WHERE word_goal IS NULL')[0]!.n)).toBe(501);
  });
});

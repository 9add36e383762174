import { DataType, tableFromIPC, type Table } from 'apache-arrow';
import { beforeAll, describe, expect, test } from 'vitest';
import { openNodeEngine } from '../src/engine/node.ts';
import { QueryError, type Engine } from '../src/engine/types.ts';
import { checkGoldSql, computeGoldTable, sqlByFileName } from '../src/pipeline/gold.ts';
import { GOLD_TABLES, type GoldTable } from '../src/pipeline/tables.ts';
import { loadSql } from '../src/pipeline/sql-node.ts';

// dbt-style unit tests of sql/gold/*.sql: hand-written silver events in, exact KPI rows out.

let engine: Engine;
const SQL = loadSql('gold');

beforeAll(async () => {
  engine = await openNodeEngine();
});

// ---------------------------------------------------------------------------------------------
// silver_events from partial rows

interface Ev {
  event_id?: string;
  event_type: string;
  occurred_at: string;
  creator_id?: string;
  work_id?: string;
  stage?: string;
  words?: number;
  duration_minutes?: number;
  words_changed?: number;
  revision_no?: number;
  reader_id?: string;
  engagement_seconds?: number;
  progress_pct?: number;
}

const COLUMNS: [name: string, type: string][] = [
  ['event_id', 'VARCHAR'],
  ['event_type', 'VARCHAR'],
  ['occurred_at', 'TIMESTAMPTZ'],
  ['creator_id', 'VARCHAR'],
  ['work_id', 'VARCHAR'],
  ['stage', 'VARCHAR'],
  ['words', 'BIGINT'],
  ['duration_minutes', 'DOUBLE'],
  ['words_changed', 'BIGINT'],
  ['revision_no', 'BIGINT'],
  ['reader_id', 'VARCHAR'],
  ['engagement_seconds', 'DOUBLE'],
  ['progress_pct', 'DOUBLE'],
  ['attributes', 'VARCHAR'],
  ['batch_id', 'VARCHAR'],
  ['ingested_at', 'TIMESTAMPTZ'],
  ['event_date', 'DATE'],
];

function literal(value: unknown, type: string): string {
  if (value === undefined || value === null) return `NULL::${type}`;
  if (typeof value === 'number') return `${value}::${type}`;
  return `'${String(value).replaceAll("'", "''")}'::${type}`;
}

/** Replace `silver_events` with these events; fields an event does not give are NULL. */
function silver(events: readonly Ev[]): void {
  engine.run(`CREATE OR REPLACE TABLE silver_events (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  if (events.length === 0) return;
  const rows = events.map((e, i) => {
    const full: Record<string, unknown> = {
      event_id: `auto-${String(i).padStart(4, '0')}`,
      creator_id: 'c1',
      work_id: 'w1',
      batch_id: 'batch-1',
      ingested_at: '2024-04-01T00:00:00Z',
      ...e,
    };
    return `(${COLUMNS.map(([n, t]) => literal(full[n], t)).join(', ')})`;
  });
  engine.run(`INSERT INTO silver_events VALUES\n${rows.join(',\n')}`);
  engine.run('UPDATE silver_events SET event_date = occurred_at::TIMESTAMP::DATE');
}

const writing = (occurred_at: string, words: number, o: Partial<Ev> = {}): Ev => ({
  event_type: 'writing_session',
  occurred_at,
  words,
  duration_minutes: 30,
  ...o,
});
const revision = (occurred_at: string, words_changed: number, o: Partial<Ev> = {}): Ev => ({
  event_type: 'revision',
  occurred_at,
  words_changed,
  revision_no: 1,
  ...o,
});
const entered = (occurred_at: string, work_id: string, stage: string, event_id?: string): Ev => ({
  event_type: 'stage_entered',
  occurred_at,
  work_id,
  stage,
  ...(event_id ? { event_id } : {}),
});
const engaged = (occurred_at: string, work_id: string, reader_id: string, engagement_seconds: number, progress_pct = 50): Ev => ({
  event_type: 'reader_engagement',
  occurred_at,
  work_id,
  reader_id,
  engagement_seconds,
  progress_pct,
});
const dropped = (occurred_at: string, work_id: string, reader_id: string, progress_pct: number): Ev => ({
  event_type: 'reader_dropoff',
  occurred_at,
  work_id,
  reader_id,
  progress_pct,
});

/** `base` plus `hours` (fractions allowed), as an ISO timestamp with microseconds. */
function at(base: string, hours: number): string {
  const us = BigInt(Date.parse(base)) * 1000n + BigInt(Math.round(hours * 3600e6));
  const iso = new Date(Number(us / 1000n)).toISOString();
  return `${iso.slice(0, 19)}.${String(us % 1_000_000n).padStart(6, '0')}Z`;
}

// ---------------------------------------------------------------------------------------------
// running a gold model

function run(name: GoldTable): Table {
  return engine.query(SQL[name]!);
}

/** The model's rows; DATE as `YYYY-MM-DD`, TIMESTAMPTZ as an ISO string, BIGINT stays BigInt. */
function kpi(name: GoldTable): Record<string, unknown>[] {
  const table = run(name);
  const dates = table.schema.fields.filter((f) => DataType.isDate(f.type)).map((f) => f.name);
  const stamps = table.schema.fields.filter((f) => DataType.isTimestamp(f.type)).map((f) => f.name);
  return table.toArray().map((r) => {
    const row = r.toJSON() as Record<string, unknown>;
    for (const d of dates) if (row[d] !== null) row[d] = new Date(row[d] as number).toISOString().slice(0, 10);
    for (const s of stamps) if (row[s] !== null) row[s] = new Date(row[s] as number).toISOString();
    return row;
  });
}

function schemaOf(table: Table): string[] {
  return table.schema.fields.map((f) => `${f.name}: ${f.type}`);
}

const SCHEMAS: Record<GoldTable, string[]> = {
  writing_velocity_daily: ['day: Date32<DAY>', 'sessions: Int64', 'words: Int64', 'active_creators: Int64', 'words_per_creator: Float64'],
  revision_churn_daily: [
    'day: Date32<DAY>',
    'revisions: Int64',
    'works_revised: Int64',
    'words_changed: Int64',
    'words_written: Int64',
    'churn_ratio: Float64',
  ],
  engagement_bands: ['band: Utf8', 'sessions: Int64', 'share: Float64', 'avg_progress_pct: Float64'],
  dropoff_rate: ['work_id: Utf8', 'readers: Int64', 'dropped_readers: Int64', 'dropoff_rate: Float64', 'median_dropoff_progress_pct: Float64'],
  stage_bottlenecks: [
    'stage: Utf8',
    'completed_visits: Int64',
    'open_visits: Int64',
    'avg_dwell_hours: Float64',
    'median_dwell_hours: Float64',
    'p90_dwell_hours: Float64',
    'is_bottleneck: Bool',
  ],
  post_release_engagement: [
    'work_id: Utf8',
    'released_at: Timestamp<MICROSECOND, UTC>',
    'readers_7d: Int64',
    'sessions_7d: Int64',
    'avg_engagement_seconds_7d: Float64',
    'dropoffs_7d: Int64',
    'readers_total: Int64',
    'days_to_first_reader: Float64',
  ],
};

// ---------------------------------------------------------------------------------------------

describe('the gold SQL files', () => {
  test('are exactly the gold tables of SPEC §3', () => {
    expect(Object.keys(SQL).sort()).toEqual([...GOLD_TABLES].sort());
  });

  test.each(GOLD_TABLES)('%s passes EXPLAIN on an empty silver_events and has the contract schema', (name) => {
    silver([]);
    const plan = engine.rows<{ explain_key: string; explain_value: string }>(`EXPLAIN ${SQL[name]}`);
    expect(plan.length).toBeGreaterThan(0);
    expect(schemaOf(run(name))).toEqual(SCHEMAS[name]);
  });

  test('on an empty silver_events every table is empty except the four bands', () => {
    silver([]);
    for (const name of GOLD_TABLES) {
      if (name !== 'engagement_bands') expect(kpi(name), name).toEqual([]);
    }
    expect(kpi('engagement_bands')).toEqual([
      { band: 'bounce', sessions: 0n, share: null, avg_progress_pct: null },
      { band: 'skim', sessions: 0n, share: null, avg_progress_pct: null },
      { band: 'read', sessions: 0n, share: null, avg_progress_pct: null },
      { band: 'deep', sessions: 0n, share: null, avg_progress_pct: null },
    ]);
  });

  test('each file states its grain in a header comment and ends by ordering final', () => {
    for (const name of GOLD_TABLES) {
      const sql = SQL[name]!;
      expect(sql.startsWith(`-- gold/${name}: `), name).toBe(true);
      expect(sql, name).toMatch(/^-- grain: /m);
      expect(sql.trimEnd(), name).toMatch(/\nselect \* (exclude \(\w+\) )?from final order by [\w, ]+$/);
    }
  });
});

describe('writing_velocity_daily', () => {
  test('one row per UTC day with a session; words per creator', () => {
    silver([
      writing('2024-03-01T08:00:00Z', 500, { creator_id: 'c1', work_id: 'w1' }),
      writing('2024-03-01T23:59:59.999999Z', 300, { creator_id: 'c1', work_id: 'w2' }),
      writing('2024-03-01T12:00:00Z', 201, { creator_id: 'c2', work_id: 'w3' }),
      writing('2024-03-02T00:00:00Z', 0, { creator_id: 'c2', work_id: 'w3' }),
      revision('2024-03-02T09:00:00Z', 40),
      entered('2024-03-03T09:00:00Z', 'w1', 'beta'),
      engaged('2024-03-03T10:00:00Z', 'w1', 'r1', 100),
      // 01:00 at +02:00 is 23:00 UTC the day before
      writing('2024-03-05T01:00:00+02:00', 1000, { creator_id: 'c3', work_id: 'w4' }),
    ]);
    expect(kpi('writing_velocity_daily')).toEqual([
      { day: '2024-03-01', sessions: 3n, words: 1001n, active_creators: 2n, words_per_creator: 500.5 },
      { day: '2024-03-02', sessions: 1n, words: 0n, active_creators: 1n, words_per_creator: 0 },
      { day: '2024-03-04', sessions: 1n, words: 1000n, active_creators: 1n, words_per_creator: 1000 },
    ]);
  });
});

describe('revision_churn_daily', () => {
  test('one row per day with a revision; words_written 0 and churn_ratio null without writing', () => {
    silver([
      writing('2024-03-01T09:00:00Z', 400, { creator_id: 'c1', work_id: 'w1' }),
      writing('2024-03-01T10:00:00Z', 100, { creator_id: 'c2', work_id: 'w2' }),
      revision('2024-03-01T11:00:00Z', 50, { work_id: 'w1', revision_no: 1 }),
      revision('2024-03-01T12:00:00Z', 30, { work_id: 'w1', revision_no: 2 }),
      revision('2024-03-01T13:00:00Z', 20, { work_id: 'w2', revision_no: 1 }),
      // revisions, no writing
      revision('2024-03-02T08:00:00Z', 75, { work_id: 'w1', revision_no: 3 }),
      // writing, no revision: no row
      writing('2024-03-03T08:00:00Z', 300),
      // writing of zero words: a ratio over zero
      writing('2024-03-04T08:00:00Z', 0),
      revision('2024-03-04T09:00:00Z', 10, { work_id: 'w2', revision_no: 2 }),
      // nothing changed
      writing('2024-03-05T08:00:00Z', 300),
      revision('2024-03-05T09:00:00Z', 0, { work_id: 'w2', revision_no: 3 }),
      writing('2024-03-06T08:00:00Z', 300),
      revision('2024-03-06T23:30:00Z', 100, { work_id: 'w3' }),
      writing('2024-03-07T00:30:00Z', 999), // the next day: not in 03-06's words_written
    ]);
    expect(kpi('revision_churn_daily')).toEqual([
      { day: '2024-03-01', revisions: 3n, works_revised: 2n, words_changed: 100n, words_written: 500n, churn_ratio: 0.2 },
      { day: '2024-03-02', revisions: 1n, works_revised: 1n, words_changed: 75n, words_written: 0n, churn_ratio: null },
      { day: '2024-03-04', revisions: 1n, works_revised: 1n, words_changed: 10n, words_written: 0n, churn_ratio: null },
      { day: '2024-03-05', revisions: 1n, works_revised: 1n, words_changed: 0n, words_written: 300n, churn_ratio: 0 },
      { day: '2024-03-06', revisions: 1n, works_revised: 1n, words_changed: 100n, words_written: 300n, churn_ratio: 100 / 300 },
    ]);
  });
});

describe('engagement_bands', () => {
  test('band edges: 30, 300 and 1800 seconds open the next band', () => {
    silver([
      engaged('2024-03-01T00:00:00Z', 'w1', 'r1', 0, 10),
      engaged('2024-03-01T00:01:00Z', 'w1', 'r2', 29.999, 20),
      engaged('2024-03-01T00:02:00Z', 'w1', 'r3', 30, 30),
      engaged('2024-03-01T00:03:00Z', 'w1', 'r4', 300, 40),
      engaged('2024-03-01T00:04:00Z', 'w2', 'r5', 1800, 50),
      engaged('2024-03-01T00:05:00Z', 'w2', 'r6', 86_400, 100),
      dropped('2024-03-01T00:06:00Z', 'w2', 'r6', 5), // not an engagement session
    ]);
    expect(kpi('engagement_bands')).toEqual([
      { band: 'bounce', sessions: 2n, share: 2 / 6, avg_progress_pct: 15 },
      { band: 'skim', sessions: 1n, share: 1 / 6, avg_progress_pct: 30 },
      { band: 'read', sessions: 1n, share: 1 / 6, avg_progress_pct: 40 },
      { band: 'deep', sessions: 2n, share: 2 / 6, avg_progress_pct: 75 },
    ]);
  });

  test('empty bands keep their row with 0 sessions, share 0 and no average', () => {
    silver([
      engaged('2024-03-01T00:00:00Z', 'w1', 'r1', 10, 5),
      engaged('2024-03-01T00:01:00Z', 'w1', 'r2', 45, 15),
      engaged('2024-03-01T00:02:00Z', 'w1', 'r2', 299.5, 25),
    ]);
    expect(kpi('engagement_bands')).toEqual([
      { band: 'bounce', sessions: 1n, share: 1 / 3, avg_progress_pct: 5 },
      { band: 'skim', sessions: 2n, share: 2 / 3, avg_progress_pct: 20 },
      { band: 'read', sessions: 0n, share: 0, avg_progress_pct: null },
      { band: 'deep', sessions: 0n, share: 0, avg_progress_pct: null },
    ]);
  });

  test('no engagement at all: four rows, share over zero sessions is null', () => {
    silver([dropped('2024-03-01T00:00:00Z', 'w1', 'r1', 30), writing('2024-03-01T00:00:00Z', 10)]);
    expect(kpi('engagement_bands')).toEqual(['bounce', 'skim', 'read', 'deep'].map((band) => ({ band, sessions: 0n, share: null, avg_progress_pct: null })));
  });
});

describe('dropoff_rate', () => {
  test('readers over both reader event types; median over every dropoff event', () => {
    silver([
      // w1: r1 engages and drops, r2 engages and drops, r3 only drops (twice), r4 engages twice
      engaged('2024-03-01T10:00:00Z', 'w1', 'r1', 100, 30),
      dropped('2024-03-01T10:05:00Z', 'w1', 'r1', 40),
      engaged('2024-03-01T11:00:00Z', 'w1', 'r2', 100, 90),
      dropped('2024-03-01T11:05:00Z', 'w1', 'r2', 95),
      dropped('2024-03-02T10:00:00Z', 'w1', 'r3', 70),
      dropped('2024-03-03T10:00:00Z', 'w1', 'r3', 90),
      engaged('2024-03-01T12:00:00Z', 'w1', 'r4', 100, 100),
      engaged('2024-03-02T12:00:00Z', 'w1', 'r4', 100, 100),
      // w2: only a dropoff
      dropped('2024-03-01T10:00:00Z', 'w2', 'r5', 10),
      // w3: engagement only, by a reader who also read w1
      engaged('2024-03-01T10:00:00Z', 'w3', 'r1', 100, 100),
      // w4: no reader events at all
      entered('2024-03-01T00:00:00Z', 'w4', 'released'),
      writing('2024-03-01T00:00:00Z', 100, { work_id: 'w4' }),
    ]);
    expect(kpi('dropoff_rate')).toEqual([
      { work_id: 'w1', readers: 4n, dropped_readers: 3n, dropoff_rate: 0.75, median_dropoff_progress_pct: 80 },
      { work_id: 'w2', readers: 1n, dropped_readers: 1n, dropoff_rate: 1, median_dropoff_progress_pct: 10 },
      { work_id: 'w3', readers: 1n, dropped_readers: 0n, dropoff_rate: 0, median_dropoff_progress_pct: null },
    ]);
  });
});

describe('stage_bottlenecks', () => {
  const T0 = '2024-03-01T00:00:00Z';
  const h = (hours: number) => at(T0, hours);

  test('visits, open visits, dwell statistics and a tie for the bottleneck', () => {
    silver([
      // w1: draft 2h, writing 10h, revision 3h, writing 5h, beta 10h, submission 1h, scheduled open
      entered(h(0), 'w1', 'draft', 'w1-01'),
      entered(h(2), 'w1', 'writing', 'w1-02'),
      entered(h(12), 'w1', 'revision', 'w1-03'),
      entered(h(15), 'w1', 'writing', 'w1-04'),
      entered(h(20), 'w1', 'beta', 'w1-05'),
      entered(h(30), 'w1', 'submission', 'w1-06'),
      entered(h(31), 'w1', 'scheduled', 'w1-07'),
      // w2: draft 4h, writing 15h, beta 10h; submission and edit at the same instant: event_id
      // orders them (listed here in the other order), so submission lasts 0h and edit is open
      entered(h(0), 'w2', 'draft', 'w2-01'),
      entered(h(4), 'w2', 'writing', 'w2-02'),
      entered(h(19), 'w2', 'beta', 'w2-03'),
      entered(h(29), 'w2', 'edit', 'w2-05'),
      entered(h(29), 'w2', 'submission', 'w2-04'),
      // w3: draft, open
      entered(h(0), 'w3', 'draft', 'w3-01'),
      // w4: scheduled, open — scheduled has only open visits
      entered(h(5), 'w4', 'scheduled', 'w4-01'),
      // other event types do not end a visit
      writing(h(1), 100, { work_id: 'w1' }),
      engaged(h(3), 'w3', 'r1', 100),
    ]);
    // writing and beta share the highest median (10 h): the earlier stage, writing, is the bottleneck.
    // p90 interpolates: draft [2, 4] → 2 + 0.9·2; writing [5, 10, 15] at rank 1.8 → 10 + 0.8·5; submission [0, 1] → 0.9
    expect(kpi('stage_bottlenecks')).toEqual([
      {
        stage: 'draft',
        completed_visits: 2n,
        open_visits: 1n,
        avg_dwell_hours: 3,
        median_dwell_hours: 3,
        p90_dwell_hours: expect.closeTo(3.8, 12),
        is_bottleneck: false,
      },
      {
        stage: 'writing',
        completed_visits: 3n,
        open_visits: 0n,
        avg_dwell_hours: 10,
        median_dwell_hours: 10,
        p90_dwell_hours: expect.closeTo(14, 12),
        is_bottleneck: true,
      },
      { stage: 'revision', completed_visits: 1n, open_visits: 0n, avg_dwell_hours: 3, median_dwell_hours: 3, p90_dwell_hours: 3, is_bottleneck: false },
      { stage: 'beta', completed_visits: 2n, open_visits: 0n, avg_dwell_hours: 10, median_dwell_hours: 10, p90_dwell_hours: 10, is_bottleneck: false },
      {
        stage: 'submission',
        completed_visits: 2n,
        open_visits: 0n,
        avg_dwell_hours: 0.5,
        median_dwell_hours: 0.5,
        p90_dwell_hours: expect.closeTo(0.9, 12),
        is_bottleneck: false,
      },
      { stage: 'edit', completed_visits: 0n, open_visits: 1n, avg_dwell_hours: null, median_dwell_hours: null, p90_dwell_hours: null, is_bottleneck: false },
      {
        stage: 'scheduled',
        completed_visits: 0n,
        open_visits: 2n,
        avg_dwell_hours: null,
        median_dwell_hours: null,
        p90_dwell_hours: null,
        is_bottleneck: false,
      },
    ]);
  });

  test('the highest median wins over an earlier stage; dwell is exact to the microsecond', () => {
    silver([
      entered('2024-03-01T00:00:00Z', 'w1', 'draft'),
      entered('2024-03-01T01:30:00Z', 'w1', 'writing'),
      entered('2024-03-01T01:30:00.000036Z', 'w1', 'revision'),
      entered('2024-03-02T01:30:00.000036Z', 'w1', 'beta'),
    ]);
    expect(kpi('stage_bottlenecks')).toEqual([
      { stage: 'draft', completed_visits: 1n, open_visits: 0n, avg_dwell_hours: 1.5, median_dwell_hours: 1.5, p90_dwell_hours: 1.5, is_bottleneck: false },
      {
        stage: 'writing',
        completed_visits: 1n,
        open_visits: 0n,
        avg_dwell_hours: 36 / 3600e6,
        median_dwell_hours: 36 / 3600e6,
        p90_dwell_hours: 36 / 3600e6,
        is_bottleneck: false,
      },
      { stage: 'revision', completed_visits: 1n, open_visits: 0n, avg_dwell_hours: 24, median_dwell_hours: 24, p90_dwell_hours: 24, is_bottleneck: true },
      { stage: 'beta', completed_visits: 0n, open_visits: 1n, avg_dwell_hours: null, median_dwell_hours: null, p90_dwell_hours: null, is_bottleneck: false },
    ]);
  });

  test('no completed visit anywhere: no bottleneck', () => {
    silver([entered('2024-03-01T00:00:00Z', 'w1', 'draft'), entered('2024-03-01T00:00:00Z', 'w2', 'draft'), entered('2024-03-02T00:00:00Z', 'w3', 'beta')]);
    expect(kpi('stage_bottlenecks')).toEqual([
      { stage: 'draft', completed_visits: 0n, open_visits: 2n, avg_dwell_hours: null, median_dwell_hours: null, p90_dwell_hours: null, is_bottleneck: false },
      { stage: 'beta', completed_visits: 0n, open_visits: 1n, avg_dwell_hours: null, median_dwell_hours: null, p90_dwell_hours: null, is_bottleneck: false },
    ]);
  });
});

describe('post_release_engagement', () => {
  const R = '2024-03-10T12:00:00Z';
  const d = (days: number) => at(R, days * 24);

  test('the first week after the first release; readers at any time; days to the first reader', () => {
    silver([
      // w1: released at R, released again 3 days later (the first entry counts)
      entered(R, 'w1', 'released'),
      entered(d(1), 'w1', 'engagement'),
      entered(d(3), 'w1', 'released'),
      engaged(d(-1), 'w1', 'rA', 100), // before release: readers_total only
      engaged(R, 'w1', 'rB', 60), // exactly at released_at: in
      dropped(d(1), 'w1', 'rB', 20),
      engaged(d(2), 'w1', 'rC', 120),
      engaged(d(3), 'w1', 'rC', 180),
      dropped(d(3 + 1 / 24), 'w1', 'rC', 55),
      engaged(d(7), 'w1', 'rD', 500), // exactly released_at + 7 days: out
      dropped(d(7), 'w1', 'rE', 10), // out
      // w2: released, never read
      entered(d(0.5), 'w2', 'released'),
      entered(d(0), 'w2', 'scheduled'),
      // w3: a dropoff is not a first reader; the last microsecond of the week is in
      entered('2024-03-01T00:00:00Z', 'w3', 'released'),
      dropped('2024-03-01T01:00:00Z', 'w3', 'rZ', 3),
      engaged('2024-03-02T08:00:00Z', 'w3', 'rX', 30),
      engaged('2024-03-07T23:59:59.999999Z', 'w3', 'rY', 90),
      // w4: read but never released; w5: only scheduled
      engaged(R, 'w4', 'rA', 100),
      entered(R, 'w5', 'scheduled'),
      // w6: read only before its release
      engaged('2024-03-01T00:00:00Z', 'w6', 'rQ', 100),
      entered('2024-03-02T00:00:00Z', 'w6', 'released'),
    ]);
    expect(kpi('post_release_engagement')).toEqual([
      {
        work_id: 'w1',
        released_at: '2024-03-10T12:00:00.000Z',
        readers_7d: 2n,
        sessions_7d: 3n,
        avg_engagement_seconds_7d: 120,
        dropoffs_7d: 2n,
        readers_total: 4n,
        days_to_first_reader: 0,
      },
      {
        work_id: 'w2',
        released_at: '2024-03-11T00:00:00.000Z',
        readers_7d: 0n,
        sessions_7d: 0n,
        avg_engagement_seconds_7d: null,
        dropoffs_7d: 0n,
        readers_total: 0n,
        days_to_first_reader: null,
      },
      {
        work_id: 'w3',
        released_at: '2024-03-01T00:00:00.000Z',
        readers_7d: 2n,
        sessions_7d: 2n,
        avg_engagement_seconds_7d: 60,
        dropoffs_7d: 1n,
        readers_total: 2n,
        days_to_first_reader: expect.closeTo(32 / 24, 12),
      },
      {
        work_id: 'w6',
        released_at: '2024-03-02T00:00:00.000Z',
        readers_7d: 0n,
        sessions_7d: 0n,
        avg_engagement_seconds_7d: null,
        dropoffs_7d: 0n,
        readers_total: 1n,
        days_to_first_reader: null,
      },
    ]);
  });

  test('released_at keeps microseconds and days_to_first_reader is exact', () => {
    silver([entered('2024-03-01T00:00:00.000001Z', 'w1', 'released'), engaged('2024-03-02T12:00:00.000001Z', 'w1', 'r1', 10)]);
    const t = run('post_release_engagement');
    expect(engine.rows(`SELECT released_at::VARCHAR AS released_at, days_to_first_reader FROM (${SQL.post_release_engagement})`)).toEqual([
      { released_at: '2024-03-01 00:00:00.000001+00', days_to_first_reader: 1.5 },
    ]);
    expect(t.numRows).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// grain and invariants on a larger hand-built set

/** Several works through the lifecycle over two weeks, with writing, revisions and readers. */
function largerSet(): Ev[] {
  const events: Ev[] = [];
  const stages = ['draft', 'writing', 'revision', 'writing', 'beta', 'submission', 'edit', 'scheduled', 'released', 'engagement'];
  const start = Date.parse('2024-02-01T06:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  for (let w = 0; w < 24; w++) {
    const work_id = `w${String(w).padStart(2, '0')}`;
    const creator_id = `c${w % 4}`;
    let t = start + w * 7 * 3600e3;
    // works stall at different stages
    const reached = stages.slice(0, 3 + (w % 10));
    for (const [i, stage] of reached.entries()) {
      events.push({ ...entered(iso(t), work_id, stage, `${work_id}-s${i}`), creator_id });
      for (let k = 0; k < 3; k++) {
        if (stage === 'writing') events.push(writing(iso(t + k * 5 * 3600e3), 200 * (k + 1) + w, { work_id, creator_id }));
        if (stage === 'revision') events.push(revision(iso(t + k * 9 * 3600e3), 37 * (k + w), { work_id, creator_id, revision_no: k + 1 }));
      }
      t += ((i * 7 + w * 3) % 40) * 3600e3 + 1800e3;
      if (stage === 'released') {
        for (let r = 0; r < 15; r++) {
          const reader_id = `r${(r * 7 + w) % 20}`;
          const when = t + (r - 2) * 13 * 3600e3;
          events.push(engaged(iso(when), work_id, reader_id, (r * r * 37 + w) % 2500, (r * 11) % 101));
          if (r % 4 === 1) events.push(dropped(iso(when + 600e3), work_id, reader_id, (r * 13) % 101));
        }
      }
    }
  }
  // a reader event on a work that never got a stage event
  events.push(dropped('2024-02-03T00:00:00Z', 'w-orphan', 'r1', 50));
  return events;
}

/** Queries that must return zero rows; `{t}` is the gold table. The first is the grain. */
const INVARIANTS: Record<GoldTable, string[]> = {
  writing_velocity_daily: [
    'select day from {t} group by day having count(*) > 1',
    'select * from {t} where day is null or sessions < 1 or active_creators < 1 or active_creators > sessions',
    `select * from (select sum(sessions) as sessions, sum(words) as words from {t}) as g,
       (select count(*) as sessions, sum(words) as words from silver_events where event_type = 'writing_session') as s
     where g.sessions <> s.sessions or g.words <> s.words`,
  ],
  revision_churn_daily: [
    'select day from {t} group by day having count(*) > 1',
    'select * from {t} where revisions < works_revised or words_written is null or (words_written = 0) <> (churn_ratio is null)',
    `select * from (select sum(revisions) as n from {t}) as g, (select count(*) as n from silver_events where event_type = 'revision') as s
     where g.n <> s.n`,
  ],
  engagement_bands: [
    'select band from {t} group by band having count(*) > 1',
    "select string_agg(band, ',') as bands from {t} having bands <> 'bounce,skim,read,deep'",
    'select sum(share) from {t} having abs(sum(share) - 1) > 1e-12',
    `select * from (select sum(sessions) as n from {t}) as g, (select count(*) as n from silver_events where event_type = 'reader_engagement') as s
     where g.n <> s.n`,
  ],
  dropoff_rate: [
    'select work_id from {t} group by work_id having count(*) > 1',
    'select * from {t} where readers < 1 or dropped_readers > readers or (dropped_readers = 0) <> (median_dropoff_progress_pct is null)',
    `select work_id from silver_events where event_type in ('reader_engagement', 'reader_dropoff')
     except select work_id from {t}`,
  ],
  stage_bottlenecks: [
    'select stage from {t} group by stage having count(*) > 1',
    'select count(*) filter (where is_bottleneck) as n from {t} having n <> 1',
    `select * from {t} where is_bottleneck
       and median_dwell_hours < (select max(median_dwell_hours) from {t})`,
    `select * from (select sum(completed_visits + open_visits) as n from {t}) as g,
       (select count(*) as n from silver_events where event_type = 'stage_entered') as s where g.n <> s.n`,
    'select * from {t} where avg_dwell_hours < 0 or median_dwell_hours > p90_dwell_hours',
  ],
  post_release_engagement: [
    'select work_id from {t} group by work_id having count(*) > 1',
    'select * from {t} where readers_7d > readers_total or readers_7d > sessions_7d or (sessions_7d = 0) <> (avg_engagement_seconds_7d is null)',
    `select work_id from silver_events where event_type = 'stage_entered' and stage = 'released'
     except select work_id from {t}`,
    'select * from {t} where days_to_first_reader < 0',
  ],
};

describe('grain and invariants', () => {
  test.each(GOLD_TABLES)('%s', (name) => {
    silver(largerSet());
    engine.run(`CREATE OR REPLACE TABLE gold_${name} AS ${SQL[name]}`);
    const count = Number(engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM gold_${name}`)[0]!.n);
    expect(count).toBeGreaterThan(name === 'engagement_bands' ? 3 : 5);
    for (const invariant of INVARIANTS[name]) {
      expect(engine.rows(invariant.replaceAll('{t}', `gold_${name}`)), invariant).toEqual([]);
    }
    // The grain query can fail: every row twice breaks it.
    engine.run(`CREATE OR REPLACE TABLE gold_${name}_twice AS SELECT * FROM gold_${name} UNION ALL SELECT * FROM gold_${name}`);
    expect(engine.rows(INVARIANTS[name][0]!.replaceAll('{t}', `gold_${name}_twice`)).length).toBe(count);
  });
});

// ---------------------------------------------------------------------------------------------
// the runner

describe('computeGoldTable', () => {
  test('runs each table and returns its Arrow IPC stream with its row count', () => {
    silver(largerSet());
    const results = GOLD_TABLES.map((name) => computeGoldTable(engine, name, SQL[name]!));
    expect(results.map((r) => r.name)).toEqual([...GOLD_TABLES]);
    for (const r of results) {
      const table = tableFromIPC(r.ipc);
      expect(schemaOf(table), r.name).toEqual(SCHEMAS[r.name]);
      expect(r.rows, r.name).toBe(table.numRows);
      expect(r.rows, r.name).toBe(run(r.name).numRows);
    }
    expect(results.find((r) => r.name === 'engagement_bands')!.rows).toBe(4);
  });

  test('refuses a missing or an unknown SQL text before running anything', () => {
    const { dropoff_rate: _gone, ...partial } = SQL;
    expect(() => checkGoldSql(partial)).toThrow('gold SQL missing for dropoff_rate: expected sql/gold/dropoff_rate.sql');
    expect(() => checkGoldSql({ ...SQL, churn: 'select 1' })).toThrow(
      'gold SQL for unknown table churn: the gold tables are writing_velocity_daily, revision_churn_daily, engagement_bands, ' +
        'dropoff_rate, stage_bottlenecks, post_release_engagement',
    );
  });

  test('a failing query names the table and keeps the SQL and the cause', () => {
    silver([]);
    const broken = 'select no_such_column from silver_events';
    let caught: unknown;
    try {
      computeGoldTable(engine, 'stage_bottlenecks', broken);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QueryError);
    const err = caught as QueryError;
    expect(err.message).toMatch(/^gold table stage_bottlenecks failed: SQL failed: Binder Error: Referenced column "no_such_column" not found/);
    expect(err.sql).toBe(broken);
    expect(err.cause).toBeInstanceOf(QueryError);
  });

  test('sqlByFileName keys Vite glob paths by file name', () => {
    expect(sqlByFileName({ '../../sql/gold/dropoff_rate.sql': 'a', '../../sql/gold/engagement_bands.sql': 'b' })).toEqual({
      dropoff_rate: 'a',
      engagement_bands: 'b',
    });
  });
});

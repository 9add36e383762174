import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import schema from '../contracts/event_schema.json' with { type: 'json' };
import { openNodeEngine } from '../src/engine/node.ts';
import type { Engine } from '../src/engine/types.ts';
import { checkLine, EVENT_TYPES, rfc3339ToMicros, STAGES, type Rejected } from '../src/pipeline/contract.ts';
import { parseExpectations } from '../src/pipeline/expectations.ts';

const BASE = {
  event_id: 'evt-1',
  event_type: 'writing_session',
  occurred_at: '2026-01-02T10:00:00Z',
  creator_id: 'creator-0001',
  work_id: 'work-00001',
  schema_version: 1,
  words: 812,
  duration_minutes: 45.5,
};

const line = (fields: Record<string, unknown>, drop: string[] = []): string => {
  const event: Record<string, unknown> = { ...BASE, ...fields };
  for (const key of drop) delete event[key];
  return JSON.stringify(event);
};

function rejected(raw: string, lineNo = 1): Rejected {
  const result = checkLine(raw, lineNo);
  if (result.ok) throw new Error(`expected a reject for ${raw.slice(0, 80)}`);
  return result;
}

describe('checkLine: valid events', () => {
  it('types a writing_session; fields of other types are null', () => {
    const result = checkLine(line({ attributes: { device: 'desktop', nested: [1, { a: null }] } }), 1);
    expect(result).toEqual({
      ok: true,
      event: {
        event_id: 'evt-1',
        event_type: 'writing_session',
        occurred_at_us: 1_767_348_000_000_000n,
        creator_id: 'creator-0001',
        work_id: 'work-00001',
        schema_version: 1,
        stage: null,
        words: 812,
        duration_minutes: 45.5,
        words_changed: null,
        revision_no: null,
        reader_id: null,
        engagement_seconds: null,
        progress_pct: null,
        attributes: '{"device":"desktop","nested":[1,{"a":null}]}',
      },
    });
  });

  it('types each event type with its own fields', () => {
    const common = { words: undefined, duration_minutes: undefined };
    const stage = checkLine(line({ ...common, event_type: 'stage_entered', stage: 'submission' }), 1);
    const revision = checkLine(line({ ...common, event_type: 'revision', words_changed: 120, revision_no: 3 }), 1);
    const engagement = checkLine(
      line({ ...common, event_type: 'reader_engagement', reader_id: 'reader-000001', engagement_seconds: 12.5, progress_pct: 7 }),
      1,
    );
    const dropoff = checkLine(line({ ...common, event_type: 'reader_dropoff', reader_id: 'reader-000001', progress_pct: 42.1 }), 1);
    expect(stage.ok && [stage.event.stage, stage.event.words, stage.event.attributes]).toEqual(['submission', null, null]);
    expect(revision.ok && [revision.event.words_changed, revision.event.revision_no]).toEqual([120, 3]);
    expect(engagement.ok && [engagement.event.reader_id, engagement.event.engagement_seconds, engagement.event.progress_pct]).toEqual([
      'reader-000001',
      12.5,
      7,
    ]);
    expect(dropoff.ok && [dropoff.event.engagement_seconds, dropoff.event.progress_pct]).toEqual([null, 42.1]);
  });

  it('converts offsets and fractions to UTC epoch microseconds', () => {
    expect(rfc3339ToMicros('1970-01-01T00:00:00Z')).toBe(0n);
    expect(rfc3339ToMicros('1970-01-01T01:00:00.000001+01:00')).toBe(1n);
    expect(rfc3339ToMicros('1969-12-31t23:59:59.9999999z')).toBe(-1n);
    expect(rfc3339ToMicros('2026-01-02T10:00:00-02:30')).toBe(1_767_357_000_000_000n);
    expect(rfc3339ToMicros('0001-01-01T00:00:00Z')).toBe(-62_135_596_800_000_000n);
    expect(rfc3339ToMicros('2024-02-29T12:00:00Z')).toBe(1_709_208_000_000_000n);
    expect(rfc3339ToMicros('2000-02-29T00:00:00Z')).not.toBeNull();
    for (const bad of ['2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T10:00:00', '2026-01-01 10:00:00Z']) {
      expect(rfc3339ToMicros(bad), bad).toBeNull();
    }
  });

  it('exports the event types and the nine stages in the order of the schema', () => {
    expect(schema.properties.event_type.enum).toEqual([...EVENT_TYPES]);
    expect(schema.properties.stage.enum).toEqual([...STAGES]);
    expect(STAGES).toEqual(['draft', 'writing', 'revision', 'beta', 'submission', 'edit', 'scheduled', 'released', 'engagement']);
  });
});

describe('checkLine: rejects with stable reasons and exact messages', () => {
  const cases: Array<[string, string, string[], string[]]> = [
    ['a value over the maximum', line({ words: 72000 }), ['maximum:words'], ['/words: must be <= 50000 (got 72000)']],
    ['a negative value', line({ duration_minutes: -1 }), ['minimum:duration_minutes'], ['/duration_minutes: must be >= 0 (got -1)']],
    ['a number sent as a string', line({ words: '812' }), ['type:words'], ['/words: must be integer (got "812")']],
    ['a fractional integer', line({ words: 8.5 }), ['type:words'], ['/words: must be integer (got 8.5)']],
    ['a missing common field', line({}, ['creator_id']), ['required:creator_id'], ['/creator_id: is required']],
    [
      'a field required by the event type',
      line({}, ['duration_minutes']),
      ['required:duration_minutes'],
      ['/duration_minutes: is required for event_type "writing_session"'],
    ],
    [
      'an unknown event type',
      line({ event_type: 'purchase' }),
      ['enum:event_type'],
      ['/event_type: must be one of stage_entered, writing_session, revision, reader_engagement, reader_dropoff (got "purchase")'],
    ],
    [
      'an unknown stage',
      line({ event_type: 'stage_entered', stage: 'published', words: undefined, duration_minutes: undefined }),
      ['enum:stage'],
      ['/stage: must be one of draft, writing, revision, beta, submission, edit, scheduled, released, engagement (got "published")'],
    ],
    [
      'a field of another event type',
      line({ event_type: 'reader_dropoff', reader_id: 'r', progress_pct: 10, duration_minutes: undefined }),
      ['forbidden:words'],
      ['/words: is not allowed for event_type "reader_dropoff" (got 812)'],
    ],
    ['a field outside the contract', line({ foo: { bar: [1, 2] } }), ['additionalProperties:foo'], ['/foo: is not a field of contract v1 (got {"bar":[1,2]})']],
    ['another schema version', line({ schema_version: 2 }), ['const:schema_version'], ['/schema_version: must be 1 (got 2)']],
    [
      'a month that does not exist',
      line({ occurred_at: '2026-13-01T00:00:00Z' }),
      ['format:occurred_at'],
      ['/occurred_at: must be an RFC 3339 date-time with an offset or Z (got "2026-13-01T00:00:00Z")'],
    ],
    [
      'a day that does not exist',
      line({ occurred_at: '2026-02-30T00:00:00Z' }),
      ['format:occurred_at'],
      ['/occurred_at: must be an RFC 3339 date-time with an offset or Z (got "2026-02-30T00:00:00Z")'],
    ],
    [
      'a timestamp without offset',
      line({ occurred_at: '2026-01-02T10:00:00' }),
      ['format:occurred_at'],
      ['/occurred_at: must be an RFC 3339 date-time with an offset or Z (got "2026-01-02T10:00:00")'],
    ],
    ['attributes that are not an object', line({ attributes: [1] }), ['type:attributes'], ['/attributes: must be object (got [1])']],
    ['a number beyond double range', line({}).replace('"words":812', '"words":1e400'), ['type:words'], ['/words: must be integer (got Infinity)']],
  ];

  it.each(cases)('%s', (_name, raw, reasons, errors) => {
    const result = rejected(raw);
    expect(result.stage).toBe('schema');
    expect(result.eventId).toBe('evt-1');
    expect(result.reasons).toEqual(reasons);
    expect(result.errors).toEqual(errors);
  });

  it('lists every violation in field order, a type error hiding the rest of that field', () => {
    const result = rejected(line({ event_type: 7, occurred_at: 'yesterday', words: -3, zeta: 1, reader_id: 'r' }, ['work_id']));
    expect(result.reasons).toEqual(['type:event_type', 'format:occurred_at', 'required:work_id', 'minimum:words', 'additionalProperties:zeta']);
    expect(result.errors).toEqual([
      '/event_type: must be string (got 7)',
      '/occurred_at: must be an RFC 3339 date-time with an offset or Z (got "yesterday")',
      '/work_id: is required',
      '/words: must be >= 0 (got -3)',
      '/zeta: is not a field of contract v1 (got 1)',
    ]);
  });

  it('returns the event_id only when it is a valid id', () => {
    expect(rejected(line({ event_id: '', words: -1 })).eventId).toBeNull();
    expect(rejected(line({ event_id: 42 })).eventId).toBeNull();
    expect(rejected(line({ event_id: 'x'.repeat(65) })).reasons).toEqual(['maxLength:event_id']);
    expect(rejected(line({ event_id: 'x'.repeat(65) })).eventId).toBeNull();
    expect(rejected(line({ event_id: 'é'.repeat(64), words: -1 })).eventId).toBe('é'.repeat(64));
  });

  it('rejects unparsable lines at stage parse, naming the line', () => {
    for (const raw of ['{"event_id":"evt-1",', '', 'NaN', "{'a':1}", '{"a":1}}']) {
      const result = rejected(raw, 3);
      expect(result.stage).toBe('parse');
      expect(result.eventId).toBeNull();
      expect(result.reasons).toEqual(['invalid_json']);
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(/^line 3: invalid JSON: \S/);
    }
  });
});

describe('checkLine: hostile input', () => {
  const hostile: Array<[string, string, string[]]> = [
    ['__proto__ key', '{"__proto__":{"x":1}}', ['additionalProperties:__proto__']],
    ['constructor key', '{"constructor":{"prototype":{"x":1}}}', ['additionalProperties:constructor']],
    ['an array', '[1]', ['not_object']],
    ['null', 'null', ['not_object']],
    ['a number', '12345678901234567890123456789', ['not_object']],
    ['a string', '"x"', ['not_object']],
  ];

  it.each(hostile)('%s is rejected, never merged into an object', (_name, raw, reasons) => {
    const result = rejected(raw);
    expect(result.reasons).toEqual(expect.arrayContaining(reasons));
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>).x).toBeUndefined();
  });

  it('reports every missing field and the pollution attempt for {"__proto__":…}', () => {
    expect(rejected('{"__proto__":{"x":1}}').errors).toEqual([
      '/event_id: is required',
      '/event_type: is required',
      '/occurred_at: is required',
      '/creator_id: is required',
      '/work_id: is required',
      '/schema_version: is required',
      '/__proto__: is not a field of contract v1 (got {"x":1})',
    ]);
    expect(rejected('[1]').errors).toEqual(['(root): must be a JSON object (got [1])']);
  });

  it('echoes at most ~200 characters of a 10 MB line', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    for (const raw of [`"${huge}"`, huge, line({ event_id: huge }), line({ [huge]: 1 }), line({ words: huge })]) {
      const result = rejected(raw);
      for (const message of result.errors) expect(message.length).toBeLessThan(300);
      for (const reason of result.reasons) expect(reason.length).toBeLessThan(100);
    }
    expect(rejected(line({ words: huge })).errors).toEqual([`/words: must be integer (got "${'x'.repeat(180)}…")`]);
  });

  it('survives 10k-deep nesting anywhere', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(rejected(deep(10_000)).errors).toEqual(['(root): must be a JSON object (got [[[[…]]]])']);
    expect(rejected(line({}).replace('"words":812', `"words":${deep(10_000)}`)).errors).toEqual(['/words: must be integer (got [[[[…]]]])']);
    const deepAttributes = line({}).replace('}', `,"attributes":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`);
    expect(rejected(deepAttributes).errors).toEqual(['/attributes: must be nested at most 64 levels deep']);
    expect(checkLine(line({ attributes: JSON.parse(`${'{"a":'.repeat(63)}1${'}'.repeat(63)}`) }), 1).ok).toBe(true);
  });

  it('caps the messages for a line with thousands of unknown fields', () => {
    const fields = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, i]));
    const result = rejected(line(fields));
    expect(result.errors).toHaveLength(21);
    expect(result.errors[20]).toBe('… and 4980 more errors');
    expect(result.reasons).toHaveLength(20);
  });
});

describe('expectations.yml', () => {
  const text = readFileSync(new URL('../contracts/expectations.yml', import.meta.url), 'utf8');

  it('parses into the shipped rules, using all three actions', () => {
    const rules = parseExpectations(text);
    expect(rules.map((r) => [r.name, r.action])).toEqual([
      ['occurred_at_not_in_future', 'drop'],
      ['occurred_at_not_before_2000', 'fail'],
      ['words_plausible', 'warn'],
      ['writing_pace_plausible', 'warn'],
      ['dropoff_before_end', 'warn'],
    ]);
    expect(rules[0]?.expr).toBe('occurred_at::TIMESTAMP <= ingested_at::TIMESTAMP + INTERVAL 1 day');
    expect(rules[2]?.expr).toBe('words is null or words <= 20000');
  });

  describe('against DuckDB, on silver-typed rows', () => {
    let db: Engine;
    beforeAll(async () => {
      db = await openNodeEngine();
      db.run(`create or replace table silver_rows as select * from (values
        ('ok', 'writing_session', timestamptz '2026-01-01 10:00:00+00', 800, 40.0, null, timestamptz '2026-01-02 00:00:00+00'),
        ('future', 'writing_session', timestamptz '2099-01-01 10:00:00+00', 30000, 5.0, null, timestamptz '2026-01-02 00:00:00+00'),
        ('epoch', 'reader_dropoff', timestamptz '1970-01-01 00:00:00+00', null, null, 100.0, timestamptz '2026-01-02 00:00:00+00'),
        ('edge', 'reader_dropoff', timestamptz '2026-01-02 23:59:59+00', null, null, null, timestamptz '2026-01-02 00:00:00+00')
      ) v(event_id, event_type, occurred_at, words, duration_minutes, progress_pct, ingested_at)`);
    });
    afterAll(() => db?.close());

    it('each expr is valid SQL with the intended verdicts (NULL never hides a violation)', () => {
      const verdicts = Object.fromEntries(
        parseExpectations(text).map((r) => [
          r.name,
          db.rows<{ v: boolean | null }>(`select (${r.expr}) as v from silver_rows order by event_id`).map((row) => row.v),
        ]),
      );
      // Rows in event_id order: edge, epoch, future, ok.
      expect(verdicts).toEqual({
        occurred_at_not_in_future: [true, true, false, true],
        occurred_at_not_before_2000: [true, false, true, true],
        words_plausible: [true, true, false, true],
        writing_pace_plausible: [true, true, false, true],
        dropoff_before_end: [false, false, true, true],
      });
    });
  });

  describe('parser', () => {
    const parse = (yml: string) => () => parseExpectations(yml, 'test.yml');

    it('reads quoted and plain values, comments and blank lines', () => {
      const yml = [
        '# header',
        '',
        '- name: a_rule   # trailing comment',
        '  expr: "words <= 10 and stage <> \'x#y\' and note = \\"q\\""',
        "  action: 'warn'",
        '-   name: b',
        "    expr: 'it''s # not a comment'",
        '    action: fail',
        '',
      ].join('\r\n');
      expect(parseExpectations(yml)).toEqual([
        { name: 'a_rule', expr: 'words <= 10 and stage <> \'x#y\' and note = "q"', action: 'warn' },
        { name: 'b', expr: "it's # not a comment", action: 'fail' },
      ]);
      expect(parseExpectations('# nothing here\n')).toEqual([]);
    });

    it.each([
      ['an unknown action', '- name: a\n  expr: true\n  action: stop\n', 'test.yml line 3: unknown action "stop" (expected warn, drop or fail)'],
      ['a missing field', '- name: a\n  expr: true\n- name: b\n  expr: true\n  action: warn\n', 'test.yml line 1: expectation has no "action"'],
      [
        'a duplicate name',
        '- name: a\n  expr: true\n  action: warn\n# again\n- name: a\n  expr: false\n  action: drop\n',
        'test.yml line 5: duplicate name "a" (first on line 1)',
      ],
      ['an unknown key', '- name: a\n  exp: true\n', 'test.yml line 2: unknown key "exp" (expected name, expr, action)'],
      ['a duplicate key', '- name: a\n  name: b\n', 'test.yml line 2: duplicate key "name"'],
      ['an empty value', '- name: a\n  expr:\n  action: warn\n', 'test.yml line 2: "expr" has no value'],
      ['a YAML null', '- name: a\n  expr: ~\n  action: warn\n', 'test.yml line 2: "expr" has no value'],
      ['a misindented key', '- name: a\n   expr: true\n', 'test.yml line 2: expected a key in column 3, under the previous key'],
      ['a key outside a list item', 'name: a\n', 'test.yml line 1: expected a list item starting with "- "'],
      ['a block scalar', '- name: a\n  expr: |\n', 'test.yml line 2: quote this value: a plain value cannot start with "|"'],
      ['": " in a plain value', '- name: a\n  expr: a: b\n', 'test.yml line 2: quote this value: a plain value cannot contain ": "'],
      ['an unclosed quote', '- name: a\n  expr: "words\n', 'test.yml line 2: missing closing " (values cannot span lines)'],
      ['text after a quote', "- name: a\n  expr: 'x' y\n", 'test.yml line 2: unexpected text after the closing \': " y"'],
      ['a tab indent', '- name: a\n\texpr: true\n', 'test.yml line 2: tabs are not allowed for indentation'],
      ['a bad name', '- name: Not-OK\n  expr: true\n  action: warn\n', 'test.yml line 1: name "Not-OK" must be lowercase letters, digits and _ (at most 64)'],
      ['a nested list', '- name: a\n  expr: true\n  action: warn\n  - name: b\n', 'test.yml line 4: list items must all start in column 1'],
    ])('rejects %s, naming the line', (_name, yml, message) => {
      expect(parse(yml)).toThrow(message);
    });
  });
});

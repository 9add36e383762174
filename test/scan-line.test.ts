import { describe, expect, it } from 'vitest';
import { checkInto } from '../src/pipeline/check-lines.ts';
import { checkLine } from '../src/pipeline/contract.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { LineScan } from '../src/pipeline/scan-line.ts';
import { TypedRows } from '../src/pipeline/typed-rows.ts';

const ingestedAt = 1_767_348_000_000_000n;

/**
 * Rows made with the fast path where it applies (line by line, and in joined runs as checkInto
 * does), and rows made by checkLine alone: they must be the same, byte for byte.
 */
function compare(lines: string[]): { fast: number } {
  const viaScan = new TypedRows(16, true);
  const viaCheck = new TypedRows(16, true);
  const viaRuns = new TypedRows(16, true);
  let fast = 0;
  lines.forEach((text, i) => {
    const checked = checkLine(text, i + 1);
    if (viaScan.pushLine(text, 0, text.length, i + 1, ingestedAt, text)) {
      fast++;
      if (!checked.ok) throw new Error(`the fast path accepted a line checkLine rejects: ${text} (${checked.reasons.join(', ')})`);
    } else if (checked.ok) {
      viaScan.push(checked.event, i + 1, ingestedAt, text);
    }
    if (checked.ok) viaCheck.push(checked.event, i + 1, ingestedAt, text);
  });
  const rejected: number[] = [];
  checkInto(
    viaRuns,
    lines,
    (i) => i + 1,
    () => ingestedAt,
    true,
    (_, i) => rejected.push(i),
  );
  expect(rejected).toEqual(lines.flatMap((l, i) => (checkLine(l, i + 1).ok ? [] : [i])));
  const expected = bytes(viaCheck.toData());
  expect(bytes(viaScan.toData())).toEqual(expected);
  expect(bytes(viaRuns.toData())).toEqual(expected);
  return { fast };
}

/** Every buffer of the rows as hex, by name: quick to compare, readable when different. */
function bytes(data: object): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const walk = (v: unknown, path: string): void => {
    if (ArrayBuffer.isView(v)) out[path] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    else out[path] = v as number;
  };
  walk(data, '');
  return out;
}

const base = (fields: string) =>
  `{"event_id":"evt-1","event_type":"writing_session","occurred_at":"2026-01-02T10:00:00.123Z","creator_id":"creator-0001","work_id":"work-00001","schema_version":1${fields}}`;
const writing = (fields = ',"words":812,"duration_minutes":45.5') => base(fields);

describe('the fast path of the line checks', () => {
  it('types generated lines exactly as checkLine does, and takes nearly all of them', () => {
    const lines = [...generateEvents({ events: 10_000, seed: 7, days: 20, invalidRate: 0.05 })].flat();
    const { fast } = compare(lines);
    expect(fast).toBeGreaterThan(lines.length * 0.94);
  });

  it('agrees with checkLine on unusual but valid lines and on near misses', () => {
    const lines = [
      writing(),
      ` \t${writing()}\r\n `,
      '{ "event_id" : "evt-1" , "event_type":"revision","occurred_at":"2026-01-02t10:00:00z","creator_id":"c","work_id":"w","schema_version":1.0,"words_changed":0,"revision_no":1e0 }',
      writing(',"words":-0,"duration_minutes":0.0'),
      writing(',"words":50000,"duration_minutes":1440'),
      writing(',"words":50001,"duration_minutes":1'),
      writing(',"words":1.5,"duration_minutes":1'),
      writing(',"words":1E2,"duration_minutes":1.25e1'),
      writing(',"words":01,"duration_minutes":1'),
      writing(',"words":1,"duration_minutes":1e999'),
      writing(',"words":1,"duration_minutes":0.1000000000000000055511151231257827'),
      writing(',"words":1,"duration_minutes":123.456789012345678'),
      writing(',"words":1,"duration_minutes":-0.0'),
      writing(',"words":1,"duration_minutes":1.'),
      writing(',"words":"1","duration_minutes":1'),
      writing(',"words":1,"words":2,"duration_minutes":1'),
      writing(',"words":1,"duration_minutes":1,"attributes":{}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"device":"desktop","x":""}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"__proto__":"x"}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"b":"1","1":"a"}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"a":"1","a":"2"}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"a":1}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{ "a":"1"}'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"a":{"b":"c"}}'),
      writing(',"words":1,"duration_minutes":1,"attributes":null'),
      writing(',"words":1,"duration_minutes":1,"attributes":{"a":"\\u0041"}'),
      writing(',"words":1,"duration_minutes":1,"stage":"draft"'),
      writing(',"words":1'),
      writing(',"words":1,"duration_minutes":1,"extra":1'),
      writing(',"words":1,"duration_minutes":1,'),
      writing(',"words":1,"duration_minutes":1}'),
      base(',"stage":"released"').replace('writing_session', 'stage_entered'),
      base(',"stage":"publish"').replace('writing_session', 'stage_entered'),
      base(',"reader_id":"r","engagement_seconds":86400,"progress_pct":100').replace('writing_session', 'reader_engagement'),
      base(',"reader_id":"r","engagement_seconds":86400.1,"progress_pct":100').replace('writing_session', 'reader_engagement'),
      base(',"reader_id":"","progress_pct":3').replace('writing_session', 'reader_dropoff'),
      base(',"reader_id":"ré","progress_pct":3').replace('writing_session', 'reader_dropoff'),
      base(',"reader_id":"r","progress_pct":3')
        .replace('writing_session', 'reader_dropoff')
        .replace('"evt-1"', `"${'e'.repeat(64)}"`),
      base(',"reader_id":"r","progress_pct":3')
        .replace('writing_session', 'reader_dropoff')
        .replace('"evt-1"', `"${'e'.repeat(65)}"`),
      base(',"words_changed":3,"revision_no":0').replace('writing_session', 'revision'),
      base(',"words_changed":3,"revision_no":1e300').replace('writing_session', 'revision'),
      writing().replace('"schema_version":1', '"schema_version":2'),
      writing().replace('"evt-1"', '"evt-\\"1"'),
      writing().replace('"evt-1"', '"evt-\t1"'),
      writing().replace('"evt-1"', '"evt-😀"'),
      writing().replace('writing_session', 'Writing_session'),
      writing().slice(0, -1),
      `\uFEFF${writing()}`,
      `[${writing()}]`,
      '{}',
      '',
    ];
    const times = [
      '2024-02-29T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-02T24:00:00Z',
      '2026-01-02T10:60:00Z',
      '2026-01-02T10:00:60Z',
      '2026-01-02T10:00:00.Z',
      '2026-01-02T10:00:00.1234567891Z',
      '2026-01-02T10:00:00+05:30',
      '2026-01-02T10:00:00-23:59',
      '2026-01-02T10:00:00+24:00',
      '2026-01-02T10:00:00+05:60',
      '2026-01-02T10:00:00+0530',
      '2026-01-02 10:00:00Z',
      '2026-01-02T10:00:00',
      '2026-1-02T10:00:00Z',
      '0000-01-01T00:00:00Z',
      '1600-02-29T00:00:00Z',
      '2099-12-31T23:59:59.999999Z',
      '2300-01-01T00:00:00Z',
      '1969-12-31T23:59:59.5Z',
      '9999-12-31T23:59:59Z',
      '2026-01-02T10:00:00ZZ',
      '+2026-01-02T10:00:00Z',
      '2026-01-02T10:00:00.5+00:00x',
      '2026-00-10T10:00:00Z',
      '2026-13-10T10:00:00Z',
      '2026-01-00T10:00:00Z',
    ];
    for (const t of times) lines.push(writing().replace('2026-01-02T10:00:00.123Z', t));
    const { fast } = compare(lines);
    expect(fast).toBeGreaterThan(10);
  });

  it('agrees with checkLine on lines with one character changed', () => {
    const valid = [...generateEvents({ events: 400, seed: 3, days: 10, invalidRate: 0 })].flat();
    const alphabet = ['"', '\\', ',', ':', '{', '}', ' ', '0', '9', '.', '-', 'e', 'E', '+', 'a', 'Z', 'T', '1', 'é', '\n'];
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const lines: string[] = [];
    for (const line of valid) {
      for (let k = 0; k < 20; k++) {
        const at = rnd(line.length);
        const c = alphabet[rnd(alphabet.length)]!;
        const op = rnd(3);
        lines.push(
          op === 0 ? line.slice(0, at) + c + line.slice(at + 1) : op === 1 ? line.slice(0, at) + line.slice(at + 1) : line.slice(0, at) + c + line.slice(at),
        );
      }
    }
    compare(lines);
  });

  it('reads numbers as JSON.parse does', () => {
    const scan = new LineScan();
    let seed = 5;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let k = 0; k < 20_000; k++) {
      const digits = 1 + Math.floor(rnd() * 17);
      const decimals = Math.floor(rnd() * (digits + 1));
      let text = '';
      for (let d = 0; d < digits; d++) text += String(Math.floor(rnd() * 10));
      text = text.replace(/^0+(?=\d)/, '');
      if (decimals > 0 && decimals < text.length) text = `${text.slice(0, text.length - decimals)}.${text.slice(text.length - decimals)}`;
      const line = writing(`,"words":1,"duration_minutes":${text}`);
      if (scan.scan(line)) expect(scan.value[8]).toBe(JSON.parse(text));
    }
  });
});

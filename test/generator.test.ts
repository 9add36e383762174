import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkLine, rfc3339ToMicros, STAGES } from '../src/pipeline/contract.ts';
import { BAD_KIND_STAGE, BAD_KINDS, generateEvents, type BadKind, type GenerateOptions } from '../src/pipeline/generator/index.ts';

const collect = (options: GenerateOptions): string[] => [...generateEvents(options)].flat();

describe('generateEvents: determinism and counts', () => {
  it('gives identical lines for the same options and different ones for another seed', () => {
    const a = collect({ events: 20_000, seed: 42, days: 30, invalidRate: 0.01 });
    const b = collect({ events: 20_000, seed: 42, days: 30, invalidRate: 0.01, batchSize: 777 });
    const c = collect({ events: 20_000, seed: 43, days: 30, invalidRate: 0.01 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(new Set(c).size).toBeGreaterThan(19_000);
    expect(c.filter((line, i) => line === a[i])).toHaveLength(0);
    expect(collect({ events: 20_000, seed: '42', days: 30, invalidRate: 0.01 })).toEqual(a);
  });

  it('pins the output of seed 42 (a change here changes every KPI fixture)', () => {
    expect(collect({ events: 3, seed: 42, days: 30, invalidRate: 0 })).toEqual([
      '{"event_id":"evt-42-1","event_type":"reader_engagement","occurred_at":"2025-01-01T01:33:25.100Z","creator_id":"creator-0001","work_id":"work-00004","schema_version":1,"reader_id":"reader-000009","engagement_seconds":2012,"progress_pct":74.2,"attributes":{"referrer":"search"}}',
      '{"event_id":"evt-42-2","event_type":"reader_engagement","occurred_at":"2025-01-01T22:22:36.932Z","creator_id":"creator-0001","work_id":"work-00004","schema_version":1,"reader_id":"reader-000009","engagement_seconds":941.6,"progress_pct":100}',
      '{"event_id":"evt-42-3","event_type":"stage_entered","occurred_at":"2025-01-03T11:24:22.216Z","creator_id":"creator-0001","work_id":"work-00001","schema_version":1,"stage":"released"}',
    ]);
    const hash = createHash('sha256');
    for (const batch of generateEvents({ events: 20_000, seed: 42, days: 30, invalidRate: 0.01 })) for (const line of batch) hash.update(`${line}\n`);
    expect(hash.digest('hex')).toBe('410c69654018bfbbe5a3ef0c1768793b9936dcf37650f84b4dbd541489bfc842');
  });

  it.each([
    [1, 10_000, [1]],
    [2, 10_000, [2]],
    [999, 1000, [999]],
    [10_001, 1000, [...Array<number>(10).fill(1000), 1]],
    [5_000, undefined, [2000, 2000, 1000]],
  ])('yields exactly %i lines in batches of %s', (events, batchSize, sizes) => {
    const batches = [...generateEvents({ events, seed: 7, days: 30, invalidRate: 0.01, ...(batchSize ? { batchSize } : {}) })];
    expect(batches.map((b) => b.length)).toEqual(sizes);
  });

  it('yields nothing for 0 events', () => {
    expect([...generateEvents({ events: 0, seed: 1, days: 1, invalidRate: 0 })]).toEqual([]);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => generateEvents({ events: -1, seed: 1, days: 1, invalidRate: 0 })).toThrow('generator: events must be a whole number >= 0 (got -1)');
    expect(() => generateEvents({ events: 1, seed: 1, days: 0, invalidRate: 0 })).toThrow('generator: days must be a number in (0, 36500] (got 0)');
    expect(() => generateEvents({ events: 1, seed: 1, days: 1, invalidRate: 1.5 })).toThrow('generator: invalidRate must be a number in [0, 1] (got 1.5)');
    expect(() => generateEvents({ events: 1, seed: 'a b', days: 1, invalidRate: 0 })).toThrow('generator: seed must be');
    expect(() => generateEvents({ events: 1, seed: 1, days: 1, invalidRate: 0, start: '2025-02-30' })).toThrow(
      'generator: start must be an ISO date (2025-01-01) or an RFC 3339 date-time (got "2025-02-30")',
    );
  });
});

describe('generateEvents: contract', () => {
  it('a start given to the microsecond gives valid timestamps, in whole milliseconds, none before its millisecond', () => {
    const start = rfc3339ToMicros('2025-01-01T00:00:00.000123Z') as bigint;
    const lines = collect({ events: 500, seed: 5, days: 1, invalidRate: 0, start: '2025-01-01T00:00:00.000123Z' });
    lines.forEach((line, i) => {
      const result = checkLine(line, i + 1);
      if (!result.ok) throw new Error(`line ${i + 1} rejected: ${result.errors.join('; ')}`);
      expect(result.event.occurred_at_us % 1000n).toBe(0n);
      expect(result.event.occurred_at_us >= start - 123n).toBe(true);
    });
    expect(JSON.parse(lines[0]!).occurred_at).toMatch(/^2025-01-01T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('emits only valid, unique events inside [start, start + days) at invalidRate 0', () => {
    const start = rfc3339ToMicros('2024-03-01T00:00:00Z') as bigint;
    const end = start + 10n * 86_400_000_000n;
    const ids = new Set<string>();
    let previous = start;
    let outOfOrder = 0;
    const lines = collect({ events: 20_000, seed: 'contract', days: 10, invalidRate: 0, start: '2024-03-01' });
    expect(lines).toHaveLength(20_000);
    lines.forEach((line, i) => {
      const result = checkLine(line, i + 1);
      if (!result.ok) throw new Error(`line ${i + 1} rejected: ${result.errors.join('; ')}`);
      const { event } = result;
      expect(event.occurred_at_us >= start && event.occurred_at_us < end).toBe(true);
      if (event.occurred_at_us < previous) outOfOrder++;
      previous = event.occurred_at_us;
      ids.add(event.event_id);
    });
    expect(ids.size).toBe(20_000);
    expect(outOfOrder).toBe(0);
  });

  it('makes every bad kind, each rejected where the pipeline expects it', () => {
    const kinds = new Map<number, BadKind>();
    const lines = collect({ events: 5000, seed: 99, days: 30, invalidRate: 0.05, onBad: (i, kind) => kinds.set(i, kind) });
    expect(kinds.size).toBe(250);
    const counts = Object.fromEntries(BAD_KINDS.map((k) => [k, [...kinds.values()].filter((v) => v === k).length]));
    for (const kind of BAD_KINDS) expect(counts[kind], kind).toBeGreaterThanOrEqual(30);

    const validIds = new Map<string, number>();
    lines.forEach((line, i) => {
      const kind = kinds.get(i);
      const result = checkLine(line, i + 1);
      if (kind === undefined) {
        expect(result.ok, line).toBe(true);
        if (result.ok) {
          expect(validIds.has(result.event.event_id)).toBe(false);
          validIds.set(result.event.event_id, i);
        }
        return;
      }
      const stage = BAD_KIND_STAGE[kind];
      if (stage === 'parse' || stage === 'schema') {
        expect(result.ok ? 'ok' : result.stage, `${kind}: ${line}`).toBe(stage);
        if (result.ok) return;
        const prefixes: Record<string, string[]> = {
          malformed_json: ['invalid_json'],
          missing_field: ['required:'],
          mistyped_field: ['type:'],
          unknown_event_type: ['enum:event_type'],
          out_of_range: ['minimum:', 'maximum:', 'enum:stage'],
        };
        expect(result.reasons, `${kind}: ${line}`).toHaveLength(1);
        expect(
          prefixes[kind]?.some((p) => result.reasons[0]?.startsWith(p)),
          `${kind}: ${result.reasons[0]}`,
        ).toBe(true);
      } else if (kind === 'future_timestamp') {
        expect(result.ok && JSON.parse(line).occurred_at.slice(0, 4)).toBe('2099');
      } else {
        // A duplicate is an earlier valid line, byte for byte.
        expect(result.ok).toBe(true);
        if (result.ok) expect(lines[validIds.get(result.event.event_id) as number]).toBe(line);
      }
    });
  });

  it('keeps the bad share exact and the positions spread out', () => {
    const positions: number[] = [];
    collect({ events: 100_000, seed: 5, days: 30, onBad: (i) => positions.push(i) });
    expect(positions).toHaveLength(1000);
    const perTenth = Array.from({ length: 10 }, (_, k) => positions.filter((p) => Math.floor(p / 10_000) === k).length);
    expect(perTenth).toEqual(Array<number>(10).fill(100));
  });
});

describe('generateEvents: realism', () => {
  let events: Array<Record<string, string | number | undefined>> = [];
  beforeAll(() => {
    events = collect({ events: 100_000, seed: 11, days: 60, invalidRate: 0 }).map((line) => JSON.parse(line));
  });

  it('shows submission as the bottleneck in stage dwell medians', () => {
    const byWork = new Map<string, Array<{ at: string; id: string; stage: string }>>();
    for (const e of events) {
      if (e.event_type !== 'stage_entered') continue;
      const visits = byWork.get(String(e.work_id)) ?? [];
      visits.push({ at: String(e.occurred_at), id: String(e.event_id), stage: String(e.stage) });
      byWork.set(String(e.work_id), visits);
    }
    const dwell = new Map<string, number[]>();
    for (const visits of byWork.values()) {
      visits.sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1));
      for (let i = 0; i + 1 < visits.length; i++) {
        const hours = (Date.parse(visits[i + 1]!.at) - Date.parse(visits[i]!.at)) / 3_600_000;
        const stage = visits[i]!.stage;
        dwell.set(stage, dwell.get(stage) ?? []);
        dwell.get(stage)!.push(hours);
      }
    }
    const medians = new Map([...dwell].map(([stage, hours]) => [stage, median(hours)]));
    const ranked = [...medians].sort((a, b) => b[1] - a[1]);
    expect(ranked[0]?.[0]).toBe('submission');
    expect(ranked[0]![1]).toBeGreaterThan(1.8 * ranked[1]![1]);
    for (const stage of STAGES.slice(0, 8)) expect(dwell.get(stage)?.length ?? 0, stage).toBeGreaterThan(100);
    // Revision loops back to writing.
    const loops = [...byWork.values()].filter((v) => v.some((x, i) => x.stage === 'writing' && v[i - 1]?.stage === 'revision'));
    expect(loops.length).toBeGreaterThan(20);
  });

  it('has skewed engagement, progress-dependent dropoff and all event types', () => {
    const count = (type: string) => events.filter((e) => e.event_type === type).length;
    for (const type of ['stage_entered', 'writing_session', 'revision', 'reader_engagement', 'reader_dropoff']) expect(count(type), type).toBeGreaterThan(1000);
    const seconds = events.filter((e) => e.event_type === 'reader_engagement').map((e) => Number(e.engagement_seconds));
    const bands = [30, 300, 1800, Infinity].map((hi, i, all) => seconds.filter((s) => s >= (all[i - 1] ?? 0) && s < hi).length / seconds.length);
    expect(bands[0]).toBeGreaterThan(0.25);
    expect(bands[3]).toBeGreaterThan(0.03);
    expect(bands[3]).toBeLessThan(bands[0]!);
    const dropoffs = events.filter((e) => e.event_type === 'reader_dropoff').map((e) => Number(e.progress_pct));
    expect(median(dropoffs)).toBeLessThan(20);
    expect(Math.max(...dropoffs)).toBeLessThan(100);
  });

  it('brings readers to new releases, then interest decays', () => {
    const spanEnd = Date.parse('2025-01-01T00:00:00Z') + 60 * 86_400_000;
    const released = new Map<string, number>();
    for (const e of events) {
      if (e.event_type === 'stage_entered' && e.stage === 'released') released.set(String(e.work_id), Date.parse(String(e.occurred_at)));
    }
    // Arrivals (a visit's first session carries the referrer) in 5-day buckets after release, over
    // releases that have 20 days of data.
    const arrivals = [0, 0, 0, 0];
    for (const e of events) {
      const at = released.get(String(e.work_id));
      if (e.event_type !== 'reader_engagement' || e.attributes === undefined || at === undefined || at >= spanEnd - 20 * 86_400_000) continue;
      const days = (Date.parse(String(e.occurred_at)) - at) / 86_400_000;
      if (days >= 0 && days < 20) arrivals[Math.floor(days / 5)]!++;
    }
    expect(released.size).toBeGreaterThan(300);
    expect(arrivals[0]).toBeGreaterThan(1.8 * arrivals[1]!);
    expect(arrivals[1]).toBeGreaterThan(1.5 * arrivals[2]!);
    expect(arrivals[2]).toBeGreaterThan(arrivals[3]!);
  });

  it('writes on daily habits: most creators write on several days', () => {
    const days = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.event_type !== 'writing_session') continue;
      const creator = String(e.creator_id);
      days.set(creator, (days.get(creator) ?? new Set()).add(String(e.occurred_at).slice(0, 10)));
    }
    const activeDays = [...days.values()].map((d) => d.size);
    expect(median(activeDays)).toBeGreaterThan(10);
    const words = events.filter((e) => e.event_type === 'writing_session').map((e) => Number(e.words));
    expect(median(words)).toBeGreaterThan(300);
    expect(median(words)).toBeLessThan(2000);
  });
});

describe('generateEvents: memory and speed', () => {
  it('keeps the live heap flat while generating 1,000,000 events', { timeout: 300_000 }, () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    let lines = 0;
    let bytes = 0;
    const started = performance.now();
    for (const batch of generateEvents({ events: 1_000_000, seed: 'memory', days: 30, invalidRate: 0.01 })) {
      lines += batch.length;
      for (const line of batch) bytes += line.length;
      if (lines % 100_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `generator: ${lines} events in ${seconds.toFixed(1)} s (${Math.round(lines / seconds)} events/s incl. forced GCs), ` +
        `${(bytes / lines).toFixed(0)} B/line, peak live heap growth ${(peak / 1e6).toFixed(1)} MB`,
    );
    expect(lines).toBe(1_000_000);
    expect(peak).toBeLessThan(100e6);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

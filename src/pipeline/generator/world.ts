import { EVENT_TYPES, STAGES, type EventType, type Stage } from '../schema.ts';
import { Random } from '../random.ts';
import { DAY, HOUR, type Config } from './options.ts';
import { Queue } from './queue.ts';

/**
 * The simulation: creators write on daily habits, works move through the stages with log-normal
 * dwell times, released works draw readers whose interest decays (see index.ts). Each `next()`
 * is the next event in time order, as one JSON line.
 */

/** Median dwell (hours) and log-normal sigma per stage; `engagement` is terminal. */
const DWELL: Record<Exclude<Stage, 'engagement'>, { medianHours: number; sigma: number; abandon: number }> = {
  draft: { medianHours: 36, sigma: 0.7, abandon: 0.12 },
  writing: { medianHours: 7 * 24, sigma: 0.6, abandon: 0.06 },
  revision: { medianHours: 3 * 24, sigma: 0.6, abandon: 0.04 },
  beta: { medianHours: 4 * 24, sigma: 0.5, abandon: 0.05 },
  submission: { medianHours: 14 * 24, sigma: 0.5, abandon: 0.1 },
  edit: { medianHours: 5 * 24, sigma: 0.5, abandon: 0.02 },
  scheduled: { medianHours: 3 * 24, sigma: 0.4, abandon: 0.01 },
  released: { medianHours: 6 * 24, sigma: 0.3, abandon: 0 },
};
const STALL_CHANCE = 0.05;
const RELEASED = STAGES.indexOf('released');
const ENGAGEMENT = STAGES.indexOf('engagement');
const REVISION = STAGES.indexOf('revision');
const WRITING = STAGES.indexOf('writing');
const EDIT = STAGES.indexOf('edit');
const MAX_CREATORS = 5000;
/** Above this many readers in flight, new readers read once; keeps memory flat at any rate. */
const MAX_ACTIVE_JOURNEYS = 100_000;
const CATALOGUE_MAX_AGE = 180 * DAY;
const DEVICES = ['desktop', 'tablet', 'mobile'];
const REFERRERS = ['search', 'newsletter', 'social', 'direct'];

// The entities are the queue entries themselves (tagged by `kind`): no wrapper per scheduled step.
interface Creator {
  kind: 'session';
  id: string;
  habitHour: number;
  sessionsPerDay: number;
  weekendFactor: number;
  wordsPerMinute: number;
  sessionMinutes: number;
  maxWorks: number;
  works: Work[];
  startingWork: boolean;
  plan: number[];
}

interface Work {
  kind: 'stage';
  id: string;
  /** the line's creator_id, work_id and schema_version, written once per work (see record) */
  ids: string;
  creator: Creator;
  stage: number;
  words: number;
  revisions: number;
  loops: number;
  stalled: boolean;
}

interface Release {
  /** as Work.ids */
  ids: string;
  releasedAt: number;
  popularity: number;
  readSeconds: number;
}

/** A reader's visit to one work, planned on arrival: [t, dropoff?1:0, seconds, progress] per event. */
interface Journey {
  kind: 'journey';
  release: Release;
  readerId: string;
  plan: number[];
  next: number;
}

type Entry = Creator | Work | Journey | { kind: 'new_work'; creator: Creator } | { kind: 'pacer'; tick: number };

export class World {
  /** Lines emitted so far, kept current by the caller; the pacer steers toward the total. */
  lines = 0;
  private readonly rng: Random;
  private readonly queue = new Queue<Entry>();
  private readonly clock = new Clock();
  private catalogue: Release[] = [];
  private cumulative = new Float64Array(1024);
  private weighedAt = Number.NEGATIVE_INFINITY;
  private weighed = 0;
  private workCount = 0;
  private eventCount = 0;
  /** `{"event_id":"evt-<seed>-`: every line starts so */
  private readonly idPrefix: string;
  private activeJourneys = 0;
  /** Planned reader events due by the end of the current tick, and per later tick. */
  private due = 0;
  private readonly dueByTick: Int32Array;
  private tick = -1;
  private readonly config: Config;
  private readonly readers: number;
  private readonly tickMs: number;
  /** Milliseconds from the UTC midnight before the start to the start: habits follow UTC days. */
  private readonly dayOffset: number;

  constructor(config: Config) {
    this.config = config;
    this.idPrefix = `{"event_id":"evt-${config.seedKey}-`;
    this.rng = new Random(`${config.seedKey}/world`);
    this.dayOffset = ((config.startMs % DAY) + DAY) % DAY;
    const { events, spanMs } = config;
    const days = spanMs / DAY;
    const creators = Math.min(MAX_CREATORS, Math.max(1, Math.round((events * 0.3) / (days * 1.6))));
    this.readers = Math.max(20, Math.round((events * 0.7) / 2.5 / 3));
    const ticks = Math.min(20_000, Math.max(500, Math.ceil(events / 500)));
    this.tickMs = spanMs / ticks;
    this.dueByTick = new Int32Array(ticks + 1);
    for (let i = 0; i < creators; i++) this.addCreator(i + 1);
    this.queue.push(0, { kind: 'pacer', tick: 0 });
  }

  /** The next event in time order; past the end of the span, filler keeps the count exact. */
  next(): string {
    for (;;) {
      const entry = this.queue.pop();
      const t = this.queue.now;
      if (entry === undefined || t >= this.config.spanMs) return this.filler();
      const event = this.step(t, entry);
      if (event !== null) return event;
    }
  }

  private step(t: number, entry: Entry): string | null {
    switch (entry.kind) {
      case 'session':
        return this.session(t, entry);
      case 'stage':
        return this.leaveStage(t, entry);
      case 'new_work':
        return this.startWork(t, entry.creator);
      case 'journey':
        return this.readerEvent(entry);
      case 'pacer':
        this.pace(t, entry.tick);
        return null;
    }
  }

  // -- creators and works ----------------------------------------------------------------------

  private addCreator(n: number): void {
    const rng = this.rng;
    const habitHour = rng.weighted([7, 12.5, 20, 23], [0.25, 0.15, 0.4, 0.2]) + rng.normal();
    const creator: Creator = {
      kind: 'session',
      id: `creator-${pad(n, 4)}`,
      habitHour,
      sessionsPerDay: clamp(rng.lognormal(1, 0.5), 0.1, 5),
      weekendFactor: rng.uniform(0.4, 1.6),
      wordsPerMinute: clamp(rng.lognormal(15, 0.35), 4, 60),
      sessionMinutes: clamp(rng.lognormal(40, 0.4), 10, 180),
      maxWorks: rng.weighted([1, 2, 3], [0.5, 0.35, 0.15]),
      works: [],
      startingWork: false,
      plan: [],
    };
    // Warm start: the platform has been running; works are mid-stage and a back catalogue exists.
    for (let i = 0; i < creator.maxWorks; i++) {
      const stage = rng.weighted([0, 1, 2, 3, 4, 5, 6], [1.5, 7, 3, 4, 14, 5, 3]);
      const work = this.newWork(creator, stage);
      work.words = stage === 0 ? rng.int(0, 500) : Math.round(rng.lognormal(stage === 1 ? 2500 : 6000, 0.6));
      const dwell = this.dwell(work);
      this.queue.push(dwell * rng.next(), work);
    }
    const released = 1 + rng.poisson(2);
    for (let i = 0; i < released; i++) {
      const work = this.newWork(creator, RELEASED);
      work.words = Math.round(rng.lognormal(6000, 0.6));
      this.release(work, -rng.uniform(0, 120) * DAY);
    }
    this.planDay(creator, 0);
  }

  private newWork(creator: Creator, stage: number): Work {
    const id = `work-${pad(++this.workCount, 5)}`;
    const work: Work = {
      kind: 'stage',
      id,
      ids: idsPart(creator.id, id),
      creator,
      stage,
      words: 0,
      revisions: 0,
      loops: 0,
      stalled: false,
    };
    if (stage < RELEASED) creator.works.push(work);
    return work;
  }

  /** Plans the sessions of the next day (from `day` on) on which the creator writes at all. */
  private planDay(creator: Creator, day: number): void {
    const rng = this.rng;
    for (; day * DAY - this.dayOffset < this.config.spanMs; day++) {
      const midnight = day * DAY - this.dayOffset;
      const weekday = new Date(this.config.startMs + midnight).getUTCDay();
      const weekend = weekday === 0 || weekday === 6;
      const count = rng.poisson(creator.sessionsPerDay * (weekend ? creator.weekendFactor : 1));
      let t = midnight + (creator.habitHour + 1.2 * rng.normal()) * HOUR;
      const plan: number[] = [];
      for (let i = 0; i < count; i++) {
        if (t >= 0) plan.push(t);
        t += rng.lognormal(2.5, 0.5) * HOUR;
      }
      const first = plan.shift();
      if (first === undefined) continue;
      creator.plan = plan.reverse();
      this.queue.push(first, creator);
      return;
    }
  }

  private session(t: number, creator: Creator): string | null {
    const next = creator.plan.pop();
    if (next !== undefined) this.queue.push(next, creator);
    else this.planDay(creator, Math.floor((t + this.dayOffset) / DAY) + 1);

    const rng = this.rng;
    const eligible = creator.works.filter((w) => w.stage <= REVISION || w.stage === EDIT);
    if (eligible.length === 0) return null;
    const work = rng.pick(eligible);
    if (work.stage === REVISION || work.stage === EDIT) {
      const changed = Math.round(clamp(rng.lognormal(Math.max(50, work.words * 0.06), 0.7), 1, 100_000));
      return this.event(t, 'revision', work, `,"words_changed":${changed},"revision_no":${++work.revisions}`);
    }
    let minutes = clamp(rng.lognormal(creator.sessionMinutes, 0.5), 3, 600);
    let words = Math.round(minutes * creator.wordsPerMinute * rng.lognormal(1, 0.25) * (work.stage === 0 ? 0.4 : 1));
    if (rng.chance(0.002)) {
      // A pasted draft: plausible enough for the schema, flagged by the warn expectations.
      minutes = rng.uniform(2, 15);
      words = rng.int(20_001, 45_000);
    }
    work.words += words;
    let fields = `,"words":${words},"duration_minutes":${Math.round(minutes * 10) / 10}`;
    if (rng.chance(0.3)) fields += `,"attributes":{"device":"${rng.weighted(DEVICES, [0.7, 0.1, 0.2])}"}`;
    return this.event(t, 'writing_session', work, fields);
  }

  private dwell(work: Work): number {
    const stage = STAGES[work.stage] as Exclude<Stage, 'engagement'>;
    const { medianHours, sigma } = DWELL[stage];
    let hours = this.rng.lognormal(medianHours, sigma);
    if (work.stalled) hours *= this.rng.lognormal(4, 0.4);
    if (work.stage === WRITING && work.loops > 0) hours *= 0.5;
    return hours * HOUR;
  }

  private leaveStage(t: number, work: Work): string | null {
    const rng = this.rng;
    const stage = STAGES[work.stage] as Exclude<Stage, 'engagement'>;
    const abandon = Math.min(0.6, DWELL[stage].abandon * (work.stalled ? 5 : 1));
    if (rng.chance(abandon)) {
      this.retire(work);
      return null;
    }
    const loop = work.stage === REVISION && work.loops < 3 && rng.chance(0.3 / (1 + work.loops));
    if (loop) work.loops++;
    return this.enter(t, work, loop ? WRITING : work.stage + 1);
  }

  private startWork(t: number, creator: Creator): string {
    creator.startingWork = false;
    return this.enter(t, this.newWork(creator, 0), 0);
  }

  private enter(t: number, work: Work, stage: number): string {
    work.stage = stage;
    work.stalled = stage < RELEASED && this.rng.chance(STALL_CHANCE);
    if (stage === RELEASED) {
      this.retire(work);
      this.release(work, t);
    }
    if (stage !== ENGAGEMENT) {
      const exit = t + this.dwell(work);
      if (exit < this.config.spanMs) this.queue.push(exit, work);
    }
    return this.event(t, 'stage_entered', work, `,"stage":"${STAGES[stage]}"`);
  }

  /** The creator moves on: the work leaves their desk and a new one starts after a while. */
  private retire(work: Work): void {
    const creator = work.creator;
    creator.works = creator.works.filter((w) => w !== work);
    if (creator.startingWork || creator.works.length >= creator.maxWorks) return;
    const at = this.queue.now + this.rng.lognormal(2 * 24, 0.8) * HOUR;
    if (at >= this.config.spanMs) return;
    creator.startingWork = true;
    this.queue.push(at, { kind: 'new_work', creator });
  }

  // -- readers ---------------------------------------------------------------------------------

  private release(work: Work, t: number): void {
    this.catalogue.push({
      ids: work.ids,
      releasedAt: t,
      popularity: this.rng.lognormal(1, 1.1),
      readSeconds: clamp((work.words / 240) * 60, 120, 4 * 3600),
    });
  }

  /**
   * Spawns reader visits so that the lines emitted plus the reader events planned before the end
   * of this tick meet the target for that moment. Counting only what is due keeps the rate even:
   * follow-up visits planned for later days are left to later ticks. In the last tick every
   * planned event is due, so the total reaches `events`.
   */
  private pace(t: number, tick: number): void {
    const { spanMs, events } = this.config;
    this.tick = tick;
    this.due += this.dueByTick[tick] as number;
    this.dueByTick[tick] = 0;
    const end = Math.min((tick + 1) * this.tickMs, spanMs);
    if (end < spanMs) this.queue.push(end, { kind: 'pacer', tick: tick + 1 });
    let deficit = Math.ceil(events * this.progress(end)) - this.lines - this.due;
    if (deficit <= 0) return;
    this.weighCatalogue(t);
    while (deficit > 0) deficit -= Math.max(1, this.arrive(t + (end - t) * this.rng.next()));
  }

  /** Share of all lines due by time t: uniform over days, with an evening peak (20:00 UTC). */
  private progress(t: number): number {
    const span = this.config.spanMs;
    if (t >= span) return 1;
    const cum = (ms: number) => {
      const hours = (ms + this.dayOffset) / HOUR;
      return hours + ((0.5 * 24) / (2 * Math.PI)) * Math.sin((2 * Math.PI * (hours - 20)) / 24);
    };
    return (cum(t) - cum(0)) / (cum(span) - cum(0));
  }

  /** Reader interest per release; recomputed at most hourly, as it changes on a scale of days. */
  private weighCatalogue(t: number): void {
    if (t - this.weighedAt < HOUR) return;
    this.weighedAt = t;
    const catalogue = this.catalogue;
    let kept = 0;
    for (const r of catalogue) if (t - r.releasedAt < CATALOGUE_MAX_AGE) catalogue[kept++] = r;
    // Never empty: the newest release stays readable however old it is.
    if (kept === 0 && catalogue.length > 0) catalogue[kept++] = catalogue[catalogue.length - 1] as Release;
    catalogue.length = kept;
    if (this.cumulative.length < kept) this.cumulative = new Float64Array(kept * 2);
    let sum = 0;
    for (let i = 0; i < kept; i++) {
      const r = catalogue[i] as Release;
      const age = Math.max(0, t - r.releasedAt) / DAY;
      sum += r.popularity * (Math.exp(-age / 5) + 0.08 * Math.exp(-age / 60));
      this.cumulative[i] = sum;
    }
    this.weighed = kept;
  }

  /** Only among the releases weighed last: a new release waits for the next weighing. */
  private pickRelease(): Release | undefined {
    const weights = this.cumulative;
    if (this.weighed === 0) return undefined;
    const target = this.rng.next() * (weights[this.weighed - 1] as number);
    let lo = 0;
    let hi = this.weighed - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((weights[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.catalogue[lo];
  }

  /** Plans one reader's visit starting at t; returns how many of its events fall in the span. */
  private arrive(t: number): number {
    const release = this.pickRelease();
    if (release === undefined || release.releasedAt > t) return 0;
    const rng = this.rng;
    const span = this.config.spanMs;
    const maxSessions = this.activeJourneys >= MAX_ACTIVE_JOURNEYS ? 1 : 12;
    const plan: number[] = [];
    let progress = 0;
    for (let session = 0; session < maxSessions; session++) {
      const seconds = this.engagementSeconds(session === 0);
      progress = Math.min(100, progress + ((100 * seconds) / release.readSeconds) * rng.uniform(0.7, 1.3));
      const rounded = Math.min(100, Math.round(progress * 10) / 10);
      t += seconds * 1000;
      if (t >= span) break;
      plan.push(t, 0, seconds, rounded);
      if (rounded >= 100) break;
      const hazard = 0.08 + 0.55 * Math.exp(-progress / 6) + 0.12 * Math.exp(-(((progress - 60) / 18) ** 2));
      if (rng.chance(hazard)) {
        const at = t + rng.uniform(5, 120) * 1000;
        if (at < span) plan.push(at, 1, 0, rounded);
        break;
      }
      if (rng.chance(0.15)) break;
      t += rng.lognormal(20, 0.9) * HOUR;
    }
    if (plan.length === 0) return 0;
    const journey: Journey = { kind: 'journey', release, readerId: this.readerId(rng.int(1, this.readers + 1)), plan, next: 0 };
    let dueNow = 0;
    for (let i = 0; i < plan.length; i += 4) {
      const tick = this.tickOf(plan[i] as number);
      if (tick <= this.tick) dueNow++;
      else this.dueByTick[tick] = (this.dueByTick[tick] as number) + 1;
    }
    this.due += dueNow;
    this.activeJourneys++;
    this.queue.push(plan[0] as number, journey);
    return dueNow;
  }

  private tickOf(t: number): number {
    return Math.min(this.dueByTick.length - 1, Math.floor(t / this.tickMs));
  }

  /** Skewed: many bounces, some skims and reads, a few deep reads. */
  private engagementSeconds(first: boolean): number {
    const rng = this.rng;
    const band = rng.weighted([0, 1, 2, 3], first ? [0.45, 0.27, 0.2, 0.08] : [0.2, 0.3, 0.35, 0.15]);
    const median = [9, 90, 700, 2700][band] as number;
    return Math.round(clamp(rng.lognormal(median, 0.6), 1, 86_400) * 10) / 10;
  }

  private readerEvent(journey: Journey): string {
    const { plan, release } = journey;
    const i = journey.next;
    journey.next += 4;
    const tick = this.tickOf(plan[i] as number);
    if (tick <= this.tick) this.due--;
    else this.dueByTick[tick] = (this.dueByTick[tick] as number) - 1;
    if (journey.next < plan.length) this.queue.push(plan[journey.next] as number, journey);
    else this.activeJourneys--;
    const t = plan[i] as number;
    const dropoff = plan[i + 1] === 1;
    const progress = plan[i + 3] as number;
    // progress is k/10 for an integer k in 0..1000 (see arrive), so TENTHS holds its text.
    const pct = TENTHS[Math.round(progress * 10)] as string;
    let fields = dropoff
      ? `,"reader_id":"${journey.readerId}","progress_pct":${pct}`
      : `,"reader_id":"${journey.readerId}","engagement_seconds":${plan[i + 2]},"progress_pct":${pct}`;
    if (i === 0) fields += `,"attributes":{"referrer":"${this.rng.weighted(REFERRERS, [0.35, 0.25, 0.25, 0.15])}"}`;
    return this.readerRecord(t, dropoff ? 'reader_dropoff' : 'reader_engagement', release, fields);
  }

  /** Only reached if pacing fell short: one-off reads in the last tick of the span. */
  private filler(): string {
    const span = this.config.spanMs;
    const t = Math.max(0, span - this.tickMs) + this.rng.next() * Math.min(this.tickMs, span);
    this.weighCatalogue(t);
    const release = this.pickRelease() as Release;
    const seconds = this.engagementSeconds(true);
    const progress = Math.min(99.9, Math.round(((100 * seconds) / release.readSeconds) * 10) / 10);
    const readerId = this.readerId(this.rng.int(1, this.readers + 1));
    const fields = `,"reader_id":"${readerId}","engagement_seconds":${seconds},"progress_pct":${progress}`;
    return this.readerRecord(t, 'reader_engagement', release, fields);
  }

  // -- records ---------------------------------------------------------------------------------

  private event(t: number, type: EventType, work: Work, fields: string): string {
    return this.record(t, type, work.ids, fields);
  }

  private readerRecord(t: number, type: EventType, release: Release, fields: string): string {
    return this.record(Math.max(t, release.releasedAt), type, release.ids, fields);
  }

  /** `reader-000042`: pad(n, 6) from two table lookups below a million. */
  private readerId(n: number): string {
    return n < 1_000_000 ? `reader-${THREE_DIGITS[Math.floor(n / 1000)]}${THREE_DIGITS[n % 1000]}` : `reader-${n}`;
  }

  /**
   * One JSON line, written directly: every value is a number or an id made here that needs no
   * escaping, and skipping an intermediate object halves the cost per event. The parts that repeat
   * (the id's prefix, the type's, a work's ids) are made once: fewer strings per line.
   */
  private record(t: number, type: EventType, ids: string, fields: string): string {
    const at = this.clock.format(this.config.startMs + Math.floor(t));
    return `${this.idPrefix}${++this.eventCount}${TYPE_PART[type]}${at}${ids}${fields}}`;
  }
}

/** `","creator_id":"…","work_id":"…","schema_version":1`: what follows occurred_at's value in a line. */
function idsPart(creatorId: string, workId: string): string {
  return `","creator_id":"${creatorId}","work_id":"${workId}","schema_version":1`;
}

/** What comes between the event id's number and occurred_at's value, per event type. */
const TYPE_PART = Object.fromEntries(EVENT_TYPES.map((t) => [t, `","event_type":"${t}","occurred_at":"`])) as Record<EventType, string>;

/** The text of k/10 for k in 0..1000 (a reader's progress), as String gives it. */
const TENTHS = Array.from({ length: 1001 }, (_, k) => String(k / 10));
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => pad(n, 2));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => pad(n, 3));

/** toISOString with the hour and the minute cached: consecutive events mostly share them. */
class Clock {
  private minute = Number.NaN;
  private hour = Number.NaN;
  /** `2026-01-05T13:` */
  private hourPrefix = '';
  /** `2026-01-05T13:07:` */
  private prefix = '';

  /** `exact` (ms since the epoch) to the millisecond below: a start given to the microsecond makes it fractional. */
  format(exact: number): string {
    const ms = Math.floor(exact);
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      const hour = Math.floor(minute / 60);
      if (hour !== this.hour) {
        this.hour = hour;
        this.hourPrefix = new Date(hour * 3_600_000).toISOString().slice(0, 14);
      }
      this.prefix = `${this.hourPrefix}${TWO_DIGITS[minute - hour * 60]}:`;
    }
    const rest = ms - minute * 60_000;
    const sec = Math.floor(rest / 1000);
    return `${this.prefix}${TWO_DIGITS[sec]}.${THREE_DIGITS[rest - sec * 1000]}Z`;
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}

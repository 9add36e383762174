import { byEventType, carries, EVENT_FIELDS, requiredFields, type EventType, type RejectStage } from '../schema.ts';
import { Random } from '../random.ts';
import type { Config } from './options.ts';

type RawEvent = Record<string, unknown>;

export const BAD_KINDS = ['malformed_json', 'missing_field', 'mistyped_field', 'unknown_event_type', 'out_of_range', 'future_timestamp', 'duplicate'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** Where the pipeline should reject each kind of bad line. */
export const BAD_KIND_STAGE: Readonly<Record<BadKind, RejectStage>> = {
  malformed_json: 'parse',
  missing_field: 'schema',
  mistyped_field: 'schema',
  unknown_event_type: 'schema',
  out_of_range: 'schema',
  future_timestamp: 'expectation',
  duplicate: 'duplicate',
};

/** Per event type, the fields it must have (in field order), and those of them that belong to it alone. */
const REQUIRED = byEventType((t) => requiredFields(EVENT_FIELDS, t));
const TYPE_FIELDS = byEventType((t) => EVENT_FIELDS.filter((f) => f.required && f.types !== 'all' && carries(f, t)).map((f) => f.name));
const UNKNOWN_TYPES = ['purchase', 'page_view', 'work_deleted', 'writing_sesion', 'ReaderEngagement'];
const RECENT_LINES = 64;

/** Where the bad lines go, and how each is broken (see index.ts for the kinds). */
export class BadLines {
  lastKind: BadKind = 'malformed_json';
  private readonly rng: Random;
  private readonly count: number;
  private index = 0;
  private position: number;
  private kinds: BadKind[] = [];
  private readonly recent: string[] = [];
  private readonly total: number;

  constructor(config: Pick<Config, 'seedKey' | 'invalidRate'>, total: number) {
    this.total = total;
    this.rng = new Random(`${config.seedKey}/bad`);
    this.count = Math.min(total, Math.round(total * config.invalidRate));
    this.position = this.positionOf(0);
  }

  /** The k-th bad line sits at a random place in the k-th of `count` equal stretches. */
  private positionOf(k: number): number {
    if (k >= this.count) return -1;
    const lo = Math.floor((k * this.total) / this.count);
    const hi = Math.floor(((k + 1) * this.total) / this.count);
    return this.rng.int(lo, hi);
  }

  kindAt(line: number): BadKind | undefined {
    if (line !== this.position) return undefined;
    this.position = this.positionOf(++this.index);
    if (this.kinds.length === 0) this.kinds = this.rng.shuffle([...BAD_KINDS]);
    return this.kinds.pop();
  }

  remember(line: string): void {
    if (this.recent.length < RECENT_LINES) this.recent.push(line);
    else this.recent[this.rng.int(0, RECENT_LINES)] = line;
  }

  make(kind: BadKind, nextLine: () => string): string {
    const rng = this.rng;
    this.lastKind = kind === 'duplicate' && this.recent.length === 0 ? 'malformed_json' : kind;
    if (this.lastKind === 'duplicate') return rng.pick(this.recent);
    const text = nextLine();
    if (this.lastKind === 'malformed_json') return text.slice(0, rng.int(1, text.length - 1));
    const event = JSON.parse(text) as RawEvent;
    const type = event.event_type as EventType;
    switch (this.lastKind) {
      case 'missing_field':
        delete event[rng.pick([...REQUIRED[type]])];
        break;
      case 'mistyped_field': {
        const numeric = TYPE_FIELDS[type].filter((f) => typeof event[f] === 'number');
        const field = numeric.length > 0 ? rng.pick(numeric) : 'schema_version';
        event[field] = String(event[field]);
        break;
      }
      case 'unknown_event_type':
        event.event_type = rng.pick(UNKNOWN_TYPES);
        break;
      case 'out_of_range':
        outOfRange(event, type, rng);
        break;
      case 'future_timestamp': {
        // 2099 is no leap year: keep Feb 29 a real date so only the expectation can catch it.
        const at = `2099${String(event.occurred_at).slice(4)}`;
        event.occurred_at = at.startsWith('2099-02-29') ? `2099-02-28${at.slice(10)}` : at;
        break;
      }
    }
    return JSON.stringify(event);
  }
}

function outOfRange(event: RawEvent, type: EventType, rng: Random): void {
  switch (type) {
    case 'stage_entered':
      event.stage = rng.pick(['published', 'archived', 'review']);
      return;
    case 'writing_session':
      if (rng.chance(0.5)) event.words = rng.chance(0.5) ? -rng.int(1, 500) : 50_000 + rng.int(1, 30_000);
      else event.duration_minutes = 1440 + rng.int(1, 600);
      return;
    case 'revision':
      if (rng.chance(0.5)) event.revision_no = 0;
      else event.words_changed = -rng.int(1, 500);
      return;
    case 'reader_engagement':
      if (rng.chance(0.5)) event.progress_pct = 100 + rng.int(1, 80);
      else event.engagement_seconds = -rng.int(1, 60);
      return;
    case 'reader_dropoff':
      event.progress_pct = rng.chance(0.5) ? 100 + rng.int(1, 80) : -rng.int(1, 20);
      return;
  }
}

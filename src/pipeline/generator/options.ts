import { rfc3339ToMicros } from '../contract.ts';
import type { BadKind } from './bad-lines.ts';

export const DEFAULT_START = '2025-01-01';
/**
 * Small enough that a batch's lines are let go while still in V8's young generation: at 10,000
 * they outlived it and were copied to the old one (scavenges took 3.1 s of a 300,000-event run,
 * 0.9 s at 2,000).
 */
export const DEFAULT_BATCH_SIZE = 2_000;
export const DEFAULT_INVALID_RATE = 0.01;

export interface GenerateOptions {
  /** Exactly this many lines are produced. */
  events: number;
  seed: number | string;
  /** Length of the simulated span; every valid occurred_at is in [start, start + days). */
  days: number;
  /** Share of bad lines, 0–1 (default 0.01). */
  invalidRate?: number;
  /** ISO date (or RFC 3339 date-time) the span starts at, default DEFAULT_START. */
  start?: string;
  /** Lines per yielded batch, default DEFAULT_BATCH_SIZE. */
  batchSize?: number;
  /** Told about every bad line: its 0-based index across all batches and its kind. */
  onBad?: (lineIndex: number, kind: BadKind) => void;
}

/** The options, checked, in the form the world and the bad lines use. */
export interface Config {
  events: number;
  seedKey: string;
  startMs: number;
  spanMs: number;
  invalidRate: number;
  batchSize: number;
}

export function validate(o: GenerateOptions): Config {
  const fail = (what: string, value: unknown): never => {
    throw new Error(`generator: ${what} (got ${JSON.stringify(value) ?? String(value)})`);
  };
  if (!Number.isSafeInteger(o.events) || o.events < 0) fail('events must be a whole number >= 0', o.events);
  if (typeof o.days !== 'number' || !(o.days > 0 && o.days <= 36500)) fail('days must be a number in (0, 36500]', o.days);
  const invalidRate = o.invalidRate ?? DEFAULT_INVALID_RATE;
  if (typeof invalidRate !== 'number' || !(invalidRate >= 0 && invalidRate <= 1)) fail('invalidRate must be a number in [0, 1]', invalidRate);
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) fail('batchSize must be a whole number >= 1', batchSize);
  const seedOk = typeof o.seed === 'number' ? Number.isSafeInteger(o.seed) && o.seed >= 0 : /^[A-Za-z0-9_.-]{1,32}$/.test(o.seed);
  if (!seedOk) fail('seed must be a whole number >= 0 or 1–32 letters, digits, "_", "." or "-"', o.seed);
  const start = o.start ?? DEFAULT_START;
  const startUs = rfc3339ToMicros(/^\d{4}-\d{2}-\d{2}$/.test(start) ? `${start}T00:00:00Z` : start);
  if (startUs === null) fail('start must be an ISO date (2025-01-01) or an RFC 3339 date-time', start);
  const startMs = Number(startUs) / 1000;
  if (startMs + o.days * DAY >= Date.UTC(9999, 0, 1)) fail('start + days must stay before the year 9999', start);
  return { events: o.events, seedKey: String(o.seed), startMs, spanMs: o.days * DAY, invalidRate, batchSize };
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

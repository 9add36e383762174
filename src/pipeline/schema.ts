import type { ColumnType } from './columns.ts';

/**
 * The event's fields, each spelled once. contracts/event_schema.json is the contract users read
 * and ajv checks; this table says the rest — how each field is typed in silver and which event
 * types carry it — and the contract checks, the fast line scanner, typed rows, the silver tables
 * and the generator's bad lines all derive from it. test/schema.test.ts checks that the two agree.
 *
 * Adding a field: one entry here, and its property (and allOf rules) in the contract.
 */

export const EVENT_TYPES = ['stage_entered', 'writing_session', 'revision', 'reader_engagement', 'reader_dropoff'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const STAGES = ['draft', 'writing', 'revision', 'beta', 'submission', 'edit', 'scheduled', 'released', 'engagement'] as const;
export type Stage = (typeof STAGES)[number];

/** Where silver rejects a line: JSON, JSON Schema, an expectation (SQL), or a repeated event_id. */
export const REJECT_STAGES = ['parse', 'schema', 'expectation', 'duplicate'] as const;
export type RejectStage = (typeof REJECT_STAGES)[number];
/** The stages checked in TypeScript, line by line, before anything reaches the engine. */
export type EarlyStage = Extract<RejectStage, 'parse' | 'schema'>;

export interface EventField {
  name: string;
  /** the JSON type in a line (`object`: kept in silver as its JSON text) */
  json: 'string' | 'integer' | 'number' | 'object';
  /** the column type in silver/events; undefined: checked, not kept (schema_version) */
  column?: Extract<ColumnType, 'string' | 'long' | 'double' | 'timestamp'>;
  /** the event types that may carry it; the others must not */
  types: 'all' | readonly EventType[];
  /** whether those types must carry it */
  required: boolean;
}

export const EVENT_FIELDS = [
  { name: 'event_id', json: 'string', column: 'string', types: 'all', required: true },
  { name: 'event_type', json: 'string', column: 'string', types: 'all', required: true },
  { name: 'occurred_at', json: 'string', column: 'timestamp', types: 'all', required: true },
  { name: 'creator_id', json: 'string', column: 'string', types: 'all', required: true },
  { name: 'work_id', json: 'string', column: 'string', types: 'all', required: true },
  { name: 'schema_version', json: 'integer', types: 'all', required: true },
  { name: 'stage', json: 'string', column: 'string', types: ['stage_entered'], required: true },
  { name: 'words', json: 'integer', column: 'long', types: ['writing_session'], required: true },
  { name: 'duration_minutes', json: 'number', column: 'double', types: ['writing_session'], required: true },
  { name: 'words_changed', json: 'integer', column: 'long', types: ['revision'], required: true },
  { name: 'revision_no', json: 'integer', column: 'long', types: ['revision'], required: true },
  { name: 'reader_id', json: 'string', column: 'string', types: ['reader_engagement', 'reader_dropoff'], required: true },
  { name: 'engagement_seconds', json: 'number', column: 'double', types: ['reader_engagement'], required: true },
  { name: 'progress_pct', json: 'number', column: 'double', types: ['reader_engagement', 'reader_dropoff'], required: true },
  { name: 'attributes', json: 'object', column: 'string', types: 'all', required: false },
] as const satisfies readonly EventField[];

export type EventFieldName = (typeof EVENT_FIELDS)[number]['name'];

/** The engine's type for each silver column type. */
export const SQL_TYPES = { string: 'VARCHAR', long: 'BIGINT', double: 'DOUBLE', timestamp: 'TIMESTAMPTZ', date: 'DATE' } as const;

/** A column of silver/events. */
export interface SilverColumn {
  name: string;
  type: keyof typeof SQL_TYPES;
}

/** What silver adds to every event: its bronze batch and arrival, and the UTC date it occurred on. */
export const SILVER_BATCH_COLUMNS = [
  { name: 'batch_id', type: 'string' },
  { name: 'ingested_at', type: 'timestamp' },
  { name: 'event_date', type: 'date' },
] as const satisfies readonly SilverColumn[];

/** The fields silver keeps, in order. */
export function silverFields(fields: readonly EventField[]): (EventField & { column: NonNullable<EventField['column']> })[] {
  return fields.filter((f): f is EventField & { column: NonNullable<EventField['column']> } => f.column !== undefined);
}

/** silver/events, column by column: the kept fields, then the batch columns. */
export function silverColumns(fields: readonly EventField[]): SilverColumn[] {
  return [...silverFields(fields).map((f) => ({ name: f.name, type: f.column })), ...SILVER_BATCH_COLUMNS];
}

/** Whether events of `type` may carry `field`. */
export function carries(field: EventField, type: EventType): boolean {
  return field.types === 'all' || field.types.includes(type);
}

/** The fields an event of `type` must have, in field order. */
export function requiredFields(fields: readonly EventField[], type: EventType): string[] {
  return fields.filter((f) => f.required && carries(f, type)).map((f) => f.name);
}

/** A value per event type. */
export function byEventType<T>(value: (type: EventType) => T): Record<EventType, T> {
  return Object.fromEntries(EVENT_TYPES.map((t) => [t, value(t)])) as Record<EventType, T>;
}

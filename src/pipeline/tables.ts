import type { ColumnType } from './columns.ts';

/** Where each table lives under the lakehouse root (SPEC §2). */
export const TABLES = {
  bronze: 'bronze/events',
  silver: 'silver/events',
  rejects: 'silver/rejects',
  quality: 'silver/quality',
} as const;

export const goldTable = (kpi: string): string => `gold/${kpi}`;

export const BRONZE_COLUMNS = {
  raw: 'string',
  batch_id: 'string',
  source: 'string',
  line_no: 'long',
  ingested_at: 'timestamp',
} as const satisfies Record<string, ColumnType>;

export const REJECT_COLUMNS = {
  raw: 'string',
  event_id: 'string',
  stage: 'string',
  reasons: 'string[]',
  errors: 'string[]',
  batch_id: 'string',
  ingested_at: 'timestamp',
  rejected_at: 'timestamp',
} as const satisfies Record<string, ColumnType>;

export const QUALITY_COLUMNS = {
  batch_id: 'string',
  expectation: 'string',
  action: 'string',
  passed: 'long',
  failed: 'long',
} as const satisfies Record<string, ColumnType>;

/** The typed event columns as parsed in TypeScript, before silver adds batch columns. */
export const TYPED_COLUMNS = {
  event_id: 'string',
  event_type: 'string',
  occurred_at: 'timestamp',
  creator_id: 'string',
  work_id: 'string',
  stage: 'string',
  words: 'long',
  duration_minutes: 'double',
  words_changed: 'long',
  revision_no: 'long',
  reader_id: 'string',
  engagement_seconds: 'double',
  progress_pct: 'double',
  attributes: 'string',
} as const satisfies Record<string, ColumnType>;

/** silver/events in DuckDB, column for column as SPEC §2 lists them. */
export const SILVER_EVENTS_DDL = `(
  event_id VARCHAR, event_type VARCHAR, occurred_at TIMESTAMPTZ, creator_id VARCHAR, work_id VARCHAR,
  stage VARCHAR, words BIGINT, duration_minutes DOUBLE, words_changed BIGINT, revision_no BIGINT,
  reader_id VARCHAR, engagement_seconds DOUBLE, progress_pct DOUBLE, attributes VARCHAR,
  batch_id VARCHAR, ingested_at TIMESTAMPTZ, event_date DATE)`;

export const SILVER_EVENT_COLUMNS = [
  'event_id', 'event_type', 'occurred_at', 'creator_id', 'work_id', 'stage', 'words', 'duration_minutes', 'words_changed',
  'revision_no', 'reader_id', 'engagement_seconds', 'progress_pct', 'attributes', 'batch_id', 'ingested_at', 'event_date',
];

/** The txn application id with which silver records the bronze versions it has processed. */
export const SILVER_APP_ID = 'creatorops-silver';


/** The gold KPI tables in the order of SPEC §3; each is computed by `sql/gold/<name>.sql`. */
export const GOLD_TABLES = [
  'writing_velocity_daily',
  'revision_churn_daily',
  'engagement_bands',
  'dropoff_rate',
  'stage_bottlenecks',
  'post_release_engagement',
] as const;

export type GoldTable = (typeof GOLD_TABLES)[number];

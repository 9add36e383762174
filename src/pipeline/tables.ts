import type { ColumnType } from './columns.ts';
import { EVENT_FIELDS, SQL_TYPES, silverColumns, silverFields } from './schema.ts';

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
export const TYPED_COLUMNS: Readonly<Record<string, ColumnType>> = Object.fromEntries(silverFields(EVENT_FIELDS).map((f) => [f.name, f.column]));

const SILVER = silverColumns(EVENT_FIELDS);

/** silver/events, column for column as SPEC §2 lists them. */
export const SILVER_EVENT_COLUMNS: readonly string[] = SILVER.map((c) => c.name);

/** silver/events in DuckDB: the column list of a CREATE TABLE. */
export const SILVER_EVENTS_DDL = `(${SILVER.map((c) => `${c.name} ${SQL_TYPES[c.type]}`).join(', ')})`;

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

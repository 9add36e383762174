import type { Table } from 'apache-arrow';
import { CodedError } from '../errors.ts';

/**
 * The SQL engine as the rest of the code sees it. Arrow crosses this boundary as IPC stream
 * bytes: under Node the DuckDB bundle carries its own copy of apache-arrow, and Arrow objects
 * from two copies do not mix.
 */
export interface Engine {
  /** Run one or more statements; results are discarded. */
  run(sql: string): void;
  /** Run a query; the result in the Arrow IPC stream format. */
  queryIPC(sql: string): Uint8Array;
  /** Run a query; the result as an Arrow table. */
  query(sql: string): Table;
  /** Run a query; the result as plain row objects (BigInt for 64-bit integers). */
  rows<T = Record<string, unknown>>(sql: string): T[];
  /** Create (or replace) table `name` from an Arrow IPC stream. */
  insertIPC(name: string, ipc: Uint8Array): void;
  /** Append an Arrow IPC stream to the existing table `name`, column by column in order. */
  appendIPC(name: string, ipc: Uint8Array): void;
  close(): void;
}

/** A statement the engine refused or failed: its SQL, and the engine's own words (`detail`). */
export class QueryError extends CodedError {
  static readonly code = 'QUERY_FAILED';
  override name = 'QueryError';
  readonly sql: string;
  /** the engine's message, without what was being done (the innermost QueryError's, when one wraps another) */
  readonly detail: string;
  constructor(message: string, sql: string, cause: unknown) {
    super(message, { cause });
    this.sql = sql;
    this.detail = cause instanceof QueryError ? cause.detail : cause instanceof Error ? cause.message : String(cause);
  }
}

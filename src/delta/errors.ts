import { QueryError } from '../engine/types.ts';
import { CodedError } from '../errors.ts';

/**
 * What the Delta layer refuses or cannot read. The message is `delta: ` and the reason; the CLI,
 * where every error is about a table, prints the reason alone. The subclasses are the refusals a
 * caller handles on their own; the rest are this class (code `DELTA`).
 */
export class DeltaError extends CodedError {
  static readonly code: string = 'DELTA';
  override name = 'DeltaError';
  /** the message without `delta: ` */
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super(`delta: ${reason}`, options);
    this.reason = reason;
  }
}

/** A folder whose `_delta_log` has no commit and no checkpoint: no table, or its first commit was cut short. */
export class NotADeltaTableError extends DeltaError {
  static override readonly code = 'NOT_A_DELTA_TABLE';
  override name = 'NotADeltaTableError';
}

/** A version after the latest one of the table's log. */
export class VersionNotFoundError extends DeltaError {
  static override readonly code = 'VERSION_NOT_FOUND';
  override name = 'VersionNotFoundError';
}

/**
 * What `err` says, for a message that says it in its own: a DeltaError's reason (without
 * `delta: `), the engine's own words of a QueryError (without what was being done).
 */
export function reasonOf(err: unknown): string {
  if (err instanceof DeltaError) return err.reason;
  if (err instanceof QueryError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}

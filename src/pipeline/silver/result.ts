import { CodedError } from '../../errors.ts';
import type { RejectStage } from '../schema.ts';
import { REJECT_COLUMNS } from '../tables.ts';

export interface SilverBatchResult {
  batchId: string;
  bronzeVersion: number;
  bronzeRows: number;
  silverRows: number;
  rejectedRows: number;
  rejectsByStage: Record<RejectStage, number>;
  rejectsByReason: Record<string, number>;
  /** violations of `warn` expectations (rows kept) */
  warnings: Record<string, number>;
  /** a `fail` expectation stopped the batch: nothing of it reached silver or rejects */
  failed?: { expectation: string; rows: number; sampleLineNo: number; sampleRaw: string };
}

export class ExpectationFailedError extends CodedError {
  static readonly code = 'EXPECTATION_FAILED';
  override name = 'ExpectationFailedError';
  constructor(readonly result: SilverBatchResult) {
    const f = result.failed!;
    super(
      `batch ${result.batchId} stopped: expectation ${f.expectation} (action fail) was violated by ${f.rows} row${f.rows === 1 ? '' : 's'}, ` +
        `e.g. line ${f.sampleLineNo}: ${f.sampleRaw.length > 200 ? `${f.sampleRaw.slice(0, 200)}…` : f.sampleRaw}; ` +
        'its raw rows stay in bronze, and nothing of it reached silver, rejects or gold',
    );
  }
}

/** silver/rejects rows, column by column (REJECT_COLUMNS), as tableOf takes them. */
export type RejectColumns = Record<keyof typeof REJECT_COLUMNS, unknown[]>;

export function emptyRejects(): RejectColumns {
  return Object.fromEntries(Object.keys(REJECT_COLUMNS).map((k) => [k, []])) as unknown as RejectColumns;
}

export function pushReject(
  r: RejectColumns,
  raw: string,
  eventId: string | null,
  stage: RejectStage,
  reasons: string[],
  errors: string[],
  batchId: string,
  ingestedAt: bigint,
): void {
  r.raw.push(raw);
  r.event_id.push(eventId);
  r.stage.push(stage);
  r.reasons.push(reasons);
  r.errors.push(errors);
  r.batch_id.push(batchId);
  r.ingested_at.push(ingestedAt);
}

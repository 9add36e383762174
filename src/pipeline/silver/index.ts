/**
 * Bronze → silver. A batch's lines are checked in TypeScript as they arrive (batch.ts, with the
 * contract and typed rows), then in the engine (checks.ts: the expectations and dedup, SQL from
 * sql/silver/), split into silver/events, silver/rejects and silver/quality and committed
 * (commit.ts). pending.ts finds the bronze versions silver has not taken in; engine-copy.ts keeps
 * the engine's `silver_events` in step with silver/events.
 */
export { needsRaw, SilverBatch } from './batch.ts';
export { COMPRESS_SILVER_ABOVE, dropSilverEvents, ensureSilverCapacity, loadSilverEvents, silverDatabase } from './engine-copy.ts';
export { releaseSilverBuffers } from '../scratch.ts';
export { isBatch, processPendingBronze, type PendingOptions } from './pending.ts';
export { ExpectationFailedError, type SilverBatchResult } from './result.ts';

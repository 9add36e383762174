import type { Versions } from '../worker/protocol.ts';

/** What the page knows about the worker and its engine. */
export type EngineStatus =
  /** `open`: the tables can be listed and the dashboard read already (no engine needed for that) */
  | { state: 'starting'; step: string; open?: boolean }
  /** `startedMs`: from the page's navigation to the engine's first answer */
  | { state: 'ready'; versions: Versions; startedMs: number }
  /** `open`: the lakehouse opened before the engine failed, so the tables and the dashboard still show */
  | { state: 'failed'; message: string; open?: boolean };

import type { Versions } from '../worker/worker.ts';

/** What the page knows about the worker and its engine. */
export type EngineStatus =
  | { state: 'starting'; step: string }
  | { state: 'ready'; versions: Versions }
  | { state: 'failed'; message: string };

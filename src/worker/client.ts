import { wrap } from 'comlink';
import { carryErrors, type Api, type LakehouseWorker } from './protocol.ts';
import type { SpawnedWorker } from './spawn.ts';

/** The page's side of the worker boot.ts started (spawn.ts), handed to the views as a LakehouseWorker. */
export function connectWorker({ worker, failed }: SpawnedWorker): LakehouseWorker {
  carryErrors();
  return { api: wrap<Api>(worker), failed, terminate: () => worker.terminate() };
}

import { describe, expect, test } from 'vitest';
import type { EngineStatus } from '../../src/ui/status.ts';
import { startEngine } from '../../src/ui/engine.ts';
import type { LakehouseWorker } from '../../src/worker/protocol.ts';

const versions = { duckdb: 'v1.4.3', duckdbWasm: '1.32.0', storage: 'OPFS lakehouse/' };

function fakeWorker(
  api: { ping(): Promise<unknown>; init(): Promise<unknown>; open?(): Promise<unknown> },
  failed = new Promise<never>(() => {}),
): LakehouseWorker {
  return {
    api: { open: async () => ({ storage: 'OPFS lakehouse/', persistent: true, limitations: [] }), ...api },
    failed,
    terminate: () => {},
  } as unknown as LakehouseWorker;
}

async function run(worker: LakehouseWorker): Promise<EngineStatus[]> {
  const seen: EngineStatus[] = [];
  startEngine(worker, (s) => seen.push(s));
  await new Promise((resolve) => setTimeout(resolve, 10));
  return seen;
}

describe('startEngine', () => {
  test('reports each step, then the versions', async () => {
    const seen = await run(fakeWorker({ ping: async () => ({}), init: async () => versions }));
    expect(seen).toEqual([
      { state: 'starting', step: 'Starting worker…' },
      { state: 'starting', step: 'Opening the lakehouse…' },
      { state: 'starting', step: 'Starting engine…', open: true },
      { state: 'ready', versions, startedMs: expect.any(Number) },
    ]);
  });

  test('reports the error of a failed start, and that the lakehouse opened before it', async () => {
    const init = async () => {
      throw new Error('starting the engine: WebAssembly.instantiate(): out of memory');
    };
    const seen = await run(fakeWorker({ ping: async () => ({}), init }));
    expect(seen.at(-1)).toEqual({ state: 'failed', message: 'starting the engine: WebAssembly.instantiate(): out of memory', open: true });
  });

  test('does not wait forever on a worker that died', async () => {
    const failed = Promise.reject(new Error('the lakehouse worker failed: its script did not load'));
    failed.catch(() => {});
    const seen = await run(fakeWorker({ ping: () => new Promise(() => {}), init: async () => versions }, failed));
    expect(seen).toEqual([
      { state: 'starting', step: 'Starting worker…' },
      { state: 'failed', message: 'the lakehouse worker failed: its script did not load', open: false },
    ]);
  });

  test('says nothing after it is cancelled', async () => {
    const seen: EngineStatus[] = [];
    const stop = startEngine(fakeWorker({ ping: async () => ({}), init: async () => versions }), (s) => seen.push(s));
    stop();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([{ state: 'starting', step: 'Starting worker…' }]);
  });

  test('starts the engine only once the lakehouse is open and `after` has settled', async () => {
    const calls: string[] = [];
    let settle!: () => void;
    const after = new Promise<void>((resolve) => (settle = resolve));
    const worker = fakeWorker({
      ping: async () => calls.push('ping'),
      open: async () => calls.push('open'),
      init: async () => {
        calls.push('init');
        return versions;
      },
    });
    const seen: EngineStatus[] = [];
    startEngine(worker, (s) => seen.push(s), after);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual(['ping', 'open']);
    expect(seen.at(-1)).toEqual({ state: 'starting', step: 'Starting engine…', open: true });
    settle();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toEqual(['ping', 'open', 'init']);
    expect(seen.at(-1)).toEqual({ state: 'ready', versions, startedMs: expect.any(Number) });
  });
});

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Engine } from './types.ts';
import { engineFromBindings, startInstance, type BlockingBindings } from './duckdb.ts';

const require = createRequire(import.meta.url);

let bindingsPromise: Promise<BlockingBindings> | undefined;

function loadBindings(): Promise<BlockingBindings> {
  bindingsPromise ??= (async () => {
    const duckdb = require('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs');
    const dist = dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs'));
    const bundles = {
      mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: '' },
      eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: '' },
    };
    const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
    await db.instantiate(() => {});
    startInstance(db as BlockingBindings);
    return db as BlockingBindings;
  })();
  return bindingsPromise;
}

/** A new connection on the process-wide DuckDB-WASM instance. */
export async function openNodeEngine(): Promise<Engine> {
  return engineFromBindings(await loadBindings());
}

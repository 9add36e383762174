import { openNodeEngine } from '../../src/engine/node.ts';
import { initParquet } from '../../src/parquet/node.ts';
import type { Engine } from '../../src/engine/types.ts';

/** A Node DuckDB-WASM connection with the Parquet codec ready. */
export async function testEngine(): Promise<Engine> {
  initParquet();
  return openNodeEngine();
}

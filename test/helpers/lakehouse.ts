import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectFiles } from '../../src/cli/context.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { openLakehouse, type Lakehouse } from '../../src/worker/lakehouse.ts';

/** The worker's lakehouse API over a temp folder and Node's DuckDB-WASM: what the page gets, without a browser. */
export async function nodeLakehouse(dir?: string): Promise<{ lakehouse: Lakehouse; dir: string; storage: NodeStorage }> {
  initParquet();
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'lakehouse-api-')));
  const storage = new NodeStorage(root);
  const { goldSql, silverSql, expectationsText } = loadProjectFiles();
  return { lakehouse: await openLakehouse({ storage, openEngine: openNodeEngine, goldSql, silverSql, expectationsText }), dir: root, storage };
}

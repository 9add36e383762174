/**
 * `npx tsx scripts/interop/export-lakehouse.ts DIR OUT.zip`: the lakehouse in DIR exported as the
 * page exports it — the page's lakehouse (openLakehouse, what the worker runs) over NodeStorage
 * instead of OPFS, its `exportLakehouse()` — written to OUT.zip. Prints the export's table summary.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadProjectFiles } from '../../src/cli/context.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { openLakehouse } from '../../src/worker/lakehouse.ts';

async function main([dir, target]: string[]): Promise<void> {
  if (!dir || !target) throw new Error('usage: export-lakehouse.ts DIR OUT.zip');
  initParquet();
  const { goldSql, silverSql, expectationsText } = loadProjectFiles();
  const lakehouse = await openLakehouse({ storage: new NodeStorage(resolve(dir)), openEngine: openNodeEngine, goldSql, silverSql, expectationsText });
  const result = await lakehouse.exportLakehouse();
  const bytes = new Uint8Array(await result.archive.arrayBuffer());
  await writeFile(target, bytes);
  process.stdout.write(`${JSON.stringify({ fileName: result.fileName, bytes: bytes.byteLength, tables: result.tables })}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * Every version of every Delta table below a folder, as this project reads it, in one process:
 * `npx tsx scripts/interop/versions.ts DIR [TABLE...]` prints one JSON line per table-version
 *
 *   {"table":"silver/events","version":3,"schema":{…},"partitionColumns":[],
 *    "files":["part-…parquet",…],"fileRecords":[300,…],"rows":[…]}   (or "error":"…" instead of "rows")
 *
 * and one line per table with its history (`"history":[…]`, oldest first, as `cli log` reads it, with
 * each commit's commitInfo).
 * The rows go through the same code as `cli read TABLE --version N` (loadSnapshot,
 * scanIntoEngine, jsonLines), without a process per version. The interop suite (interop/)
 * compares them with what Spark and delta-rs read.
 */
import { resolve } from 'node:path';
import { decodeDataPath, isCommitInfo } from '../../src/delta/actions.ts';
import { jsonLines } from '../../src/delta/export.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { listLog, loadHistory, loadSnapshot, numRecords } from '../../src/delta/snapshot.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import { findTables } from '../../src/delta/copy.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { NodeStorage } from '../../src/storage/node.ts';

async function main([dir, ...only]: string[]): Promise<void> {
  if (!dir) throw new Error('usage: versions.ts DIR [TABLE...]');
  initParquet();
  const root = resolve(dir);
  const storage = new NodeStorage(root);
  const engine = await openNodeEngine();
  const out = (line: string) => new Promise<void>((done) => (process.stdout.write(`${line}\n`) ? done() : process.stdout.once('drain', done)));
  for (const table of only.length ? only : await findTables(storage, root)) {
    const history = (await loadHistory(storage, table)).reverse().map((h) => ({
      version: h.version,
      timestamp: h.timestamp,
      operation: h.operation,
      commitInfo: h.actions.find(isCommitInfo)?.commitInfo ?? null,
    }));
    await out(JSON.stringify({ table, history }));
    const log = await listLog(storage, table);
    for (const version of [...log.commits.keys()].sort((a, b) => a - b)) {
      const snapshot = await loadSnapshot(storage, table, version, log);
      const head = JSON.stringify({
        table,
        version,
        schema: JSON.parse(snapshot.metadata.schemaString) as unknown,
        partitionColumns: snapshot.metadata.partitionColumns,
        files: snapshot.files.map((f) => decodeDataPath(f.path)),
        fileRecords: snapshot.files.map(numRecords),
      }).slice(0, -1);
      let rows: string[];
      try {
        await scanIntoEngine(engine, storage, snapshot, 'delta_read');
        rows = [...jsonLines(engine, 'delta_read', snapshot.schema)];
      } catch (err) {
        await out(`${head},"error":${JSON.stringify((err as Error).message)}}`);
        continue;
      }
      // The lines are JSON objects already (exact longs and decimals as bare numbers): kept as they are.
      await out(`${head},"rows":[${rows.join(',')}]}`);
    }
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

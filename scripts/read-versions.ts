/**
 * Every version of many Delta tables, read in one process with exactly what `cli read` runs
 * (src/cli/read.ts: loadSnapshot + scanIntoEngine + jsonLines), for the interoperability suite
 * (interop/test_their_tables.py), where one `cli read` per table and version would spend most of
 * its time starting up.
 *
 *   npx tsx scripts/read-versions.ts TABLE_DIR...
 *
 * One JSON line per table and version, oldest first:
 *   {"table":DIR,"version":N,"columns":[[NAME,DUCKDB_TYPE],...],"schema":DELTA_SCHEMA,"rows":[ROW,...]}
 * where each ROW is the line `cli read DIR --version N` prints, or, when that version cannot be read,
 *   {"table":DIR,"version":N,"error":MESSAGE}
 */
import { resolve } from 'node:path';
import { listLog } from '../src/delta/snapshot.ts';
import { readLines, readTable, READ_TABLE } from '../src/cli/read.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { NodeStorage } from '../src/storage/node.ts';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: tsx scripts/read-versions.ts TABLE_DIR...\n');
  process.exit(2);
}
initParquet();
const engine = await openNodeEngine();
const write = (line: string) => new Promise<void>((done) => (process.stdout.write(`${line}\n`) ? done() : process.stdout.once('drain', done)));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

for (const dir of dirs) {
  const storage = new NodeStorage(resolve(dir));
  let versions: number[];
  try {
    const log = await listLog(storage, '');
    versions = [...new Set([...log.commits.keys(), ...log.checkpoints.keys()])].sort((a, b) => a - b);
  } catch (err) {
    await write(JSON.stringify({ table: dir, version: null, error: message(err) }));
    continue;
  }
  for (const version of versions) {
    let head: string;
    let lines: string[];
    try {
      const { snapshot } = await readTable(engine, storage, version);
      const columns = engine
        .rows<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${READ_TABLE})`)
        .map((c) => [c.column_name, c.column_type]);
      head = `{"table":${JSON.stringify(dir)},"version":${version},"columns":${JSON.stringify(columns)},"schema":${JSON.stringify(snapshot.schema)}`;
      lines = [...readLines(engine, snapshot)];
    } catch (err) {
      await write(JSON.stringify({ table: dir, version, error: message(err) }));
      continue;
    }
    await write(`${head},"rows":[${lines.join(',')}]}`);
  }
}
process.exit(0);

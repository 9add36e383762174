/**
 * Appends rows to a Delta table (id BIGINT, value STRING, part INT) through this project's
 * writer, one commit per batch of three rows, for the interop suite:
 * `npx tsx interop/append.ts TABLE_DIR FIRST_BATCH BATCHES`.
 */
import { resolve } from 'node:path';
import { Int32, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { initParquet } from '../src/parquet/node.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { writeTable } from '../src/delta/writer.ts';

const [dir, first, batches] = process.argv.slice(2);
if (!dir || !first || !batches) throw new Error('usage: append.ts TABLE_DIR FIRST_BATCH BATCHES');
initParquet();
const storage = new NodeStorage(resolve(dir));
for (let b = Number(first); b < Number(first) + Number(batches); b++) {
  const ids = [0, 1, 2].map((i) => BigInt(b * 10 + i));
  const data = new Table({
    id: vectorFromArray(ids, new Int64()),
    value: vectorFromArray(
      ids.map((id) => `ours_${id}`),
      new Utf8(),
    ),
    part: vectorFromArray([0, 1, 2], new Int32()),
  });
  const { version } = await writeTable(storage, '', data, { mode: 'append' });
  process.stdout.write(`${version}\n`);
}

// One of the racing writers of test/object-storage/race.test.ts, as its own process:
// `tsx racer.ts LOCATION TABLE WRITER ROUNDS` appends one row (writer, round) per commit, ROUNDS
// times, and prints one JSON line: the versions it committed, its lost races, requests and time.
import { Table, Utf8, Int32, vectorFromArray } from 'apache-arrow';
import { openLocation } from '../../src/cli/location.ts';
import { writeTable } from '../../src/delta/writer.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { ObjectStorage } from '../../src/storage/object.ts';

const [where, table, writer, rounds] = process.argv.slice(2) as [string, string, string, string];
initParquet();
const storage = openLocation(where);
let attempts = 0;
const putIfAbsent = storage.putIfAbsent.bind(storage);
storage.putIfAbsent = (path, data) => {
  if (path.includes('/_delta_log/')) attempts++;
  return putIfAbsent(path, data);
};
const versions: number[] = [];
const started = performance.now();
for (let round = 1; round <= Number(rounds); round++) {
  const rows = new Table({ writer: vectorFromArray([writer], new Utf8()), round: vectorFromArray([round], new Int32()) });
  versions.push((await writeTable(storage, table, rows, { mode: 'append' })).version);
}
const seconds = (performance.now() - started) / 1000;
const requests = storage instanceof ObjectStorage ? storage.client.requests : 0;
process.stdout.write(`${JSON.stringify({ writer, versions, lostRaces: attempts - versions.length, requests, seconds })}\n`);

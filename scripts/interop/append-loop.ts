/**
 * Our writer's side of the concurrent-writers test (interop/test_concurrent_writers.py):
 * `npx tsx scripts/interop/append-loop.ts TABLE_DIR ROUNDS ROWS` creates the table (version 0)
 * when it is absent, prints `ready`, waits for a line on stdin, then appends ROUNDS commits of
 * ROWS rows each with `writeTable`-style commits (src/delta/writer.ts) on NodeStorage, as fast as it
 * can, while another writer appends to the same table. Each commit is reported as a JSON line:
 * {"round":i,"version":v,"readVersion":r,"rebased":n} where n is the number of other commits it
 * found in its place and committed after (the versions between its read and its own).
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Float64, Table, TimestampMicrosecond, Utf8, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { openWriter } from '../../src/delta/writer.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { NodeStorage } from '../../src/storage/node.ts';

/** ROWS rows of one round: writer, round, n, amount (a double), at (a UTC timestamp, µs). */
export function roundRows(writer: string, round: number, rows: number): Table {
  const n = Array.from({ length: rows }, (_, i) => i);
  const at = BigInt(Date.UTC(2025, 0, 1)) * 1000n + BigInt(round) * 1_000_001n;
  return new Table({
    writer: vectorFromArray(
      n.map(() => writer),
      new Utf8(),
    ),
    round: makeVector(BigInt64Array.from(n, () => BigInt(round))),
    n: makeVector(BigInt64Array.from(n, (i) => BigInt(i))),
    amount: vectorFromArray(
      n.map((i) => round + i / 8),
      new Float64(),
    ),
    at: makeVector(makeData({ type: new TimestampMicrosecond('UTC'), length: rows, nullCount: 0, data: BigInt64Array.from(n, (i) => at + BigInt(i)) })),
  });
}

async function append(storage: NodeStorage, round: number, rows: number) {
  const writer = await openWriter(storage, '', { mode: 'append', operationParameters: { writer: 'ours', round: String(round) } });
  await writer.write(roundRows('ours', round, rows));
  const result = await writer.commit();
  return { round, version: result.version, readVersion: writer.readVersion, rebased: result.version - writer.readVersion - 1 };
}

async function main([dir, roundsArg, rowsArg]: string[]): Promise<void> {
  const rounds = Number(roundsArg);
  const rows = Number(rowsArg);
  if (!dir || !Number.isInteger(rounds) || !Number.isInteger(rows)) throw new Error('usage: append-loop.ts TABLE_DIR ROUNDS ROWS');
  initParquet();
  const storage = new NodeStorage(resolve(dir));
  if (!(await storage.stat('_delta_log/00000000000000000000.json'))) {
    process.stdout.write(`${JSON.stringify(await append(storage, 0, rows))}\n`);
  }
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((go) => lines.once('line', () => go()));
  lines.close();
  for (let round = 1; round <= rounds; round++) process.stdout.write(`${JSON.stringify(await append(storage, round, rows))}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

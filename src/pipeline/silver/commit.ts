import type { Table } from 'apache-arrow';
import type { Snapshot } from '../../delta/snapshot.ts';
import { TableWriter, type FileEncoding } from '../../delta/writer.ts';
import type { PipelineContext } from '../context.ts';
import { SILVER_APP_ID, TABLES } from '../tables.ts';

/** The three tables a batch lands in. */
export type SilverTable = 'events' | 'rejects' | 'quality';

/**
 * Per silver table, whether the bronze version still has to reach it, and the snapshot its commit
 * goes on top of (undefined: the commit creates the table). The snapshot is the one the pending
 * versions were found from: a writer that committed since makes ours a conflict (the `txn`), and
 * the run reads the tables again and retries.
 */
export type SilverTargets = Record<SilverTable, { pending: boolean; snapshot: Snapshot | undefined }>;

const PATHS: Record<SilverTable, string> = { events: TABLES.silver, rejects: TABLES.rejects, quality: TABLES.quality };
const NAMES: Record<SilverTable, string> = { events: 'silver_events', rejects: 'rejects', quality: 'quality' };

/**
 * One commit of `data` to a silver table, carrying the batch's `txn(SILVER_APP_ID, version)`.
 * `ipcs[i]` is `data[i]` as an Arrow IPC stream when it is at hand, `encoded[i]` its Parquet being
 * encoded elsewhere; each table is at least one data file.
 */
export async function commitSilver(
  ctx: PipelineContext,
  table: SilverTable,
  snapshot: Snapshot | undefined,
  data: Table | Table[],
  bronzeVersion: number,
  batchId: string,
  ipcs?: Uint8Array[],
  encoded?: FileEncoding[],
): Promise<{ version: number; readVersion: number }> {
  const writer = new TableWriter(ctx.storage, PATHS[table], snapshot, {
    mode: 'append',
    txn: { appId: SILVER_APP_ID, version: bronzeVersion },
    name: NAMES[table],
    operationParameters: { batchId },
  });
  const tables = Array.isArray(data) ? data : [data];
  try {
    for (const [i, t] of tables.entries()) await writer.write(t, ipcs?.[i], encoded?.[i]);
  } catch (err) {
    // No commit will take in the files written so far.
    await writer.discard();
    throw err;
  }
  const { version } = await writer.commit();
  return { version, readVersion: writer.readVersion };
}

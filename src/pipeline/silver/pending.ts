import { tableFromIPC } from 'apache-arrow';
import { decodeDataPath, isAdd, isRemove, type Action } from '../../delta/actions.ts';
import { readCommit, tryListLog, type Snapshot } from '../../delta/snapshot.ts';
import { tryLoadSnapshot } from '../../delta/writer.ts';
import { decodeParquet } from '../../parquet/codec.ts';
import { joinPath } from '../../storage/types.ts';
import { bigintAt } from '../columns.ts';
import { checkCancelled, type PipelineContext } from '../context.ts';
import { SILVER_APP_ID, TABLES } from '../tables.ts';
import { SilverBatch } from './batch.ts';
import type { SilverTargets } from './commit.ts';
import { ExpectationFailedError, type SilverBatchResult } from './result.ts';

export interface PendingOptions {
  /** results so far (a run's earlier batches): this call's are pushed onto it */
  results?: SilverBatchResult[];
  /**
   * A batch whose lines were already checked while they were written to bronze (at
   * `prepared.version`): it is finished from memory instead of being read back from its files.
   */
  prepared?: { version: number; batch: SilverBatch };
  /** silver/events as last read (loadSilverEvents), when nothing has committed to it since */
  silver?: Snapshot;
}

/**
 * Process every bronze version that silver has not processed yet, in order. Each of the three
 * silver tables records the bronze version it has taken in with a `txn` action in the same
 * commit as its rows, so a re-run after a crash redoes exactly the missing commits.
 *
 * The log is read as little as it can be: bronze is only listed (its latest version), each
 * pending bronze commit is read once, and each silver table's snapshot both gives its watermark
 * and is the one its commit goes on top of; after a batch the next one reads them again.
 */
export async function processPendingBronze(ctx: PipelineContext, options: PendingOptions = {}): Promise<SilverBatchResult[]> {
  const { results = [], prepared } = options;
  const bronze = await tryListLog(ctx.storage, TABLES.bronze);
  if (!bronze) return results;
  let silver = options.silver;
  for (;;) {
    const targets = await silverTargets(ctx, silver);
    silver = undefined;
    const done = Math.min(...Object.values(targets).map((t) => mark(t.snapshot)));
    let found: { version: number; batch: () => Promise<SilverBatch> } | undefined;
    for (let v = done + 1; v <= bronze.latest && !found; v++) {
      checkCancelled(ctx);
      if (prepared?.version === v) {
        found = { version: v, batch: async () => prepared.batch };
        continue;
      }
      const actions = await readCommit(ctx.storage, TABLES.bronze, v);
      // A commit that adds no data (OPTIMIZE: every add and remove `dataChange: false`) is no batch.
      if (isBatchCommit(actions)) found = { version: v, batch: () => readBronzeVersion(ctx, actions) };
    }
    if (!found) return results;
    const { version } = found;
    for (const t of Object.values(targets)) t.pending = version > mark(t.snapshot);
    const result = await (await found.batch()).finish(version, targets);
    results.push(result);
    if (result.failed) throw new ExpectationFailedError(result);
    if (version >= bronze.latest) return results;
  }
}

/** The three silver tables as they are now; silver/events from `silver` when given. */
async function silverTargets(ctx: PipelineContext, silver: Snapshot | undefined): Promise<SilverTargets> {
  const [events, rejects, quality] = await Promise.all([
    silver ?? tryLoadSnapshot(ctx.storage, TABLES.silver),
    tryLoadSnapshot(ctx.storage, TABLES.rejects),
    tryLoadSnapshot(ctx.storage, TABLES.quality),
  ]);
  return { events: { pending: false, snapshot: events }, rejects: { pending: false, snapshot: rejects }, quality: { pending: false, snapshot: quality } };
}

/** The last bronze version a silver table has taken in; -1 for none. */
function mark(snapshot: Snapshot | undefined): number {
  return snapshot?.txns.get(SILVER_APP_ID)?.version ?? -1;
}

/**
 * Whether a bronze commit is a batch: it adds data, or it is an empty batch (no file at all). A
 * rewrite whose adds and removes are all `dataChange: false` (OPTIMIZE) moves rows already taken
 * in and is skipped; silver's watermark stays at the last batch, so it is read again next time.
 */
export async function isBatch(ctx: Pick<PipelineContext, 'storage'>, version: number): Promise<boolean> {
  return isBatchCommit(await readCommit(ctx.storage, TABLES.bronze, version));
}

function isBatchCommit(actions: Action[]): boolean {
  if (actions.some((a) => isAdd(a) && a.add.dataChange !== false)) return true;
  return !actions.some((a) => (isAdd(a) && a.add.dataChange === false) || (isRemove(a) && a.remove.dataChange === false));
}

/** A bronze commit's files read back and checked line by line. */
async function readBronzeVersion(ctx: PipelineContext, actions: Action[]): Promise<SilverBatch> {
  const adds = actions.filter(isAdd).map((a) => a.add);
  const totalRows = adds.reduce((s, a) => s + (JSON.parse(a.stats ?? '{}') as { numRecords?: number }).numRecords!, 0);
  const batch = new SilverBatch(ctx, Number.isFinite(totalRows) ? totalRows : undefined);
  for (const add of adds) {
    checkCancelled(ctx);
    const file = tableFromIPC(decodeParquet(await ctx.storage.read(joinPath(TABLES.bronze, decodeDataPath(add.path)))));
    const lineNo = file.getChild('line_no')!;
    const ingested = file.getChild('ingested_at')!;
    const lines = Float64Array.from({ length: file.numRows }, (_, i) => Number(bigintAt(lineNo, i)));
    const raw = file.getChild('raw')!;
    batch.checkLines(
      raw as Iterable<string | null>,
      (i) => lines[i]!,
      (i) => bigintAt(ingested, i),
      String(file.getChild('batch_id')?.get(0) ?? ''),
    );
    batch.keepRaw(raw, lines);
  }
  return batch;
}

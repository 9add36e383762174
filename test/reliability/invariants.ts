import type { Engine } from '../../src/engine/types.ts';
import { isNotFound, type Storage } from '../../src/storage/types.ts';
import { isAdd, isCommitInfo, isRemove, isTxn, type Action } from '../../src/delta/actions.ts';
import { listLog, loadSnapshot, readCommit } from '../../src/delta/snapshot.ts';
import { NotADeltaTableError } from '../../src/delta/errors.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { vacuumTable } from '../../src/delta/vacuum.ts';
import { nodeTemporaryFiles } from '../../src/cli/maintenance.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { loadSql } from '../../src/pipeline/sql-node.ts';
import { GOLD_TABLES, SILVER_APP_ID, SILVER_EVENTS_DDL, TABLES } from '../../src/pipeline/tables.ts';
import { validateDeltaTable } from '../helpers/delta-validator.ts';

export interface LakehouseCheck {
  /** what breaks a promise; must be empty */
  problems: string[];
  /** what the validator notes but the protocol allows (a checkpoint missing after a crash) */
  warnings: string[];
  /** latest version of every table that has a commit */
  versions: Record<string, number>;
  bronzeVersion: number;
  /** the lowest silver txn watermark: bronze versions up to it are processed by all three silver tables */
  processed: number;
  /** processed batches whose counts were checked */
  batchesChecked: number;
  bronzeRows: number;
  /** data files no commit names (a writer stopped before its commit), in tables and in folders without a log yet */
  untrackedFiles: number;
  untrackedBytes: number;
  /** files removed by a commit (overwritten gold, compacted files): still there for time travel */
  removedFiles: number;
  removedBytes: number;
  /** temporary files in a `_delta_log` (a commit or checkpoint write cut short); VACUUM removes them once old enough */
  logTempFiles: number;
  logTempBytes: number;
}

/** Problems the validator reports that concern optional checkpoints, not the table's state. */
const CHECKPOINT_NOTE = /^(no checkpoint at version \d+|_last_checkpoint names -?\d+, expected .+)$/;

/**
 * Every table under the root opens at a committed version and passes the independent validator;
 * SPEC §2 holds for every batch that silver has processed (its txn watermarks say which);
 * a batch beyond the watermark has nothing in the silver table that has not taken it in; bronze
 * shows whole batches only. With `complete`, everything in bronze must be processed and gold must
 * equal its SQL over silver.
 */
export async function checkLakehouse(storage: Storage, engine: Engine, options: { complete?: boolean } = {}): Promise<LakehouseCheck> {
  const c: LakehouseCheck = {
    problems: [],
    warnings: [],
    versions: {},
    bronzeVersion: -1,
    processed: -1,
    batchesChecked: 0,
    bronzeRows: 0,
    untrackedFiles: 0,
    untrackedBytes: 0,
    removedFiles: 0,
    removedBytes: 0,
    logTempFiles: 0,
    logTempBytes: 0,
  };
  // NodeStorage.list leaves out `.tmp` files (they may be in flight); after a kill they are orphans.
  const temporary = storage instanceof NodeStorage ? nodeTemporaryFiles(storage.description) : undefined;
  const all = [...(await storage.list('')), ...((await temporary?.('')) ?? [])];
  const logDirs = new Set<string>();
  for (const f of all) {
    const i = f.path.split('/').indexOf('_delta_log');
    if (i > 0) logDirs.add(f.path.split('/').slice(0, i).join('/'));
    if (i > 0 && !/\/_delta_log\/(\d{20}\.(json|checkpoint\.parquet)|_last_checkpoint)$/.test(f.path)) {
      c.logTempFiles++;
      c.logTempBytes += f.size;
    }
  }
  const tables: string[] = [];
  for (const t of [...logDirs].sort()) {
    try {
      await listLog(storage, t);
      tables.push(t);
    } catch (err) {
      // A log folder with no commit yet (the first commit was cut short): the table does not exist.
      if (!(err instanceof NotADeltaTableError)) c.problems.push(`${t}: ${(err as Error).message}`);
    }
  }
  for (const f of all) {
    if (!tables.some((t) => f.path.startsWith(`${t}/`))) {
      c.untrackedFiles++;
      c.untrackedBytes += f.size;
    }
  }
  // After a kill a checkpoint may be missing (the protocol allows it); the table's next commit writes it.
  const note = (p: string) => (CHECKPOINT_NOTE.test(p) && !options.complete ? c.warnings : c.problems);
  for (const t of tables) {
    try {
      const snap = await loadSnapshot(storage, t);
      c.versions[t] = snap.version;
      const found = await validateDeltaTable(storage, t, engine).catch((err: Error) =>
        // the validator reads _last_checkpoint whenever a checkpoint is due
        isNotFound(err) && err.message.includes('_last_checkpoint')
          ? ['_last_checkpoint names -1, expected a checkpoint']
          : [`the validator failed: ${err.message}`],
      );
      for (const p of found) note(p).push(`${t}: ${p}`);
      const orphans = await vacuumTable(storage, t, { retentionHours: 0, force: true, dryRun: true, listTemporary: temporary, temporaryMinAgeHours: 0 });
      for (const f of orphans.files) {
        if (f.reason === 'untracked') {
          c.untrackedFiles++;
          c.untrackedBytes += f.size;
        } else {
          c.removedFiles++;
          c.removedBytes += f.size;
        }
      }
    } catch (err) {
      c.problems.push(`${t} cannot be opened at its latest version: ${(err as Error).message}`);
    }
  }
  if (c.versions[TABLES.bronze] !== undefined) await checkBatches(storage, engine, c, options.complete ?? false);
  else if (options.complete) c.problems.push('bronze/events does not exist after a completed run');
  return c;
}

async function load(storage: Storage, engine: Engine, table: string, name: string, versions: Record<string, number>, ddl: string): Promise<void> {
  if (versions[table] === undefined) engine.run(`CREATE OR REPLACE TABLE ${name} ${ddl}`);
  else await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), name);
}

async function txnVersions(storage: Storage, table: string, latest: number | undefined): Promise<number[]> {
  const out: number[] = [];
  for (let v = 0; latest !== undefined && v <= latest; v++) {
    for (const a of await readCommit(storage, table, v)) if (isTxn(a) && a.txn.appId === SILVER_APP_ID) out.push(a.txn.version);
  }
  return out;
}

async function checkBatches(storage: Storage, engine: Engine, c: LakehouseCheck, complete: boolean): Promise<void> {
  const p = c.problems;
  const bronzeLatest = c.versions[TABLES.bronze]!;
  c.bronzeVersion = bronzeLatest;
  const marks: Record<string, number> = {};
  for (const t of [TABLES.silver, TABLES.rejects, TABLES.quality]) {
    const seen = await txnVersions(storage, t, c.versions[t]);
    // One commit per batch: a repeated or out-of-order txn version is a batch taken in twice.
    seen.forEach((v, i) => {
      if (i > 0 && v <= seen[i - 1]!) p.push(`${t}: txn version ${v} after ${seen[i - 1]} (a batch taken in twice)`);
    });
    marks[t] = seen.at(-1) ?? -1;
    if (marks[t]! > bronzeLatest) p.push(`${t}: txn watermark ${marks[t]} is beyond bronze version ${bronzeLatest}`);
  }
  c.processed = Math.min(...Object.values(marks));
  // A commit whose adds and removes are all dataChange: false (OPTIMIZE) moves rows, and is no batch.
  const commits = new Map<number, Action[]>();
  const rewrites = new Set<number>();
  for (let v = 0; v <= bronzeLatest; v++) {
    const actions = await readCommit(storage, TABLES.bronze, v);
    commits.set(v, actions);
    const adds = actions.filter(isAdd);
    const moved = [...adds.map((a) => a.add.dataChange), ...actions.filter(isRemove).map((a) => a.remove.dataChange)];
    if (moved.length > 0 && moved.every((d) => d === false)) rewrites.add(v);
  }
  let lastBatch = bronzeLatest;
  while (rewrites.has(lastBatch)) lastBatch--;
  if (complete && Object.values(marks).some((m) => m !== lastBatch)) {
    p.push(`after a completed run silver has processed bronze up to ${JSON.stringify(marks)}, not ${lastBatch}`);
  }

  await load(storage, engine, TABLES.bronze, 'chk_b', c.versions, '(batch_id VARCHAR)');
  await load(storage, engine, TABLES.silver, 'chk_s', c.versions, SILVER_EVENTS_DDL);
  await load(storage, engine, TABLES.rejects, 'chk_r', c.versions, '(batch_id VARCHAR)');
  await load(storage, engine, TABLES.quality, 'chk_q', c.versions, '(batch_id VARCHAR, action VARCHAR, failed BIGINT)');
  const count = (table: string) =>
    new Map(engine.rows<{ batch_id: string; n: bigint }>(`SELECT batch_id, count(*) AS n FROM ${table} GROUP BY 1`).map((r) => [r.batch_id, Number(r.n)]));
  const [b, s, r, q] = [count('chk_b'), count('chk_s'), count('chk_r'), count('chk_q')];
  const stopped = new Set(engine.rows<{ batch_id: string }>(`SELECT DISTINCT batch_id FROM chk_q WHERE action = 'fail' AND failed > 0`).map((x) => x.batch_id));
  c.bronzeRows = [...b.values()].reduce((x, y) => x + y, 0);

  const batches = new Set<string>();
  for (let v = 0; v <= bronzeLatest; v++) {
    if (rewrites.has(v)) {
      if (marks[TABLES.silver]! === v || marks[TABLES.rejects]! === v || marks[TABLES.quality]! === v)
        p.push(`silver took in bronze v${v}, which adds no data`);
      continue;
    }
    const info = commits.get(v)!.find(isCommitInfo)?.commitInfo;
    const batch = info?.operationParameters?.batchId;
    if (typeof batch !== 'string') {
      p.push(`bronze v${v} has no batchId in its commitInfo`);
      continue;
    }
    batches.add(batch);
    const expected = Number(info!.operationMetrics?.numOutputRows);
    const inBronze = b.get(batch) ?? 0;
    if (inBronze !== expected) p.push(`batch ${batch} (bronze v${v}): ${inBronze} rows in bronze, its commit says ${expected}`);
    const [inSilver, inRejects, inQuality] = [s.get(batch) ?? 0, r.get(batch) ?? 0, q.get(batch) ?? 0];
    if (v > marks[TABLES.silver]! && inSilver > 0) p.push(`batch ${batch} (bronze v${v}) is not processed by silver/events but has ${inSilver} rows there`);
    if (v > marks[TABLES.rejects]! && inRejects > 0) p.push(`batch ${batch} (bronze v${v}) is not processed by silver/rejects but has ${inRejects} rows there`);
    if (v > marks[TABLES.quality]! && inQuality > 0) p.push(`batch ${batch} (bronze v${v}) is not processed by silver/quality but has ${inQuality} rows there`);
    if (v <= c.processed) {
      c.batchesChecked++;
      if (stopped.has(batch)) {
        if (inSilver + inRejects !== 0) p.push(`batch ${batch} was stopped by a fail expectation but has ${inSilver} silver and ${inRejects} rejected rows`);
      } else if (inSilver + inRejects !== inBronze) {
        p.push(`batch ${batch} (bronze v${v}): bronze ${inBronze} ≠ silver ${inSilver} + rejects ${inRejects}`);
      }
    }
  }
  for (const id of b.keys()) if (!batches.has(id)) p.push(`bronze shows rows of batch ${id}, which no commit added`);
  for (const [name, m] of [
    ['silver/events', s],
    ['silver/rejects', r],
  ] as const) {
    for (const id of m.keys()) if (!batches.has(id)) p.push(`${name} has rows of batch ${id}, which bronze does not have`);
  }
  const dups = engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM (SELECT event_id FROM chk_s GROUP BY 1 HAVING count(*) > 1)')[0]!.n;
  if (dups > 0n) p.push(`${dups} event_ids appear more than once in silver/events`);

  if (complete && c.versions[TABLES.silver] !== undefined) {
    engine.run('CREATE OR REPLACE TABLE silver_events AS SELECT * FROM chk_s');
    const sql = loadSql('gold');
    for (const name of GOLD_TABLES) {
      const table = `gold/${name}`;
      if (c.versions[table] === undefined) {
        p.push(`${table} does not exist after a completed run`);
        continue;
      }
      await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 'chk_g');
      engine.run(`CREATE OR REPLACE TABLE chk_e AS ${sql[name]}`);
      // Concurrent runs order silver's rows differently, and a double sum depends on the order
      // in its last bits: doubles are compared to 9 decimals.
      const cols = engine
        .rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE chk_g)')
        .map((c) => (/^(DOUBLE|FLOAT)$/.test(c.column_type) ? `round("${c.column_name}", 9)` : `"${c.column_name}"`))
        .join(', ');
      const diff = engine.rows<{ n: bigint }>(
        `SELECT (SELECT count(*) FROM (SELECT ${cols} FROM chk_g EXCEPT ALL SELECT ${cols} FROM chk_e)) + (SELECT count(*) FROM (SELECT ${cols} FROM chk_e EXCEPT ALL SELECT ${cols} FROM chk_g)) AS n`,
      )[0]!.n;
      if (diff > 0n) p.push(`${table} differs from sql/gold/${name}.sql over silver in ${diff} rows`);
    }
  }
}

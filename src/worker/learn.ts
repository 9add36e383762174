import { tableFromIPC } from 'apache-arrow';
import { quoteString } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { LOG_DIR, isTxn, type CommitInfo } from '../delta/actions.ts';
import { CHECKPOINT_INTERVAL } from '../delta/checkpoint-writer.ts';
import { loadSnapshot, numRecords, readCommit, tryListLog } from '../delta/snapshot.ts';
import { CommitConflictError, openWriter } from '../delta/writer.ts';
import { writeBronze } from '../pipeline/bronze.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { parseExpectations } from '../pipeline/expectations.ts';
import { generateEvents } from '../pipeline/generator/index.ts';
import { refreshGold } from '../pipeline/gold.ts';
import { repairLakehouse } from '../pipeline/repair.ts';
import { runBatch, type RunSummary } from '../pipeline/lakehouse.ts';
import { loadSilverEvents, processPendingBronze } from '../pipeline/silver/index.ts';
import { SILVER_APP_ID, TABLES } from '../pipeline/tables.ts';
import { errorCode } from '../errors.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import { openLakehouse, type Lakehouse, type LakehouseDeps } from './lakehouse.ts';
import type { Exclusive } from './runs.ts';
import type {
  CommitView,
  FileMap,
  LearnBatch,
  LogView,
  OptimizeStep,
  RaceResult,
  RerunResult,
  TableDetails,
  TableSummary,
  VacuumStep,
  VersionRows,
} from './protocol.ts';

/** What the sandbox is opened with: the user's lakehouse's own deps, with a storage of its own (never the user's). */
export type SandboxDeps = Pick<LakehouseDeps, 'storage' | 'openEngine' | 'goldSql' | 'silverSql' | 'expectationsText' | 'exclusive'>;

/** Events in a lesson's batch: a handful, so each step takes a moment and its tables stay readable. */
const LESSON_EVENTS = 40;
const LESSON_INVALID_RATE = 0.15;
const LESSON_DAYS = 5;
/** The gold table the lessons look at: four rows, overwritten by every batch. */
export const LESSON_GOLD = 'gold/engagement_bands';

/**
 * The Learn tab's lakehouse: the same pipeline, tables and Delta code as the user's, in a storage
 * of its own (OPFS `learn/`), and in DuckDB databases of its own, so that no lesson can touch the
 * user's tables. Each method is one step of a lesson and answers with what the step shows, read
 * back from the tables it changed.
 */
export async function openSandbox(deps: SandboxDeps) {
  const { storage } = deps;
  const exclusive: Exclusive = deps.exclusive ?? ((fn) => fn());
  const lakehouse: Lakehouse = await openLakehouse({ ...deps, exclusive, database: 'learn' });
  const expectations = parseExpectations(deps.expectationsText, 'contracts/expectations.yml');
  /** Two more writers with engines of their own, for the lessons where writers race or re-run. */
  let writers: Promise<[Engine, Engine]> | undefined;
  const writerEngines = (): Promise<[Engine, Engine]> => {
    writers ??= Promise.all(
      ['a', 'b'].map(async (w) => {
        const e = await deps.openEngine();
        e.run(`ATTACH IF NOT EXISTS ':memory:' AS learn_writer_${w}; USE learn_writer_${w}`);
        return e;
      }),
    ) as Promise<[Engine, Engine]>;
    return writers;
  };
  const context = (engine: Engine, over: Storage = storage, onProgress?: (p: Progress) => void): PipelineContext => ({
    engine,
    storage: over,
    expectations,
    goldSql: deps.goldSql,
    silverSql: deps.silverSql,
    ...(onProgress ? { onProgress } : {}),
  });

  const latest = async (path: string): Promise<number> => (await tryListLog(storage, path))?.latest ?? -1;
  const nextSeed = async (): Promise<number> => (await latest(TABLES.bronze)) + 2;

  /** What one batch did in every layer: its rows, its rejects with their reasons, the commits it made. */
  const describeBatch = async (summary: RunSummary, before: Map<string, number>): Promise<LearnBatch> => {
    const silver = summary.silver;
    const batchId = summary.bronze.batchId;
    const rejects = await lakehouse.query(
      `SELECT stage, reasons, errors, raw FROM silver_rejects WHERE batch_id = ${quoteString(batchId)} ORDER BY rejected_at, raw`,
    );
    const tables = await lakehouse.tables();
    return {
      batchId,
      bronzeRows: summary.bronze.rows,
      silverRows: silver.reduce((s, b) => s + b.silverRows, 0),
      rejectedRows: silver.reduce((s, b) => s + b.rejectedRows, 0),
      rejectsByReason: Object.fromEntries(silver.flatMap((b) => Object.entries(b.rejectsByReason))),
      warnings: Object.fromEntries(silver.flatMap((b) => Object.entries(b.warnings))),
      rejects: { columns: rejects.columns, rows: rejects.rows },
      commits: tables.filter((t) => t.version > (before.get(t.path) ?? -1)).map((t) => ({ path: t.path, version: t.version })),
      tables,
    };
  };
  const versions = async (): Promise<Map<string, number>> => new Map((await lakehouse.tables()).map((t) => [t.path, t.version]));

  /** A batch of generated events (a few of them invalid) through bronze, silver and gold. */
  const runBatchStep = async (events = LESSON_EVENTS): Promise<LearnBatch> => {
    const before = await versions();
    const summary = await lakehouse.run({ events, seed: await nextSeed(), days: LESSON_DAYS, invalidRate: LESSON_INVALID_RATE });
    return describeBatch(summary, before);
  };

  /** The rows of a table at a version, counted per batch: what time travel shows. */
  const rowsAt = async (path: string, version: number): Promise<VersionRows> => {
    const view = path.replace('/', '_');
    const r = await lakehouse.query(`SELECT batch_id, count(*) AS n FROM ${view}@v${version} GROUP BY batch_id ORDER BY min(ingested_at), batch_id`);
    const byBatch = r.rows.map(([b, n]) => ({ batchId: b ?? '', rows: Number(n) }));
    return { path, version, total: byBatch.reduce((s, b) => s + b.rows, 0), byBatch };
  };

  /** Every version of a table still in its log, and which data files each one reads. */
  const fileMap = async (path: string): Promise<FileMap> => {
    const listing = await tryListLog(storage, path);
    if (!listing) throw new Error(`table ${path} of the sandbox does not exist yet: run a batch first`);
    const files: FileMap['files'] = [];
    const index = new Map<string, number>();
    const out: FileMap['versions'] = [];
    const history = new Map((await lakehouse.table(path)).history.map((h) => [h.version, h.operation]));
    for (const v of [...listing.commits.keys()].sort((a, b) => a - b)) {
      const snap = await loadSnapshot(storage, path, v, listing);
      const ids: number[] = [];
      for (const a of snap.files) {
        let i = index.get(a.path);
        if (i === undefined) {
          i = files.length;
          index.set(a.path, i);
          files.push({ path: a.path, rows: numRecords(a), size: a.size, firstVersion: v, present: true });
        }
        ids.push(i);
      }
      out.push({ version: v, operation: history.get(v) ?? '', files: ids, checkpoint: listing.checkpoints.has(v) });
    }
    for (const f of files) f.present = (await storage.stat(joinPath(path, decodeURIComponent(f.path)))) !== undefined;
    return { path, versions: out, files };
  };

  /** The files of a table's `_delta_log`, and what a reader of the latest version reads of them. */
  const logView = async (path: string): Promise<LogView> => {
    const listing = await tryListLog(storage, path);
    if (!listing) throw new Error(`table ${path} of the sandbox does not exist yet: run a batch first`);
    const dir = joinPath(path, LOG_DIR);
    const files = (await storage.list(dir)).map((f) => ({ name: f.path.slice(dir.length + 1), size: f.size }));
    const last = files.some((f) => f.name === '_last_checkpoint')
      ? new TextDecoder().decode(await storage.read(joinPath(dir, '_last_checkpoint'))).trim()
      : null;
    const checkpoint = Math.max(-1, ...[...listing.checkpoints.keys()].filter((v) => v <= listing.latest));
    const replay = [...listing.commits.keys()].filter((v) => v > checkpoint).sort((a, b) => a - b);
    return { path, latest: listing.latest, files, lastCheckpoint: last, readerStart: checkpoint < 0 ? null : checkpoint, readerCommits: replay };
  };

  return {
    lakehouse,
    /** Delete every table of the sandbox. */
    reset: async (): Promise<void> => lakehouse.reset(),
    tables: async (): Promise<TableSummary[]> => lakehouse.tables(),
    table: async (path: string): Promise<TableDetails> => lakehouse.table(path),
    commit: async (path: string, version: number): Promise<CommitView> => lakehouse.commit(path, version),
    rowsAt,
    fileMap,
    logView,

    /** Lesson "layers", "commit", "time travel": a small batch through every layer. */
    runBatch: runBatchStep,

    /** Lesson "contracts": a valid event line to edit. */
    sampleEvent: async (): Promise<string> => {
      const seed = 1000 + (await nextSeed());
      for (const chunk of generateEvents({ events: 5, seed, days: 1, invalidRate: 0 })) for (const line of chunk) return line;
      throw new Error('the generator made no event');
    },

    /** Lesson "contracts": the learner's line(s), as a batch of their own, through the contract and the expectations. */
    ingest: async (text: string): Promise<LearnBatch> => {
      const before = await versions();
      const summary = await lakehouse.ingest('lesson.jsonl', new TextEncoder().encode(text.endsWith('\n') ? text : `${text}\n`));
      return describeBatch(summary, before);
    },

    /** Lesson "OPTIMIZE and VACUUM": compact the table's small files into one, rows unchanged. */
    optimize: async (path: string): Promise<OptimizeStep> => {
      const before = await latest(path);
      const result = await lakehouse.optimize(path);
      const commit = result.version === null ? null : await lakehouse.commit(path, result.version);
      const rows = [await rowsAt(path, before), ...(result.version === null ? [] : [await rowsAt(path, result.version)])];
      return { result, commit, rows, map: await fileMap(path) };
    },

    /**
     * Lesson "OPTIMIZE and VACUUM": delete every file the latest version does not read (a
     * retention of 0 hours, forced: only in the sandbox), then try to read the oldest version.
     */
    vacuum: async (path: string): Promise<VacuumStep> => {
      const result = await lakehouse.vacuumTable(path, { retentionHours: 0, force: true });
      const map = await fileMap(path);
      const oldest = map.versions[0]!.version;
      let oldRead: VacuumStep['oldRead'];
      try {
        oldRead = { version: oldest, rows: await rowsAt(path, oldest) };
      } catch (err) {
        oldRead = { version: oldest, error: (err as Error).message };
      }
      return { result, map, oldRead, latest: await rowsAt(path, map.versions.at(-1)!.version) };
    },

    /** Lesson "checkpoints": small batches into bronze until the next checkpoint is written. */
    fillToCheckpoint: async (): Promise<LogView> => {
      const [engine] = await writerEngines();
      await exclusive(async () => {
        const start = await latest(TABLES.bronze);
        const target = (Math.floor(start / CHECKPOINT_INTERVAL) + 1) * CHECKPOINT_INTERVAL;
        for (let v = start + 1; v <= target; v++) {
          const lines = [...generateEvents({ events: 3, seed: 5000 + v, days: LESSON_DAYS, invalidRate: 0 })].flat();
          await writeBronze(context(engine), [lines], 'lesson:checkpoints');
        }
      });
      return logView(TABLES.bronze);
    },

    /**
     * Lesson "optimistic concurrency": two writers (each its own engine, as two tabs would have)
     * run a batch through every layer at the same moment, with no lock between them. Both read
     * the same version of bronze and try to commit the next one; the loser finds the winner's
     * commit, checks it for a conflict (none: both only add files) and commits after it.
     */
    race: async (): Promise<RaceResult> => {
      const [a, b] = await writerEngines();
      return exclusive(async () => {
        const attempts: RaceResult['attempts'] = [];
        const retries: RaceResult['retries'] = [];
        // Bronze commits an earlier lesson left for silver (the checkpoint lesson's) are taken in
        // first, so that the writers race over their own batches only.
        await repairLakehouse(context(a));
        const firstBronze = (await latest(TABLES.bronze)) + 1;
        // Both writers reach their first bronze commit before either puts it: the race is sure to happen.
        let arrived = 0;
        let release!: () => void;
        const together = new Promise<void>((r) => (release = r));
        const bronzeLog = joinPath(TABLES.bronze, LOG_DIR);
        const racing = (writer: 'A' | 'B'): Storage =>
          new Proxy(storage, {
            get(target, key) {
              if (key === 'putIfAbsent') {
                return async (path: string, bytes: Uint8Array): Promise<boolean> => {
                  const commitFile = path.endsWith('.json') && path.includes(`/${LOG_DIR}/`);
                  if (commitFile && path.startsWith(`${bronzeLog}/`) && !attempts.some((t) => t.writer === writer)) {
                    if (++arrived === 2) release();
                    await together;
                  }
                  const won = await target.putIfAbsent(path, bytes);
                  if (commitFile) attempts.push({ writer, file: path, version: Number(path.slice(-25, -5)), won });
                  return won;
                };
              }
              const v = Reflect.get(target, key, target) as unknown;
              return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
            },
          });
        const run = (writer: 'A' | 'B', engine: Engine, seed: number) =>
          runBatch(
            context(engine, racing(writer), (p) => {
              if (p.message?.startsWith('another writer')) retries.push({ writer, stage: p.stage, message: p.message });
            }),
            generateEvents({ events: 20, seed, days: LESSON_DAYS, invalidRate: 0 }),
            `lesson:race:${writer}`,
          ).finally(() => {
            if (++arrived >= 2) release();
          });
        const seed = 7000 + firstBronze;
        const settled = await Promise.allSettled([run('A', a, seed), run('B', b, seed + 1)]);
        // A writer that lost at silver or gold more often than the pipeline retries gives up with a
        // conflict; its batch is safe in bronze, and the next run of silver takes it in: done here.
        const gaveUp: RaceResult['gaveUp'] = [];
        for (const [i, r] of settled.entries()) {
          if (r.status === 'fulfilled') continue;
          if (errorCode(r.reason) !== CommitConflictError.code) throw r.reason;
          gaveUp.push({ writer: i === 0 ? 'A' : 'B', message: (r.reason as Error).message });
        }
        if (gaveUp.length) {
          const ctx = context(a);
          await loadSilverEvents(ctx);
          await processPendingBronze(ctx);
          await refreshGold(ctx);
        }
        const bronze = await Promise.all(
          (['A', 'B'] as const).map(async (writer) => {
            const won = attempts.find((t) => t.writer === writer && t.won && t.file.startsWith(`${bronzeLog}/`));
            if (!won) throw (settled[writer === 'A' ? 0 : 1] as PromiseRejectedResult).reason;
            const info = (await readCommit(storage, TABLES.bronze, won.version)).find((x) => 'commitInfo' in x) as { commitInfo: CommitInfo } | undefined;
            const c = info?.commitInfo;
            return {
              writer,
              batchId: String(c?.operationParameters?.batchId ?? ''),
              version: won.version,
              readVersion: c?.readVersion ?? -1,
              rows: Number(c?.operationMetrics?.numOutputRows ?? 0),
            };
          }),
        );
        const silverVersion = await latest(TABLES.silver);
        const silverRows = await rowsAt(TABLES.silver, silverVersion);
        return {
          attempts,
          retries,
          gaveUp,
          bronze,
          silver: bronze.map((c) => ({ writer: c.writer, batchId: c.batchId, rows: silverRows.byBatch.find((x) => x.batchId === c.batchId)?.rows ?? 0 })),
          silverVersion,
        };
      });
    },

    /**
     * Lesson "idempotence": silver is run again over bronze, as after a crash or a second click.
     * Its `txn` says which bronze version it has taken in, so it finds nothing pending and commits
     * nothing; then the same transaction is committed once more on purpose, and the writer refuses it.
     */
    rerun: async (): Promise<RerunResult> => {
      const [engine] = await writerEngines();
      return exclusive(async () => {
        const snap = await loadSnapshot(storage, TABLES.silver);
        const txn = snap.txns.get(SILVER_APP_ID);
        if (!txn) throw new Error('silver/events of the sandbox has no txn yet: run a batch first');
        const before = { version: snap.version, rows: await rowsAt(TABLES.silver, snap.version) };
        const ctx = context(engine);
        await loadSilverEvents(ctx);
        const processed = await processPendingBronze(ctx);
        const afterVersion = await latest(TABLES.silver);
        // The last silver batch's rows, written again under the same txn: what a blind retry would do.
        const again = await openWriter(storage, TABLES.silver, { mode: 'append', txn: { appId: txn.appId, version: txn.version }, name: 'silver_events' });
        let replay: RerunResult['replay'];
        try {
          await again.write(
            tableFromIPC(engine.queryIPC(`SELECT * FROM silver_events WHERE batch_id = (SELECT max_by(batch_id, ingested_at) FROM silver_events)`)),
          );
          const r = await again.commit();
          replay = { refused: false, message: `committed as version ${r.version}` };
        } catch (err) {
          await again.discard();
          replay = { refused: true, message: (err as Error).message };
        }
        const finalVersion = await latest(TABLES.silver);
        return {
          txn: { appId: txn.appId, version: txn.version },
          bronzeVersion: await latest(TABLES.bronze),
          before,
          processed: processed.length,
          afterVersion,
          replay,
          after: { version: finalVersion, rows: await rowsAt(TABLES.silver, finalVersion) },
          txnActions: (await readCommit(storage, TABLES.silver, snap.version)).filter(isTxn).map((x) => ({ appId: x.txn.appId, version: x.txn.version })),
        };
      });
    },
  };
}

export type Sandbox = Awaited<ReturnType<typeof openSandbox>>;

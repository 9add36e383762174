import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeEncoder } from '../src/cli/encoder.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { computeStats } from '../src/delta/stats.ts';
import type { Engine } from '../src/engine/types.ts';
import { decodeParquet, encodeParquet } from '../src/parquet/codec.ts';
import { encoderClient, encodeReply, type ParquetEncoder } from '../src/pipeline/encoder.ts';
import { generateEvents, type GenerateOptions } from '../src/pipeline/generator/index.ts';
import { EarlyGold } from '../src/pipeline/gold.ts';
import type { Progress } from '../src/pipeline/context.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { silverDatabase } from '../src/pipeline/silver/index.ts';
import { GOLD_TABLES, SILVER_EVENTS_DDL, TABLES } from '../src/pipeline/tables.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { testEngine } from './helpers/engine.ts';
import { goldSql, pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const options: GenerateOptions = { events: 9_000, seed: 5, days: 20, invalidRate: 0.05, batchSize: 700 };
const BATCH_ID = /batch-\d{8}T\d{6}Z-[0-9a-f]{8}/g;
const now = () => Date.parse('2025-02-20T00:00:00Z');

/** An encoder on this thread whose answers come on a later turn of the event loop, as a thread's would; it counts requests and answers. */
function sameThreadEncoder(fail?: (n: number) => boolean): ParquetEncoder & { requests: number; posted: number } {
  let stopped = false;
  const client = encoderClient(
    (request) =>
      ++encoder.posted &&
      setTimeout(() => {
        if (stopped) return;
        const n = ++encoder.requests;
        client.receive(fail?.(n) ? { id: request.id, error: `encoder: boom at file ${n}` } : encodeReply(request, encodeParquet, () => null).reply);
      }),
    () => (stopped = true),
  );
  const encoder = Object.assign(client.encoder, { requests: 0, posted: 0 });
  return encoder;
}

/** Every silver and gold table's rows (batch ids aside), the engine's copy of silver counted, after one run in batches of 4,000 lines. */
async function outcome(encoder: ParquetEncoder | undefined, storage = new MemoryStorage()) {
  const ctx = pipelineContext(engine, storage, { now, silverFileRows: 1_500, bronzeFileRows: 1_000, ...(encoder ? { encoder } : {}) });
  await runBatch(ctx, generateEvents(options), 'generator', options.events, 4_000);
  const copy = engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n;
  const rows: Record<string, string> = {};
  for (const table of [TABLES.bronze, TABLES.silver, TABLES.rejects, 'gold/dropoff_rate', 'gold/engagement_bands']) {
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 't');
    const sql = table.startsWith('gold/') ? 'SELECT * FROM t ORDER BY ALL' : 'SELECT * EXCLUDE (batch_id) FROM t ORDER BY ALL';
    rows[table] = JSON.stringify(engine.rows(sql), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)).replace(BATCH_ID, 'batch-…');
  }
  const files = (await loadSnapshot(storage, TABLES.silver)).files;
  const bronzeFiles = (await loadSnapshot(storage, TABLES.bronze)).files;
  return { rows, copy, files, bronzeFiles };
}

/** Storage whose writes of silver/events data files fail while `failing` is set. */
class FailingSilverWrites extends MemoryStorage {
  failing = false;
  override async write(path: string, bytes: Uint8Array): Promise<void> {
    if (this.failing && path.startsWith(`${TABLES.silver}/`) && path.endsWith('.parquet')) throw new Error('disk: boom');
    return super.write(path, bytes);
  }
}

describe("silver/events' Parquet encoded on another thread", () => {
  it('gives the same tables and files as encoding in line, one request per bronze and silver/events data file', async () => {
    const inLine = await outcome(undefined);
    const encoder = sameThreadEncoder();
    const encoded = await outcome(encoder);
    expect(encoded.rows).toEqual(inLine.rows);
    expect(encoded.copy).toBe(inLine.copy);
    expect(Number(encoded.copy)).toBeGreaterThan(8_000);
    // three batches of 4,000, 4,000 and 1,000 lines, at most 1,500 rows per file
    expect(encoded.files.length).toBe(3 + 3 + 1);
    // bronze files of 1,000 lines (four of a batch out to the encoder at once would be more than it allows), committed in line order
    expect(encoded.bronzeFiles.length).toBe(9);
    const firstLines = (files: typeof inLine.files) => files.map((f) => JSON.parse(f.stats!).minValues.line_no as number);
    expect(firstLines(encoded.bronzeFiles)).toEqual([1, 1_001, 2_001, 3_001, 4_001, 5_001, 6_001, 7_001, 8_001]);
    expect(firstLines(inLine.bronzeFiles)).toEqual(firstLines(encoded.bronzeFiles));
    expect(encoder.requests).toBe(encoded.files.length + encoded.bronzeFiles.length);
    const stats = (files: typeof inLine.files) => files.map((f) => f.stats?.replace(BATCH_ID, 'batch-…'));
    expect(stats(encoded.files)).toEqual(stats(inLine.files));
  });

  it("computes gold once, while the last batch's silver/events files are still being encoded", async () => {
    const inLine = await outcome(undefined);
    const encoder = sameThreadEncoder();
    const gold = new Set(Object.values(goldSql()));
    /** per gold model run: files out to the encoder and not answered yet */
    const out: number[] = [];
    const batchTables: number[] = [];
    const counting = new Proxy(engine, {
      get(target, key) {
        if (key === 'queryIPC')
          return (sql: string) => {
            if (gold.has(sql)) {
              out.push(encoder.posted - encoder.requests);
              // the batch's own tables are gone by then: their room is gold's
              batchTables.push(Number(target.rows<{ n: bigint }>("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE 'batch_%'")[0]!.n));
            }
            return target.queryIPC(sql);
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const storage = new MemoryStorage();
    /** gold's progress reports: files still out to the encoder at each */
    const goldProgress: number[] = [];
    const onProgress = (p: Progress) => void (p.stage === 'gold' && goldProgress.push(encoder.posted - encoder.requests));
    const ctx = pipelineContext(counting, storage, { now, silverFileRows: 1_500, bronzeFileRows: 1_000, encoder, onProgress });
    const result = await runBatch(ctx, generateEvents(options), 'generator', options.events, 4_000);
    expect(out.length).toBe(gold.size);
    // the last batch's 1,000 lines: one silver/events file, still out when every model ran
    expect(out.every((n) => n === 1)).toBe(true);
    expect(batchTables).toEqual(out.map(() => 0));
    // the gold bar moves while the models run beside the encoder, then once more as gold commits
    expect(goldProgress.slice(0, gold.size)).toEqual(out);
    expect(goldProgress.slice(gold.size).every((n) => n === 0)).toBe(true);
    const silver = await loadSnapshot(storage, TABLES.silver);
    expect(result.gold.map((g) => g.input)).toEqual(result.gold.map(() => silver.version));
    for (const table of ['gold/dropoff_rate', 'gold/engagement_bands']) {
      await scanIntoEngine(engine, storage, await loadSnapshot(storage, table), 't');
      expect(JSON.stringify(engine.rows('SELECT * FROM t ORDER BY ALL'), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(inLine.rows[table]);
    }
  });

  it('gold computed ahead is taken only for the silver/events version the commit made; a model that failed is left to be run again', () => {
    const sql = goldSql();
    const early = new EarlyGold(pipelineContext(engine, new MemoryStorage(), { goldSql: { ...sql, engagement_bands: 'SELECT * FROM no_such_table' } }));
    engine.run(`CREATE OR REPLACE TABLE silver_events ${SILVER_EVENTS_DDL}`);
    early.start();
    expect(early.of('dropoff_rate', 0)).toBeUndefined();
    early.committed(3);
    expect(early.of('dropoff_rate', 2)).toBeUndefined();
    expect(GOLD_TABLES.filter((name) => early.of(name, 3)?.rows === 0)).toEqual(GOLD_TABLES.filter((name) => name !== 'engagement_bands'));
    expect(early.of('engagement_bands', 3)).toBeUndefined();
    // started again (a retried commit): nothing is taken until that commit is made
    early.start();
    expect(early.of('dropoff_rate', 3)).toBeUndefined();
  });

  it("a commit that fails leaves the engine's copy of silver as it was, and the next run finishes the batch", async () => {
    const storage = new FailingSilverWrites();
    // past 1,000 rows the copy lives in the compressed database, as a large lakehouse's does
    const ctx = pipelineContext(engine, storage, { now, encoder: sameThreadEncoder(), compressSilverAbove: 1_000 });
    await runBatch(ctx, generateEvents({ ...options, events: 3_000 }), 'generator', 3_000);
    const count = () => Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n);
    const before = count();
    expect(before).toBeGreaterThan(2_500);
    storage.failing = true;
    await expect(runBatch(ctx, generateEvents({ ...options, seed: 6, events: 3_000 }), 'generator', 3_000)).rejects.toThrow('disk: boom');
    // the rows appended while the files were encoded were taken out again
    expect(count()).toBe(before);
    expect(silverDatabase(engine)).toBe('lakehouse_silver');
    expect((await loadSnapshot(storage, TABLES.silver)).version).toBe(0);
    storage.failing = false;
    const next = await runBatch(ctx, generateEvents({ ...options, seed: 7, events: 3_000 }), 'generator', 3_000);
    expect(next.repaired?.silver.length).toBe(1);
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, TABLES.silver), 't');
    const committed = engine.rows<{ n: bigint; ids: bigint }>('SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM t')[0]!;
    expect(Number(committed.n)).toBe(count());
    expect(committed.ids).toBe(committed.n);
    expect(Number(committed.n)).toBeGreaterThan(before + 5_000);
  });

  it('an encoder that fails fails the run with its message; silver/events and the engine keep their rows', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage, { now, silverFileRows: 1_000, encoder: sameThreadEncoder((n) => n === 3) });
    await expect(runBatch(ctx, generateEvents(options), 'generator', options.events, 4_000)).rejects.toThrow(
      'encoding Parquet on another thread failed: encoder: boom at file 3',
    );
    expect(await storage.list(TABLES.silver)).toEqual([]);
    expect(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n).toBe(0n);
  });

  it('an encoder that fails on a bronze file fails the run before bronze commits', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage, { now, encoder: sameThreadEncoder((n) => n === 1) });
    await expect(runBatch(ctx, generateEvents(options), 'generator', options.events, 4_000)).rejects.toThrow(
      'encoding Parquet on another thread failed: encoder: boom at file 1',
    );
    expect((await storage.list(TABLES.bronze)).filter((f) => f.path.includes('_delta_log'))).toEqual([]);
    expect(await storage.list(TABLES.silver)).toEqual([]);
  });

  it('a closed encoder refuses new work and fails what is still out', async () => {
    const posted: number[] = [];
    let stopped = 0;
    const { encoder, receive } = encoderClient(
      (request) => posted.push(request.id),
      () => stopped++,
    );
    const out = encoder.encode(new Uint8Array([1, 2, 3]));
    encoder.close();
    await expect(out).rejects.toThrow('the Parquet encoder thread was closed');
    await expect(encoder.encode(new Uint8Array(1))).rejects.toThrow('the Parquet encoder thread was closed');
    receive({ id: posted[0]!, parquet: new Uint8Array(1), wasmBytes: null }); // a late answer is ignored
    expect(posted).toEqual([0]);
    expect(stopped).toBe(1);
  });

  it('on a worker_thread (the CLI): the Parquet decodes to the rows sent', async () => {
    const before = process.env.LAKEHOUSE_ENCODER;
    process.env.LAKEHOUSE_ENCODER = '1';
    const encoder = nodeEncoder();
    try {
      expect(encoder).toBeDefined();
      const ipc = engine.queryIPC("SELECT i AS n, format('row {}', i) AS s FROM range(5000) t(i)");
      // a view into a larger buffer, as silver's scratch IPC is
      const view = new Uint8Array(ipc.length + 16);
      view.set(ipc, 8);
      const [a, b] = await Promise.all([encoder!.encode(view.subarray(8, 8 + ipc.length)), encoder!.encode(ipc, true)]);
      expect(a.parquet).toEqual(b.parquet);
      expect(a.stats).toBeUndefined();
      // asked for, the file's Delta statistics come with it
      expect(b.stats).toEqual({ numRecords: 5_000, minValues: { n: 0, s: 'row 0' }, maxValues: { n: 4_999, s: 'row 999' }, nullCount: { n: 0, s: 0 } });
      expect(b.stats).toEqual(computeStats(tableFromIPC(ipc)));
      const back = tableFromIPC(decodeParquet(a.parquet));
      expect(back.numRows).toBe(5_000);
      expect(back.getChild('s')!.get(4_999)).toBe('row 4999');
      expect(view.subarray(8, 8 + ipc.length)).toEqual(ipc); // the caller's bytes are left as they were
    } finally {
      encoder?.close();
      if (before === undefined) delete process.env.LAKEHOUSE_ENCODER;
      else process.env.LAKEHOUSE_ENCODER = before;
    }
  });
});

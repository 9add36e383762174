import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { loadSnapshot, numRecords } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import { dropSilverEvents, ensureSilverCapacity, loadSilverEvents, silverDatabase } from '../src/pipeline/silver/index.ts';
import { TABLES } from '../src/pipeline/tables.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const load = async (storage: MemoryStorage, table: string, name: string) => scanIntoEngine(engine, storage, await loadSnapshot(storage, table), name);

describe('a run larger than one batch', () => {
  it('is cut into bronze commits of at most maxBatchRows, each through silver, line numbers running on, gold once', async () => {
    const storage = new MemoryStorage();
    const ctx = pipelineContext(engine, storage);
    const lines = [...generateEvents({ events: 2_498, seed: 12, days: 20, invalidRate: 0.05 })].flat();
    // Re-sent lines: one from the first batch in the second, one from the second later in the second.
    lines.splice(1_200, 0, lines[9]!);
    lines.splice(1_700, 0, lines[1_500]!);
    const events = lines.length;
    const summary = await runBatch(ctx, [lines], 'generator', events, 1_000);
    expect(summary.bronzeBatches.map((b) => [b.version, b.rows])).toEqual([
      [0, 1_000],
      [1, 1_000],
      [2, 500],
    ]);
    expect(summary.bronze).toEqual({ batchId: summary.bronzeBatches[0]!.batchId, version: 2, rows: events });
    expect(new Set(summary.bronzeBatches.map((b) => b.batchId)).size).toBe(3);
    expect(summary.silver.map((s) => s.bronzeVersion)).toEqual([0, 1, 2]);
    expect(summary.silver.reduce((n, s) => n + s.silverRows + s.rejectedRows, 0)).toBe(events);
    expect(summary.gold.every((g) => g.version === 0)).toBe(true);

    await load(storage, TABLES.bronze, 'b');
    expect(engine.rows('SELECT min(line_no) AS lo, max(line_no) AS hi, count(DISTINCT line_no) AS n FROM b')).toEqual([{ lo: 1n, hi: 2_500n, n: 2_500n }]);
    expect(engine.rows('SELECT batch_id, min(line_no) AS lo, max(line_no) AS hi FROM b GROUP BY 1 ORDER BY 2').map((r) => [r.lo, r.hi])).toEqual([
      [1n, 1_000n],
      [1_001n, 2_000n],
      [2_001n, 2_500n],
    ]);
    await load(storage, TABLES.silver, 's');
    await load(storage, TABLES.rejects, 'r');
    expect(engine.rows('SELECT event_id FROM s GROUP BY 1 HAVING count(*) > 1')).toEqual([]);
    // A line re-sent in a later batch of the same run is a duplicate of the earlier batch.
    const dup = (line: number) => engine.rows<{ e: string }>(`SELECT r.errors[1] AS e FROM r JOIN b USING (raw, batch_id) WHERE b.line_no = ${line}`)[0]?.e;
    expect(dup(1_201)).toBe(`/event_id: ${JSON.parse(lines[9]!).event_id} was already accepted in batch ${summary.bronzeBatches[0]!.batchId}`);
    expect(dup(1_701)).toBe(`/event_id: ${JSON.parse(lines[1_500]!).event_id} already appeared at line 1501 of this batch`);
  });

  it('gives the same silver rows and gold counts as one batch would', async () => {
    const run = async (maxBatchRows: number) => {
      const storage = new MemoryStorage();
      const summary = await runBatch(
        pipelineContext(engine, storage),
        generateEvents({ events: 3_000, seed: 5, days: 20, invalidRate: 0.02 }),
        'generator',
        3_000,
        maxBatchRows,
      );
      await load(storage, TABLES.silver, 's');
      const silver = engine.rows('SELECT * EXCLUDE (batch_id, ingested_at) FROM s ORDER BY event_id');
      await load(storage, 'gold/writing_velocity_daily', 'g');
      return {
        silver,
        rejected: summary.silver.reduce((n, s) => n + s.rejectedRows, 0),
        gold: engine.rows('SELECT day, sessions, words, active_creators FROM g ORDER BY day'),
      };
    };
    const [whole, cut] = [await run(10_000), await run(700)];
    expect(cut.silver).toEqual(whole.silver);
    expect(cut.rejected).toBe(whole.rejected);
    expect(cut.gold).toEqual(whole.gold);
  });
});

describe('silver_events in the engine', () => {
  it('is not read again while it holds the latest version, and only new files are read after another writer appended', async () => {
    const storage = new MemoryStorage();
    const reads: string[] = [];
    const counting = Object.create(storage) as MemoryStorage;
    counting.read = async (path: string) => {
      if (path.startsWith(`${TABLES.silver}/`) && path.endsWith('.parquet')) reads.push(path);
      return storage.read(path);
    };
    const ctx = pipelineContext(engine, counting);
    await runBatch(ctx, generateEvents({ events: 800, seed: 1, days: 10, invalidRate: 0 }), 'generator', 800);
    expect(reads).toEqual([]);
    await loadSilverEvents(ctx);
    expect(reads).toEqual([]);

    // Another writer (its own engine connection state) appends a batch.
    const other = await testEngine();
    other.run('CREATE SCHEMA IF NOT EXISTS other_writer; USE other_writer');
    try {
      await runBatch(pipelineContext(other, storage), generateEvents({ events: 500, seed: 2, days: 10, invalidRate: 0 }), 'generator', 500);
    } finally {
      other.run('USE memory.main');
    }
    await loadSilverEvents(ctx);
    expect(reads).toHaveLength(1);
    expect(engine.rows('SELECT count(*) AS n FROM silver_events')).toEqual([{ n: 1_300n }]);
    await load(storage, TABLES.silver, 's_all');
    expect(engine.rows('SELECT count(*) AS n FROM (SELECT * FROM silver_events EXCEPT ALL SELECT * FROM s_all)')).toEqual([{ n: 0n }]);
  });
});

describe('a large silver_events', () => {
  it('moves to a compressed in-memory database and gives the same gold', async () => {
    const gold = async (compressAt: number | undefined) => {
      const storage = new MemoryStorage();
      const ctx = pipelineContext(engine, storage);
      await runBatch(ctx, generateEvents({ events: 1_500, seed: 3, days: 15, invalidRate: 0.02 }), 'generator', 1_500);
      const moved = compressAt !== undefined && ensureSilverCapacity(engine, 1_000, compressAt);
      const where = silverDatabase(engine);
      const summary = await runBatch(ctx, generateEvents({ events: 1_000, seed: 4, days: 15, invalidRate: 0.02 }), 'generator', 1_000);
      const rows = Object.fromEntries(summary.gold.map((g) => [g.table, engine.rows(ctx.goldSql[g.table.slice('gold/'.length)]!)]));
      return { moved, where, rows, silver: engine.rows('SELECT count(*) AS n FROM silver_events')[0] };
    };
    try {
      const plain = await gold(undefined);
      const compressed = await gold(2_000);
      expect([plain.moved, plain.where]).toEqual([false, 'memory']);
      expect([compressed.moved, compressed.where]).toEqual([true, 'lakehouse_silver']);
      expect(compressed.silver).toEqual(plain.silver);
      expect(compressed.rows).toEqual(plain.rows);
    } finally {
      dropSilverEvents(engine);
    }
  });
});

describe('a run that will pass the compression limit', () => {
  it('compresses silver_events before its first batch, not after two batches held uncompressed', async () => {
    // The rows silver_events held when it moved to the compressed database.
    const movedAt: number[] = [];
    const watched = new Proxy(engine, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key !== 'run' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (sql: string) => {
          if (sql.includes('(COMPRESS)')) movedAt.push(Number(target.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n));
          target.run(sql);
        };
      },
    });
    const ctx = { ...pipelineContext(watched, new MemoryStorage()), compressSilverAbove: 2_000 };
    try {
      const summary = await runBatch(ctx, generateEvents({ events: 3_000, seed: 5, days: 15, invalidRate: 0.02 }), 'generator', 3_000, 1_000);
      expect(summary.bronzeBatches.map((b) => b.rows)).toEqual([1_000, 1_000, 1_000]);
      expect(movedAt).toEqual([0]);
      expect(silverDatabase(engine)).toBe('lakehouse_silver');
      // Other tables (a batch's scratch tables) are still made in the uncompressed database.
      engine.run('CREATE OR REPLACE TABLE scratch_probe AS SELECT 1 AS x');
      expect(engine.rows("SELECT database_name AS d FROM duckdb_tables() WHERE table_name = 'scratch_probe'")).toEqual([{ d: 'memory' }]);
      engine.run('DROP TABLE scratch_probe');
      const silverRows = summary.silver.reduce((n, s) => n + s.silverRows, 0);
      expect(engine.rows('SELECT count(*) AS n FROM silver_events')).toEqual([{ n: BigInt(silverRows) }]);
      expect(silverRows).toBeGreaterThan(2_900);
    } finally {
      dropSilverEvents(engine);
    }
  });
});

describe('silver/events in files of silverFileRows', () => {
  it('writes a batch as several files in its row order, the same rows and gold as one file', async () => {
    const run = async (silverFileRows: number | undefined) => {
      const storage = new MemoryStorage();
      const ctx = { ...pipelineContext(engine, storage), ...(silverFileRows ? { silverFileRows } : {}) };
      const summary = await runBatch(ctx, generateEvents({ events: 2_500, seed: 6, days: 15, invalidRate: 0.02 }), 'generator', 2_500);
      const snap = await loadSnapshot(storage, TABLES.silver);
      const inEngine = engine.rows('SELECT * EXCLUDE (ingested_at, batch_id) FROM silver_events');
      await load(storage, TABLES.silver, 's_back');
      const readBack = engine.rows('SELECT * EXCLUDE (ingested_at, batch_id) FROM s_back');
      const gold = Object.fromEntries(summary.gold.map((g) => [g.table, engine.rows(ctx.goldSql[g.table.slice('gold/'.length)]!)]));
      return { files: snap.files.map((f) => numRecords(f)), inEngine, readBack, gold };
    };
    const one = await run(undefined);
    const parts = await run(1_000);
    expect(one.files).toHaveLength(1);
    expect(parts.files).toEqual([1_000, 1_000, one.files[0]! - 2_000]);
    expect(parts.readBack).toEqual(one.readBack);
    expect(parts.inEngine).toEqual(parts.readBack);
    expect(parts.gold).toEqual(one.gold);
  });
});

describe('silver_events read whole', () => {
  it('goes straight into the compressed database when large, and back to the plain one for a small lakehouse', async () => {
    const storage = new MemoryStorage();
    const ctx = { ...pipelineContext(engine, storage), compressSilverAbove: 1_000 };
    try {
      await runBatch(ctx, generateEvents({ events: 1_500, seed: 7, days: 15, invalidRate: 0 }), 'generator', 1_500);
      const rows = engine.rows('SELECT count(*) AS n FROM silver_events');
      // the engine's copy let go (as after running out of memory): the next load reads silver/events whole
      dropSilverEvents(engine);
      await loadSilverEvents(ctx);
      expect(silverDatabase(engine)).toBe('lakehouse_silver');
      expect(engine.rows("SELECT database_name AS d FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'silver_events'")).toEqual([
        { d: 'lakehouse_silver' },
      ]);
      expect(engine.rows('SELECT count(*) AS n FROM silver_events')).toEqual(rows);
      // a new, empty lakehouse on the same engine: its silver_events is plain again, the compressed copy gone
      await loadSilverEvents({ ...ctx, storage: new MemoryStorage() });
      expect(silverDatabase(engine)).toBe('memory');
      expect(engine.rows("SELECT database_name AS d FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'silver_events'")).toEqual([
        { d: 'memory' },
      ]);
    } finally {
      dropSilverEvents(engine);
    }
  });
});

describe('two connections on one DuckDB instance (the page and the Learn tab)', () => {
  it("one letting its copy of silver go leaves the other's compressed copy alone", async () => {
    const other = await testEngine();
    other.run('CREATE SCHEMA IF NOT EXISTS second_lakehouse; USE second_lakehouse');
    try {
      engine.run(`CREATE OR REPLACE TABLE silver_events AS SELECT 1 AS x FROM range(10)`);
      expect(ensureSilverCapacity(engine, 5, 12)).toBe(true);
      other.run('CREATE TABLE silver_events AS SELECT 2 AS x');
      dropSilverEvents(other);
      expect(silverDatabase(engine)).toBe('lakehouse_silver');
      expect(engine.rows('SELECT count(*) AS n FROM silver_events')).toEqual([{ n: 10n }]);
    } finally {
      other.run('USE memory.main');
      dropSilverEvents(engine);
    }
  });
});

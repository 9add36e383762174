import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryLimit, setMemoryLimit, WASM_MEMORY_LIMIT } from '../../src/engine/memory.ts';
import type { Engine } from '../../src/engine/types.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch } from '../../src/pipeline/lakehouse.ts';
import { dropSilverEvents, ensureSilverCapacity, loadSilverEvents, silverDatabase } from '../../src/pipeline/silver/index.ts';
import { EngineMemoryError } from '../../src/pipeline/memory.ts';
import type { Progress, Stage } from '../../src/pipeline/context.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { explain } from '../../src/worker/errors.ts';
import { testEngine } from '../helpers/engine.ts';
import { pipelineContext } from '../helpers/pipeline.ts';
import { checkLakehouse } from './invariants.ts';

let engine: Engine;
let base: string;
let baseEvents: number;

const batch = (seed: number) => generateEvents({ events: 3_000, seed, days: 10, invalidRate: 0.02 });
const SILVER_TABLES = ['silver/events', 'silver/quality', 'silver/rejects'];
/** What DuckDB's buffer manager holds now, in bytes. */
const used = (): number => Number(engine.rows<{ b: bigint }>('SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()')[0]!.b);

beforeAll(async () => {
  engine = await testEngine();
  base = mkdtempSync(join(tmpdir(), 'memory-base-'));
  const first = await runBatch(pipelineContext(engine, new NodeStorage(base)), batch(1), 'generator');
  baseEvents = first.silver.reduce((s, b) => s + b.silverRows, 0);
});

const shown: string[] = [];

afterEach(() => setMemoryLimit(engine, WASM_MEMORY_LIMIT));
afterAll(() => {
  if (shown.length) console.log(`what the page shows:\n${shown.join('\n')}`);
});

describe('the engine running out of memory during a run', () => {
  it('every DuckDB-WASM instance starts with the project’s limit', () => {
    expect(WASM_MEMORY_LIMIT).toBe('3GiB');
    expect(memoryLimit(engine)).toBe('3.0 GiB');
  });

  it.each(['silver', 'gold'] as const)(
    'out of memory in %s: a message naming the stage, the limit and silver’s size; every table at its last commit; the next run completes',
    async (stage: Stage) => {
      const dir = mkdtempSync(join(tmpdir(), `memory-${stage}-`));
      cpSync(base, dir, { recursive: true });
      const storage = new NodeStorage(dir);
      const before = await checkLakehouse(storage, engine, { complete: true });
      expect(before.problems).toEqual([]);

      // The limit drops once the run reaches the stage: the stage's own statements meet it.
      let limited: string | undefined;
      const onProgress = (p: Progress) => {
        if (p.stage !== stage || limited) return;
        // 64 KiB above what it holds (a limit below that is refused): its next 256 KiB block fails.
        setMemoryLimit(engine, `${used() + 65_536}B`);
        limited = memoryLimit(engine);
      };
      const err = await runBatch(pipelineContext(engine, storage, { onProgress }), batch(2), 'generator').then(
        () => expect.unreachable('the run completed under the limit'),
        (e: unknown) => e,
      );
      expect(limited).toMatch(/^\d+(\.\d)? [KM]iB$/);
      expect(err).toBeInstanceOf(EngineMemoryError);
      const e = err as EngineMemoryError;
      expect([e.code, e.stage, e.limit]).toEqual(['ENGINE_OUT_OF_MEMORY', stage, limited]);
      // Silver of the first run, and in gold also the second run's batch, committed before gold.
      const held = stage === 'silver' ? baseEvents : e.silverEvents!;
      if (stage === 'gold') expect(held).toBeGreaterThan(baseEvents);
      expect(e.silverEvents).toBe(held);
      expect(e.message).toMatch(
        new RegExp(
          `^the engine ran out of memory in ${stage} \\(DuckDB's memory limit ${limited!.replace('.', '\\.')}; Out of Memory Error: [^\\n)]+\\)\\) with ${held.toLocaleString('en-US')} events in silver: ` +
            'the run stopped with every table at its last committed version, and what reached bronze is kept and the next run \\(or opening the page\\) finishes it, once the engine has room\\. ' +
            'A lakehouse this large needs more memory than DuckDB-WASM has \\(4 GB at most\\): run it on the command line \\(`cli run --engine native`, or `--engine spark`\\)',
        ),
      );
      // On the page: one line, without DuckDB's advice (SET memory_limit…) or the failed SQL.
      shown.push(`  running the pipeline: ${explain(err)}`);
      expect(explain(err)).toBe(e.message);
      expect(explain(err)).not.toMatch(/\n|SQL:|Possible solutions/);

      // The engine answers (still under the tiny limit), and the tables are as last committed.
      expect(engine.rows<{ n: number }>('SELECT 42 AS n')[0]!.n).toBe(42);
      expect(memoryLimit(engine)).toBe(limited);
      setMemoryLimit(engine, WASM_MEMORY_LIMIT);
      const after = await checkLakehouse(storage, engine);
      expect(after.problems).toEqual([]);
      expect(after.bronzeVersion).toBe(1);
      for (const t of SILVER_TABLES) expect(after.versions[t]).toBe(stage === 'silver' ? before.versions[t] : before.versions[t]! + 1);
      for (const t of Object.keys(before.versions).filter((t) => t.startsWith('gold/'))) expect(after.versions[t]).toBe(before.versions[t]);

      // The next run, with the normal limit, first finishes what this one left, then its own batch.
      const next = await runBatch(pipelineContext(engine, storage), batch(3), 'generator');
      expect(next.repaired?.silver.map((s) => s.bronzeVersion) ?? []).toEqual(stage === 'silver' ? [1] : []);
      expect(next.repaired?.before.behind.length).toBeGreaterThan(0);
      expect(next.silver.map((s) => s.bronzeVersion)).toEqual([2]);
      const done = await checkLakehouse(storage, engine, { complete: true });
      expect(done.problems).toEqual([]);
      expect(done.batchesChecked).toBe(3);
    },
  );

  it('lets a compressed copy of silver go too: the connection is back on its database, and the next run reads silver again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memory-drop-'));
    cpSync(base, dir, { recursive: true });
    const storage = new NodeStorage(dir);
    const ctx = pipelineContext(engine, storage);
    await loadSilverEvents(ctx);
    expect(ensureSilverCapacity(engine, 1, 1)).toBe(true);
    expect(silverDatabase(engine)).toBe('lakehouse_silver');
    dropSilverEvents(engine);
    expect(silverDatabase(engine)).toBeUndefined();
    expect(engine.rows("SELECT current_setting('search_path') AS p")).toEqual([{ p: '' }]);
    expect(engine.rows("SELECT database_name FROM duckdb_databases() WHERE database_name = 'lakehouse_silver'")).toEqual([]);
    expect(() => engine.run('SELECT 1 FROM silver_events')).toThrow(/silver_events/);
    const next = await runBatch(ctx, batch(4), 'generator');
    expect(next.silver.map((s) => s.bronzeVersion)).toEqual([1]);
    expect(Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM silver_events')[0]!.n)).toBe(baseEvents + next.silver[0]!.silverRows);
    expect((await checkLakehouse(storage, engine, { complete: true })).problems).toEqual([]);
  });
});

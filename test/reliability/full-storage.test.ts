import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { NodeStorage } from '../../src/storage/node.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { StorageFullError } from '../../src/storage/full.ts';
import { vacuumTable } from '../../src/delta/vacuum.ts';
import { nodeTemporaryFiles } from '../../src/cli/maintenance.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch } from '../../src/pipeline/lakehouse.ts';
import type { Storage } from '../../src/storage/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { pipelineContext } from '../helpers/pipeline.ts';
import { checkLakehouse } from './invariants.ts';
import { QuotaStorage } from './quota-storage.ts';

let engine: Engine;
let base: string;
let writes: QuotaStorage['writes'];
let baseUsed: number;
const figures: string[] = [];

const batch = (seed: number) => generateEvents({ events: 400, seed, days: 10, invalidRate: 0.05 });
const run = (storage: Storage, seed: number) => runBatch(pipelineContext(engine, storage), batch(seed), 'generator');
const stageOf = (path: string) => path.split('/')[0] as 'bronze' | 'silver' | 'gold';

beforeAll(async () => {
  engine = await testEngine();
  base = mkdtempSync(join(tmpdir(), 'full-base-'));
  await run(new NodeStorage(base), 1);
  // Where the bytes of the next batch go, write by write, with room to spare.
  const scratch = mkdtempSync(join(tmpdir(), 'full-scratch-'));
  cpSync(base, scratch, { recursive: true });
  const probe = await QuotaStorage.over(new NodeStorage(scratch), Infinity);
  baseUsed = probe.used;
  await run(probe, 2);
  writes = probe.writes;
});

afterAll(() => {
  if (figures.length)
    console.log(
      `full storage (lakehouse of one 400-event batch, ${baseUsed} B; the next batch writes ${writes.at(-1)!.usedAfter - baseUsed} B):\n${figures.join('\n')}`,
    );
});

/** A budget that runs out halfway through the `nth` write matching `pick`. */
function budgetAt(pick: (path: string) => boolean, nth: 'first' | 'last'): { budget: number; path: string } {
  const matching = writes.filter((w) => pick(w.path));
  const w = nth === 'first' ? matching[0]! : matching.at(-1)!;
  return { budget: w.usedAfter - Math.ceil(w.bytes / 2), path: w.path };
}

const isData = (p: string) => !p.includes('/_delta_log/');

describe('a disk that fills up during a run', () => {
  it.each([
    ['the first bronze data file', (p: string) => p.startsWith('bronze/') && isData(p), 'first'],
    ['the bronze commit', (p: string) => p.startsWith('bronze/events/_delta_log/'), 'first'],
    ['the first silver/rejects data file', (p: string) => p.startsWith('silver/rejects/') && isData(p), 'first'],
    ['the silver/events commit', (p: string) => p.startsWith('silver/events/_delta_log/'), 'first'],
    ['the first gold data file', (p: string) => p.startsWith('gold/') && isData(p), 'first'],
    ['the last gold commit', (p: string) => p.startsWith('gold/') && p.includes('/_delta_log/'), 'last'],
  ] as const)('full during %s: a clear message, every table at a committed version, the next run completes', async (_what, pick, nth) => {
    const { budget, path } = budgetAt(pick, nth);
    const dir = mkdtempSync(join(tmpdir(), 'full-'));
    cpSync(base, dir, { recursive: true });
    const inner = new NodeStorage(dir);
    const quota = await QuotaStorage.over(inner, budget);
    expect(quota.used).toBe(baseUsed);

    const err = await run(quota, 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageFullError);
    const stage = stageOf(path);
    const next =
      stage === 'bronze'
        ? 'the batch was not taken in, so free some space and send it again'
        : 'the batch is safe in bronze and the next run completes it, so free some space and run again';
    expect((err as Error).message).toMatch(
      new RegExp(
        `^storage is full at ${dir} while writing ${stage} \\(ENOSPC: no space left on device, write '${stage}/\\S+'\\): ` +
          `the run stopped with every table at its last committed version; ${next} \\(vacuum deletes the files that no version needs any more\\)$`,
      ),
    );

    const after = await checkLakehouse(inner, engine);
    expect(after.problems).toEqual([]);
    expect(after.bronzeVersion).toBe(stage === 'bronze' ? 0 : 1);

    quota.budget = Infinity;
    const summary = await run(quota, 3);
    // A batch that reached bronze is completed by the next run (its repair), before its own batch.
    expect(summary.repaired?.silver.map((s) => s.bronzeVersion) ?? []).toEqual(stage === 'silver' ? [1] : []);
    expect(summary.silver.map((s) => s.bronzeVersion)).toEqual(stage === 'bronze' ? [1] : [2]);
    const done = await checkLakehouse(inner, engine, { complete: true });
    expect(done.problems).toEqual([]);
    expect(done.batchesChecked).toBe(stage === 'bronze' ? 2 : 3);

    // What the failed write left behind is not part of any table, and VACUUM takes it away.
    let reclaimed = 0;
    for (const t of Object.keys(done.versions)) {
      const vacuumed = await vacuumTable(inner, t, { retentionHours: 0, force: true, listTemporary: nodeTemporaryFiles(dir), temporaryMinAgeHours: 0 });
      reclaimed += vacuumed.files.filter((f) => f.reason === 'untracked').length;
    }
    expect(reclaimed).toBe(done.untrackedFiles);
    // A write cut short leaves the part that fitted (all but the commits, which are created whole).
    if (!path.includes('/_delta_log/')) expect(done.untrackedFiles).toBeGreaterThan(0);
    expect((await checkLakehouse(inner, engine, { complete: true })).untrackedFiles).toBe(0);
    figures.push(
      `  ${_what.padEnd(36)} budget +${String(budget - baseUsed).padStart(7)} B  stopped in ${stage.padEnd(6)}  ` +
        `left ${done.untrackedFiles} uncommitted file(s), ${done.untrackedBytes} B, reclaimed by VACUUM; next run took in bronze v${summary.silver.map((x) => x.bronzeVersion).join(', v')}`,
    );
  });

  it('in the browser the quota error is a DOMException; the message is the same', async () => {
    const memory = new MemoryStorage();
    await run(memory, 1);
    const quota = await QuotaStorage.over(memory, 0, 'browser');
    quota.budget = quota.used + writes.filter((w) => w.path.startsWith('bronze/')).reduce((s, w) => s + w.bytes, 0) + 64;
    const err = (await run(quota, 2).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^storage is full at memory while writing silver \(The quota has been exceeded\.\): the run stopped/);
    expect((err.cause as DOMException).name).toBe('QuotaExceededError');
    expect((await checkLakehouse(memory, engine)).problems).toEqual([]);
  });
});

import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { formatTable } from '../../src/cli/log.ts';
import { testEngine } from '../helpers/engine.ts';
import { cliRun, concurrentTrial, crashTrial, type CrashTrial } from '../reliability/trials.ts';

// The trials of test/reliability/crash.test.ts (and `npm run reliability`), on the object stores.
const env = inject('storageEnv');
const EVENTS = 2_000;

let engine: Engine;
beforeAll(async () => {
  Object.assign(process.env, env);
  process.stderr.isTTY = false;
  engine = await testEngine();
});

describe.each([
  ['S3 (moto)', 's3://lakehouse', 1],
  ['Azure Blob (Azurite)', 'az://lakehouse', 1],
])('cli run on %s', (name, bucket, trials) => {
  it(`killed with SIGKILL mid-upload (${trials}×, at a random moment of the run): every table opens at a committed version, the next run completes, VACUUM removes the orphans`, {
    timeout: 600_000,
  }, async () => {
    const dir = `${bucket}/crash-${crypto.randomUUID()}`;
    const first = await cliRun(['--events', String(EVENTS), '--seed', '1', '--days', '30', '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    const results: CrashTrial[] = [];
    for (let i = 0; i < trials; i++) {
      const work = first.ms - first.stageAt.bronze!;
      const killAtMs = Math.round(((i + Math.random()) / trials) * work);
      results.push(
        await crashTrial({
          dir,
          engine,
          trial: i + 1,
          killAtMs,
          killFrom: 'first-output',
          events: EVENTS,
          recoveryEvents: 300,
          seed: 10 + i,
          recoverInProcess: true,
        }),
      );
    }
    console.log(
      `${name}\n` +
        formatTable(
          results.map((r) => ({
            trial: r.trial,
            kill_ms_after_startup: r.killAtMs,
            phase: r.phase,
            batches_checked: r.afterKill.batchesChecked,
            orphan_files_reclaimed: r.orphanFiles,
            problems: r.problems.join('; ') || 'none',
          })),
        ),
    );
    expect(results.flatMap((r) => r.problems)).toEqual([]);
  });
});

// On S3 only, to keep CI short: racing commits on Azure are race.test.ts's.
describe('two cli runs at once on S3 (moto)', () => {
  it('two cli runs at once: no commit lost or overwritten, every batch whole, gold equals its SQL over silver', { timeout: 300_000 }, async () => {
    const r = await concurrentTrial({ dir: `s3://lakehouse/concurrent-${crypto.randomUUID()}`, engine, trial: 1, events: 1_500, seeds: [1, 2] });
    expect(r.problems).toEqual([]);
    expect([r.lost, r.overwritten, r.exits]).toEqual([0, 0, [0, 0]]);
    expect(r.check.bronzeVersion).toBe(1);
    expect(r.check.batchesChecked).toBe(2);
  });
});

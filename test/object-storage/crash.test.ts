import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { concurrentTrial, describeTrials, killTrials } from '../reliability/trials.ts';

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
    const results = await killTrials(`${bucket}/crash-${crypto.randomUUID()}`, engine, { trials, events: EVENTS });
    console.log(`${name}\n${describeTrials(results)}`);
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

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { testEngine } from '../helpers/engine.ts';
import { concurrentTrial, describeTrials, killTrials } from './trials.ts';

/**
 * The CI-sized variant of `npm run reliability` (scripts/crash-trials.ts), which runs 50 trials
 * and prints the figures of docs/reliability.md.
 */

const TRIALS = 4;
const EVENTS = 2_000;

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
  process.stderr.isTTY = false;
});

describe('cli run killed with SIGKILL', () => {
  it(`${TRIALS} kills spread over a run: tables stay at committed versions, SPEC §2 holds, the next run completes, VACUUM removes the orphans`, {
    timeout: 600_000,
  }, async () => {
    const results = await killTrials(mkdtempSync(join(tmpdir(), 'crash-')), engine, { trials: TRIALS, events: EVENTS });
    console.log(describeTrials(results));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.filter((r) => r.phase !== 'startup' && r.phase !== 'finished').length).toBeGreaterThan(0);
  });
});

describe('two cli runs on one folder at once', () => {
  it('no commit is lost or overwritten, every batch is whole, gold equals its SQL over silver', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concurrent-'));
    const r = await concurrentTrial({ dir, engine, trial: 1, events: 2_000, seeds: [1, 2] });
    expect(r.problems).toEqual([]);
    expect([r.lost, r.overwritten, r.exits]).toEqual([0, 0, [0, 0]]);
    expect(r.check.bronzeVersion).toBe(1);
    expect(r.check.batchesChecked).toBe(2);
  });
});

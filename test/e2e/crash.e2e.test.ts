import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openNodeEngine } from '../../src/engine/node.ts';
import type { Engine } from '../../src/engine/types.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { BrowserLab, browserCrashTrial } from '../reliability/browser-trials.ts';
import type { LakehouseCheck } from '../reliability/invariants.ts';
import { DIST, serveStatic, type StaticServer } from './harness.ts';

/**
 * The browser crash trials of `npm run reliability -- --browser` (50 of them, figures in
 * docs/reliability.md), three here: the worker terminated mid-run, the tab and browser closed
 * mid-run, and the worker terminated at once. Kill moments are fixed fractions of an unkilled
 * run so the test is repeatable; where they land is reported, not asserted.
 */
describe('a run killed in the browser', () => {
  let server: StaticServer;
  let engine: Engine;
  let lab: BrowserLab;
  let profile: string;
  let work: string;

  beforeAll(async () => {
    initParquet();
    [server, engine, profile, work] = await Promise.all([
      serveStatic(DIST),
      openNodeEngine(),
      mkdtemp(join(tmpdir(), 'crash-e2e-profile-')),
      mkdtemp(join(tmpdir(), 'crash-e2e-copy-')),
    ]);
    lab = await BrowserLab.open(profile, server.url);
  });
  afterAll(async () => {
    await lab?.close();
    await server?.close();
    await rm(profile, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  test('leaves every table at a committed version; the next run completes and VACUUM removes what the kill left', async () => {
    const t0 = Date.now();
    expect(await lab.run({ events: 1500, seed: 1, days: 30, invalidRate: 0.01 })).toBeUndefined();
    const runMs = Date.now() - t0;
    let before: LakehouseCheck = await lab.check(engine, work, true);
    expect(before.problems).toEqual([]);
    expect(before.bronzeVersion).toBe(0);

    // Temporary files of a write cut short, in OPFS: hidden from the listing, removed by VACUUM.
    await lab.page.evaluate(() => window.lakehouse.writeFile('silver/events/_delta_log/.cut-short.tmp', new TextEncoder().encode('{"add"')));
    expect(await lab.temporaryFiles()).toEqual([{ path: 'silver/events/_delta_log/.cut-short.tmp', size: 6, modificationTime: expect.any(Number) }]);
    expect((await lab.page.evaluate(() => window.lakehouse.listFiles('silver/events/_delta_log'))).some((f) => f.path.endsWith('.tmp'))).toBe(false);
    // Younger than an hour: it could be a write in flight, so the default VACUUM keeps it.
    const kept = await lab.page.evaluate(() => window.lakehouse.vacuum({ retentionHours: 0, force: true }));
    expect(kept.flatMap((r) => r.files.map((f) => f.path))).not.toContain('_delta_log/.cut-short.tmp');
    expect(await lab.temporaryFiles()).toHaveLength(1);

    const trials = [
      { mode: 'worker' as const, at: 0.5 },
      { mode: 'tab' as const, at: 0.3 },
      { mode: 'worker' as const, at: 0 },
    ];
    let bronze = before.bronzeVersion;
    for (const [i, t] of trials.entries()) {
      const r = await browserCrashTrial(lab, {
        engine,
        trial: i + 1,
        mode: t.mode,
        killAtMs: Math.round(t.at * runMs),
        events: 1500,
        recoveryEvents: 300,
        seed: 10 + i,
        before,
        work,
      });
      console.log(
        `browser crash trial ${r.trial}: ${r.mode} killed at ${r.killAtMs} ms in ${r.phase}; after the kill b${r.afterKill.bronzeVersion}/s${r.afterKill.processed}, ` +
          `${r.afterKill.untrackedFiles} orphans, ${r.tempAfterKill} temporary files, ${r.staleGold} stale gold tables (${r.staleMarked} marked); VACUUM reclaimed ${r.orphanFiles} files (${r.orphanBytes} B, ${r.tempFilesReclaimed} temporary)`,
      );
      expect(r.problems).toEqual([]);
      expect(r.recovered).toBe(true);
      // The kill left bronze at the version before the run or with the killed run's batch; the next run added one more.
      expect([bronze, bronze + 1]).toContain(r.afterKill.bronzeVersion);
      expect(r.afterRecovery.bronzeVersion).toBe(r.afterKill.bronzeVersion + 1);
      expect(r.afterRecovery.processed).toBe(r.afterRecovery.bronzeVersion);
      expect(r.afterRecovery.batchesChecked).toBe(r.afterRecovery.bronzeVersion + 1);
      expect(r.afterVacuum.untrackedFiles).toBe(0);
      expect(r.tempAfterVacuum).toBe(0);
      if (i === 0) expect(r.tempFilesReclaimed).toBeGreaterThanOrEqual(1); // the .cut-short.tmp above at least
      bronze = r.afterRecovery.bronzeVersion;
      before = r.afterVacuum;
    }
  }, 480_000);
});

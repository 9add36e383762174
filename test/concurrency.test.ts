import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { listLog, loadSnapshot } from '../src/delta/snapshot.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { TABLES } from '../src/pipeline/tables.ts';
import { testEngine } from './helpers/engine.ts';
import { validateDeltaTable } from './helpers/delta-validator.ts';

const ROOT = join(import.meta.dirname, '..');
const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('two cli runs on one folder at the same time', () => {
  it('both batches land whole, versions stay contiguous, nothing is lost or counted twice', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'two-runs-'));
    const runs = await Promise.all([1, 2, 3].map((seed) => cli('run', '--events', '4000', '--seed', String(seed), '--days', '20', '--out', dir)));
    // A run may first take in another's batch that is under way (it looks behind): its own batch follows.
    expect(runs.map((r) => /^batch batch-/m.test(r.stdout))).toEqual([true, true, true]);
    const storage = new NodeStorage(dir);
    for (const t of [TABLES.bronze, TABLES.silver, TABLES.rejects, TABLES.quality, 'gold/stage_bottlenecks']) {
      const log = await listLog(storage, t);
      expect(
        [...log.commits.keys()].sort((a, b) => a - b),
        t,
      ).toEqual([...Array(log.latest + 1).keys()]);
      expect(await validateDeltaTable(storage, t, engine), t).toEqual([]);
    }
    const bronze = await loadSnapshot(storage, TABLES.bronze);
    expect(bronze.version).toBe(2);
    expect((await loadSnapshot(storage, TABLES.silver)).txns.get('creatorops-silver')?.version).toBe(2);
    await scanIntoEngine(engine, storage, bronze, 'b');
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, TABLES.silver), 's');
    await scanIntoEngine(engine, storage, await loadSnapshot(storage, TABLES.rejects), 'r');
    const perBatch = engine.rows<{ bronze: bigint; landed: bigint }>(`
      SELECT b.n AS bronze, coalesce(s.n, 0) + coalesce(r.n, 0) AS landed
      FROM (SELECT batch_id, count(*) n FROM b GROUP BY 1) b
      LEFT JOIN (SELECT batch_id, count(*) n FROM s GROUP BY 1) s USING (batch_id)
      LEFT JOIN (SELECT batch_id, count(*) n FROM r GROUP BY 1) r USING (batch_id)`);
    expect(perBatch).toHaveLength(3);
    for (const row of perBatch) expect(row.landed).toBe(row.bronze);
    expect(engine.rows('SELECT event_id FROM s GROUP BY 1 HAVING count(*) > 1')).toEqual([]);
  });
});

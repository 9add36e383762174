import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../src/cli/status.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import type { Engine } from '../src/engine/types.ts';
import { generateEvents } from '../src/pipeline/generator/index.ts';
import { runBatch } from '../src/pipeline/lakehouse.ts';
import type { Lineage } from '../src/pipeline/lineage.ts';
import { stopAfterCommit, StoppedAfterCommitError } from '../src/pipeline/stop-after-commit.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { testEngine } from './helpers/engine.ts';
import { pipelineContext } from './helpers/pipeline.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
  process.env.LAKEHOUSE_CHECK_THREADS = '0';
});

async function status(...args: string[]): Promise<string> {
  let out = '';
  await statusCommand(
    args,
    openNodeEngine,
    new Writable({
      write: (c, _e, done) => {
        out += String(c);
        done();
      },
    }),
  );
  return out;
}

describe('cli status', () => {
  it('lists each table with what it was computed from; --repair finishes a run stopped after silver/events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-status-'));
    const storage = new NodeStorage(dir);
    const batch = (seed: number) => generateEvents({ events: 400, seed, days: 10, invalidRate: 0.02 });
    await runBatch(pipelineContext(engine, storage), batch(1), 'generator');
    const stopping = stopAfterCommit(storage, 'silver/events', (path, n) => {
      throw new StoppedAfterCommitError(path, n);
    });
    await expect(runBatch(pipelineContext(engine, stopping), batch(2), 'generator')).rejects.toThrow(StoppedAfterCommitError);

    const text = (await status('--out', dir)).split('\n');
    expect(text[0]).toBe(`${dir}: bronze/events last batch v1, silver/events v1`);
    expect(text[1]).toBe('silver/events                   v1     from bronze/events v1        up to date');
    expect(text[4]).toBe('gold/writing_velocity_daily     v0     from silver/events v0        NOT UP TO DATE: silver/events is at v1');
    expect(text.at(-2)).toBe(
      '6 tables are behind (gold/writing_velocity_daily, gold/revision_churn_daily, gold/engagement_bands, gold/dropoff_rate, gold/stage_bottlenecks, gold/post_release_engagement): ' +
        'the last run stopped early; `status --repair` (or the next run) finishes it',
    );
    const before = JSON.parse(await status('--out', dir, '--json')) as Lineage;
    expect(before.behind).toHaveLength(6);

    const repaired = JSON.parse(await status('--out', dir, '--repair', '--json')) as { repaired: string[]; silver: number[]; lineage: Lineage };
    expect([repaired.repaired.length, repaired.silver, repaired.lineage.behind]).toEqual([6, [], []]);
    expect((await status('--out', dir)).split('\n').at(-2)).toBe('every table is up to date');
    await expect(status('--out', join(dir, 'nowhere'))).rejects.toThrow(`there is no lakehouse at ${join(dir, 'nowhere')} (no such folder)`);
  });
});

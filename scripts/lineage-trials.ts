/**
 * Gold lineage under kills (docs/reliability.md, promise 9):
 *
 *   npx tsx scripts/lineage-trials.ts [--trials 12] [--events 150000] [--series 4] [--seed 1]
 *
 * `cli run` on a lakehouse, killed with SIGKILL at a uniformly random moment between its first
 * progress line and the working time of an unkilled run (so kills land in bronze, silver and
 * gold). After each kill, every gold table's rows are compared with its SQL over silver/events at
 * the version its log records and at the latest, and with what the lineage says:
 *   stale      its rows differ from its SQL over the latest silver (gold left behind by the kill)
 *   marked     the lineage (cli status) says it is not up to date
 *   unmarked   stale and not marked — must be 0
 *   recorded≠rows  its rows differ from its SQL over the silver version its log records — must be 0
 * Then `cli status --repair` in its own process, after which nothing may be behind and the
 * lakehouse must check out as after an uninterrupted run (test/reliability/invariants.ts: every
 * batch taken in whole, every gold table equal to its SQL over silver). A fresh lakehouse every
 * --series trials. Exit status 1 when a promise broke.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/log.ts';
import { openNodeEngine } from '../src/engine/node.ts';
import { initParquet } from '../src/parquet/node.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { readLineage } from '../src/pipeline/lineage.ts';
import { checkLakehouse } from '../test/reliability/invariants.ts';
import { checkGold, cliRepair } from '../test/reliability/lineage-check.ts';
import { cliRun } from '../test/reliability/trials.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '12' },
    events: { type: 'string', default: '150000' },
    series: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
  },
});
const n = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${values[name]}`);
  return v;
};
const trials = n('trials');
const events = n('events');
const series = n('series');
let seed = n('seed');
const random = mulberry32(seed);

initParquet();
const engine = await openNodeEngine();
const started = Date.now();
const rows: Record<string, unknown>[] = [];
const failures: string[] = [];
let dir = '';
let workMs = 0;
const totals = { stale: 0, marked: 0, unmarked: 0, recordedWrong: 0, silverBehind: 0, repairedEqual: 0, trialsWithStale: 0 };

for (let i = 0; i < trials; i++) {
  if (i % series === 0) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'lineage-trials-'));
    const first = await cliRun(['--events', String(events), '--seed', String(seed++), '--days', '30', '--out', dir]);
    if (first.code !== 0) throw new Error(`the first run of a series failed: ${first.stderr}`);
    workMs = first.ms - first.stageAt.bronze!;
    process.stderr.write(
      `series in ${dir}: an unkilled run took ${(first.ms / 1000).toFixed(1)} s (bronze from ${first.stageAt.bronze} ms, silver ${first.stageAt.silver} ms, gold ${first.stageAt.gold} ms)\n`,
    );
  }
  const storage = new NodeStorage(dir);
  const bronzeBefore = (await readLineage(storage)).bronzeBatch;
  const killAtMs = Math.round(random() * workMs);
  const killed = await cliRun(['--events', String(events), '--seed', String(seed++), '--days', '30', '--out', dir], {
    afterMs: killAtMs,
    from: 'first-output',
  });
  if (killed.signal !== 'SIGKILL' && killed.code !== 0) failures.push(`trial ${i + 1}: the run failed on its own: ${killed.stderr.trim().split('\n').at(-1)}`);
  else if (killed.signal !== 'SIGKILL') workMs = killed.ms - (killed.stageAt.bronze ?? 0);

  const { lineage, gold } = await checkGold(storage, engine);
  const stale = gold.filter((g) => g.stale);
  const marked = gold.filter((g) => g.marked);
  const unmarked = stale.filter((g) => !g.marked);
  const recordedWrong = gold.filter((g) => !g.matchesRecorded);
  const silverBehind = lineage.tables.filter((t) => t.layer === 'silver' && !t.upToDate).length;
  // Where the kill landed, from the tables: before bronze's commit, between silver's, between gold's, or after the last.
  const stage =
    killed.signal !== 'SIGKILL'
      ? 'finished'
      : lineage.bronzeBatch === bronzeBefore
        ? 'before bronze commit'
        : silverBehind > 0
          ? 'silver'
          : marked.length > 0
            ? 'gold'
            : 'after gold';
  for (const g of unmarked) failures.push(`trial ${i + 1}: ${g.table} v${g.version} is stale but the lineage says it is up to date`);
  for (const g of recordedWrong)
    failures.push(`trial ${i + 1}: ${g.table} v${g.version} does not equal its SQL over silver/events v${g.recorded}, the version its log records`);

  const repair = await cliRepair(dir);
  const after = await checkLakehouse(storage, engine, { complete: true });
  const afterGold = await checkGold(storage, engine);
  const equal = repair.lineage.behind.length === 0 && after.problems.length === 0 && afterGold.gold.every((g) => !g.stale && !g.marked && g.matchesRecorded);
  if (!equal)
    failures.push(
      `trial ${i + 1}: after the repair: ${[...repair.lineage.behind.map((t) => `${t} behind`), ...after.problems].join('; ') || 'gold differs from its SQL over silver'}`,
    );

  totals.stale += stale.length;
  totals.marked += marked.length;
  totals.unmarked += unmarked.length;
  totals.recordedWrong += recordedWrong.length;
  totals.silverBehind += silverBehind;
  totals.trialsWithStale += stale.length > 0 ? 1 : 0;
  totals.repairedEqual += equal ? 1 : 0;
  const row = {
    trial: i + 1,
    kill_ms: killAtMs,
    stage,
    stale_gold: stale.length,
    marked: marked.length,
    stale_unmarked: unmarked.length,
    recorded_wrong: recordedWrong.length,
    silver_behind: silverBehind,
    repaired: repair.repaired.length,
    repaired_equal: equal ? 'yes' : 'NO',
  };
  rows.push(row);
  process.stderr.write(`trial ${i + 1}: ${JSON.stringify(row)}\n`);
}
if (dir) rmSync(dir, { recursive: true, force: true });

const out = [
  `## Lineage trials: cli run --events ${events} killed with SIGKILL at a random moment of its work, ${trials} trials, a fresh lakehouse every ${series}\n`,
  formatTable(rows),
  '',
  `trials: ${trials}; trials that left stale gold: ${totals.trialsWithStale}`,
  `gold tables left stale (rows ≠ SQL over the latest silver): ${totals.stale}; marked not up to date: ${totals.marked}; stale and unmarked: ${totals.unmarked}`,
  `gold tables whose rows differ from the silver version their log records: ${totals.recordedWrong}`,
  `silver tables left behind bronze: ${totals.silverBehind}`,
  `repaired (cli status --repair) and equal to an uninterrupted run (everything taken in, every gold = its SQL over silver): ${totals.repairedEqual}/${trials}`,
  `took ${((Date.now() - started) / 60_000).toFixed(1)} min`,
];
process.stdout.write(`${out.join('\n')}\n`);
if (failures.length) process.stderr.write(`${failures.join('\n')}\n`);
process.exit(failures.length ? 1 : 0);

/** A small seeded generator, so a run of trials can be repeated. */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

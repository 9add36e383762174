import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Engine } from '../engine/types.ts';
import { DEFAULT_START, generateEvents } from '../pipeline/generator/index.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { nodeEncoder } from './encoder.ts';
import { nodeProducer } from './producer.ts';
import { runBatch, type GoldResult, type RunSummary } from '../pipeline/lakehouse.ts';
import type { RepairResult } from '../pipeline/repair.ts';
import { RUN_DEFAULTS, runOptionProblem, type RunOptions } from '../pipeline/run-options.ts';
import { parseArgs, stringOption, UsageError, type Parsed } from './args.ts';
import { nodeContext, progressPrinter } from './context.ts';
import { readLines } from './lines.ts';

/** Where the tables go unless --out says otherwise. */
export const OUT_DIR = 'out/delta';

/** Takes one run's records through every layer: runBatch on the engine, or another engine's runner (spark.ts). */
export type BatchRunner = (ctx: PipelineContext, outDir: string, chunks: Iterable<string[]>, source: string, expected?: number) => Promise<RunSummary>;

const onEngine: BatchRunner = (ctx, _outDir, chunks, source, expected) => runBatch(ctx, chunks, source, expected);

export async function runCommand(argv: string[], engine: Engine, out: NodeJS.WritableStream, runner: BatchRunner = onEngine): Promise<void> {
  const args = parseArgs(argv, ['events', 'seed', 'days', 'invalid-rate', 'out']);
  if (args.positional.length) throw new UsageError(`run takes no positional arguments (got ${args.positional.join(' ')})`);
  const events = runOption(args, 'events', 'events');
  const seed = runOption(args, 'seed', 'seed');
  const days = runOption(args, 'days', 'days');
  const invalidRate = runOption(args, 'invalidRate', 'invalid-rate');
  const outDir = stringOption(args, 'out') ?? OUT_DIR;
  const end = Date.parse(DEFAULT_START) + days * 86_400_000;
  if (end > Date.now() + 86_400_000) {
    process.stderr.write(
      `note: the generated span ${DEFAULT_START} + ${days} days reaches past tomorrow; events stamped later than a day after ingestion are rejected by occurred_at_not_in_future\n`,
    );
  }
  const generate = { events, seed, days, invalidRate };
  const produced = runner === onEngine ? nodeProducer(generate) : undefined;
  const summary = await withEncoder(nodeContext(engine, outDir, progressPrinter()), runner, (ctx) =>
    produced ? runBatch(ctx, produced, 'generator', events) : runner(ctx, outDir, generateEvents(generate), 'generator', events),
  );
  out.write(formatSummary(summary, outDir));
}

/** `work` with a Parquet encoder thread in its context when the run is on this engine (another engine's runner writes its own files). */
async function withEncoder<T>(ctx: PipelineContext, runner: BatchRunner, work: (ctx: PipelineContext) => Promise<T>): Promise<T> {
  const encoder = runner === onEngine ? nodeEncoder() : undefined;
  try {
    return await work(encoder ? { ...ctx, encoder } : ctx);
  } finally {
    encoder?.close();
  }
}

/** `--flag value` as run option `key`, in the words the page uses too; its default when not given. */
function runOption(args: Parsed, key: keyof RunOptions, flag: string): number {
  const raw = args.options.get(flag);
  if (raw === undefined) return RUN_DEFAULTS[key];
  const value = raw === true ? NaN : Number(raw);
  const problem = runOptionProblem(key, value, String(raw));
  if (problem) throw new UsageError(`--${flag} ${problem}`);
  return value;
}

export async function ingestCommand(argv: string[], engine: Engine, out: NodeJS.WritableStream, runner: BatchRunner = onEngine): Promise<void> {
  const args = parseArgs(argv, ['out']);
  const [file, ...rest] = args.positional;
  if (!file || rest.length) throw new UsageError('usage: ingest FILE.jsonl [--out DIR]');
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${file} is not a readable file`);
  const outDir = stringOption(args, 'out') ?? OUT_DIR;
  const chunks = await readLines(createReadStream(file), file);
  const summary = await withEncoder(nodeContext(engine, outDir, progressPrinter()), runner, (ctx) => runner(ctx, outDir, chunks, `upload:${basename(file)}`));
  out.write(formatSummary(summary, outDir));
}

/** A gold table as a run left it: a new version, or the one already computed from the latest silver. */
export function formatGold(g: GoldResult): string {
  return g.current
    ? `  ${g.table.padEnd(30)} current at version ${g.version} (computed from silver/events v${g.input})`
    : `  ${g.table.padEnd(30)} version ${g.version}  ${g.rows} rows  (from silver/events v${g.input})`;
}

/** What finishing a stopped run did. */
export function formatRepair(r: RepairResult): string[] {
  // Behind means a run stopped early, or another process is in the middle of one (the CLI takes no lock).
  const lines = [`brought up to date first (${r.before.behind.join(', ')} were behind: a run stopped early, or another is under way):`];
  for (const b of r.silver) lines.push(`  silver took in bronze v${b.bronzeVersion} (${b.batchId}): ${b.silverRows} accepted, ${b.rejectedRows} rejected`);
  for (const g of r.gold) lines.push(formatGold(g));
  return lines;
}

export function formatSummary(s: RunSummary, outDir: string): string {
  const lines: string[] = [];
  if (s.repaired) lines.push(...formatRepair(s.repaired));
  lines.push(
    `batch ${s.bronze.batchId}: ${s.bronze.rows.toLocaleString('en-US')} records in ${s.seconds.toFixed(1)} s (${Math.round(s.bronze.rows / Math.max(s.seconds, 1e-3)).toLocaleString('en-US')} events/s) into ${outDir}`,
  );
  lines.push(`  bronze/events      version ${s.bronze.version}  +${s.bronze.rows} rows`);
  for (const b of s.silver) {
    if (b.silverRows + b.rejectedRows === 0) {
      lines.push(`  silver (bronze v${b.bronzeVersion}): nothing to validate, the batch holds no records`);
      continue;
    }
    lines.push(
      `  silver (bronze v${b.bronzeVersion}, ${b.batchId}): ${b.silverRows} accepted, ${b.rejectedRows} rejected` +
        ` (parse ${b.rejectsByStage.parse}, schema ${b.rejectsByStage.schema}, expectation ${b.rejectsByStage.expectation}, duplicate ${b.rejectsByStage.duplicate})`,
    );
    const reasons = Object.entries(b.rejectsByReason).sort((a, c) => c[1] - a[1]);
    if (reasons.length) lines.push(`    rejects by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    const warns = Object.entries(b.warnings);
    if (warns.length) lines.push(`    warnings (rows kept): ${warns.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  for (const g of s.gold) lines.push(formatGold(g));
  const t = s.timings;
  lines.push(
    `  seconds: load ${t.load.toFixed(2)}, generate ${t.generate.toFixed(2)}, bronze ${t.bronze.toFixed(2)}, silver ${t.silver.toFixed(2)}, gold ${t.gold.toFixed(2)}`,
  );
  return `${lines.join('\n')}\n`;
}

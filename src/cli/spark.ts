import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CodedError } from '../errors.ts';
import { writeBronze, type BronzeResult } from '../pipeline/bronze.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { MAX_BATCH_ROWS, type GoldResult, type RunSummary, type StageTimings } from '../pipeline/lakehouse.ts';
import type { SilverBatchResult } from '../pipeline/silver/index.ts';

/**
 * `--engine spark`: the batch goes to bronze here, as with every engine (same writer, same
 * commits), then the Spark runner (spark/run_runner.py, PySpark + delta-spark in local mode)
 * brings silver and gold up to date from bronze, in a Python process of its own.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SETUP = 'bash spark/setup.sh';

/** The Spark runner cannot start here: its Python packages or Java are missing. */
export class SparkNotInstalledError extends CodedError {
  static readonly code = 'SPARK_NOT_INSTALLED';
  override name = 'SparkNotInstalledError';
}

/** The Spark runner stopped with an error (`runnerCode` is its kind, e.g. EXPECTATION_FAILED). */
export class SparkRunnerError extends CodedError {
  static readonly code = 'SPARK_RUNNER_FAILED';
  override name = 'SparkRunnerError';
  constructor(
    message: string,
    readonly runnerCode: string,
  ) {
    super(message);
  }
}

/** What the runner prints as its last stdout line with --summary-json. */
interface RunnerSummary {
  silver: SilverBatchResult[];
  gold: GoldResult[];
  seconds: number;
  timings: { startup: number; silver: number; gold: number };
  engine: string;
  error?: { code: string; message: string };
}

/** The Python of the runner's venv; an error saying how to install it when it is not there. */
export function sparkPython(): string {
  const python = process.env.LAKEHOUSE_SPARK_PYTHON || join(ROOT, 'spark/.venv/bin/python');
  if (!existsSync(python)) {
    throw new SparkNotInstalledError(
      `--engine spark needs the Spark runner's Python packages, and ${python} does not exist: run \`${SETUP}\` ` +
        '(installs pinned pyspark, delta-spark, sqlglot … into spark/.venv; needs Python 3.11 and Java 17), then run this again',
    );
  }
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).error) {
    throw new SparkNotInstalledError(
      '--engine spark needs Java 17 for Spark, and java is not on PATH: install a JDK 17 (e.g. apt-get install -y openjdk-17-jre-headless)',
    );
  }
  return python;
}

/** One run: the records to bronze (a commit per MAX_BATCH_ROWS), then silver and gold on Spark. */
export async function runBatchOnSpark(
  ctx: PipelineContext,
  outDir: string,
  chunks: Iterable<string[]>,
  source: string,
  expected?: number,
): Promise<RunSummary> {
  const python = sparkPython();
  const started = performance.now();
  const since = (t: number): number => (performance.now() - t) / 1000;
  const timings: StageTimings = { load: 0, generate: 0, bronze: 0, silver: 0, gold: 0 };
  const batches: BronzeResult[] = [];
  const source$ = new BatchSplitter(chunks[Symbol.iterator](), MAX_BATCH_ROWS, timings);
  let lines = 0;
  let t = performance.now();
  do {
    const generatedBefore = timings.generate;
    const bronze = await writeBronze(ctx, source$.batch(), source, expected, { firstLine: lines + 1 });
    batches.push(bronze);
    lines += bronze.rows;
    timings.bronze += since(t) - (timings.generate - generatedBefore);
    t = performance.now();
  } while (!source$.done);

  const summary = await runSparkRunner(python, outDir, ctx.onProgress);
  timings.load = summary.timings.startup;
  timings.silver = summary.timings.silver;
  timings.gold = summary.timings.gold;
  return {
    bronze: { batchId: batches[0]!.batchId, version: batches.at(-1)!.version, rows: lines },
    bronzeBatches: batches,
    silver: summary.silver,
    gold: summary.gold,
    seconds: since(started),
    timings,
  };
}

/** Start the runner on `outDir` and wait for it: its progress to `onProgress`, its summary back. */
export function runSparkRunner(python: string, outDir: string, onProgress?: (p: Progress) => void): Promise<RunnerSummary> {
  const args = [
    join(ROOT, 'spark/run_runner.py'),
    '--lakehouse',
    resolve(outDir),
    '--project',
    ROOT,
    '--summary-json',
    '--master',
    process.env.LAKEHOUSE_SPARK_MASTER || 'local[*]',
    '--driver-memory',
    process.env.LAKEHOUSE_SPARK_DRIVER_MEMORY || '4g',
  ];
  return new Promise((done, fail) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    const tail: string[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (line.startsWith('@progress ')) onProgress?.(JSON.parse(line.slice('@progress '.length)) as Progress);
        else if (line.trim()) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
        }
      }
    });
    child.on('error', (err) => fail(new SparkRunnerError(`spark: could not start ${python}: ${err.message}`, 'START')));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let summary: RunnerSummary | undefined;
      try {
        summary = JSON.parse(last) as RunnerSummary;
      } catch {
        summary = undefined;
      }
      if (summary?.error) return fail(new SparkRunnerError(`spark: ${summary.error.message}`, summary.error.code));
      if (code !== 0 || !summary) {
        return fail(new SparkRunnerError(`spark: the runner exited with status ${code} without a summary; its last output:\n${tail.join('\n')}`, 'EXIT'));
      }
      done(summary);
    });
  });
}

/** The chunks as consecutive batches of at most `max` lines; a chunk across the limit is split. */
class BatchSplitter {
  done = false;
  private pending: string[] | undefined;

  constructor(
    private readonly inner: Iterator<string[]>,
    private readonly max: number,
    private readonly timings: StageTimings,
  ) {}

  private next(): string[] | undefined {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    const t = performance.now();
    const r = this.inner.next();
    this.timings.generate += (performance.now() - t) / 1000;
    if (r.done) this.done = true;
    return r.done ? undefined : r.value;
  }

  *batch(): Generator<string[]> {
    let taken = 0;
    while (taken < this.max) {
      const chunk = this.next();
      if (!chunk) return;
      if (taken + chunk.length > this.max) {
        this.pending = chunk.slice(this.max - taken);
        yield chunk.slice(0, this.max - taken);
        return;
      }
      taken += chunk.length;
      yield chunk;
    }
    // exactly full: look ahead, so that a source that just ended makes no empty batch
    const chunk = this.next();
    if (chunk) this.pending = chunk;
  }
}

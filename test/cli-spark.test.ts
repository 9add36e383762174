import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/types.ts';
import { runCommand } from '../src/cli/run.ts';
import { runBatchOnSpark, runSparkRunner, SparkNotInstalledError, SparkRunnerError, sparkPython } from '../src/cli/spark.ts';
import type { Progress } from '../src/pipeline/context.ts';
import { testEngine } from './helpers/engine.ts';

// The runner itself (Python, Spark) is tested in the interop suite (interop/test_spark_runner.py);
// here, what the CLI does around it: refusing early when it is not installed, and its protocol.

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});
const saved = process.env.LAKEHOUSE_SPARK_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.LAKEHOUSE_SPARK_PYTHON;
  else process.env.LAKEHOUSE_SPARK_PYTHON = saved;
});

const sink = () => new Writable({ write: (_c, _e, done) => done() });

/** An executable standing in for the venv's python: prints `stderr` and `stdout`, exits `code`. */
function fakePython(dir: string, stderr: string, stdout: string, code = 0): string {
  const file = join(dir, 'python');
  writeFileSync(file, `#!/bin/sh\ncat <<'ERR' >&2\n${stderr}\nERR\ncat <<'OUT'\n${stdout}\nOUT\nexit ${code}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('cli --engine spark', () => {
  it('says how to install the runner when its venv is missing, before anything is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spark-missing-'));
    process.env.LAKEHOUSE_SPARK_PYTHON = join(dir, 'no-venv', 'python');
    expect(() => sparkPython()).toThrow(SparkNotInstalledError);
    expect(() => sparkPython()).toThrow(
      `--engine spark needs the Spark runner's Python packages, and ${join(dir, 'no-venv', 'python')} does not exist: run \`bash spark/setup.sh\``,
    );
    const out = join(dir, 'lake');
    await expect(runCommand(['--events', '50', '--out', out], engine, sink(), runBatchOnSpark)).rejects.toThrow(SparkNotInstalledError);
    expect(existsSync(join(out, 'bronze'))).toBe(false);
  });

  it("hands the runner's progress on and takes its summary", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spark-fake-'));
    const summary = {
      silver: [],
      gold: [{ table: 'gold/engagement_bands', version: 3, rows: 4 }],
      seconds: 1.5,
      timings: { startup: 1, silver: 0.2, gold: 0.3 },
      engine: 'Spark 4.2.0',
    };
    const python = fakePython(
      dir,
      [':: loading settings :: Ivy', '@progress {"stage":"gold","done":1,"total":6,"message":"engagement_bands"}'].join('\n'),
      JSON.stringify(summary),
    );
    const seen: Progress[] = [];
    expect(await runSparkRunner(python, dir, (p) => seen.push(p))).toEqual(summary);
    expect(seen).toEqual([{ stage: 'gold', done: 1, total: 6, message: 'engagement_bands' }]);
  });

  it("turns the runner's error into a SparkRunnerError with its code, or its last output when it has none", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spark-fail-'));
    const failed = fakePython(
      dir,
      'error: …',
      JSON.stringify({ error: { code: 'EXPECTATION_FAILED', message: 'batch b stopped: expectation x (action fail) was violated by 1 row' } }),
      1,
    );
    const err = await runSparkRunner(failed, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SparkRunnerError);
    expect((err as SparkRunnerError).runnerCode).toBe('EXPECTATION_FAILED');
    expect((err as Error).message).toBe('spark: batch b stopped: expectation x (action fail) was violated by 1 row');
    const crashed = fakePython(dir, 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', '', 137);
    await expect(runSparkRunner(crashed, dir)).rejects.toThrow(
      'spark: the runner exited with status 137 without a summary; its last output:\nException in thread "main" java.lang.OutOfMemoryError: Java heap space',
    );
  });
});

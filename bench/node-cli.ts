import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parquetBytes } from './native-reference.ts';
import type { BenchResult } from './result.ts';
import { sampleTreeMemory } from './tree-memory.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * Run a Node script (TypeScript through tsx) with the peak-RSS hook; its stdout, its peak, and
 * the peak of its whole process tree (the processes it starts included).
 */
export async function runNode(
  args: string[],
  timeoutMs = 60 * 60_000,
): Promise<{ stdout: string; stderr: string; peakRssBytes: number | null; tree: { peakBytes: number | null; peakJvmBytes: number | null } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './bench/report-rss.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = sampleTreeMemory(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  clearTimeout(timer);
  const tree = sampler.stop();
  if (code !== 0) throw new Error(`bench: node ${args.join(' ')} exited with ${code}:\n${stderr.slice(-3000)}`);
  const rss = /BENCH_PEAK_RSS_BYTES=(\d+)/.exec(stderr);
  return { stdout, stderr, peakRssBytes: rss ? Number(rss[1]) : null, tree };
}

/** `cli run --events N` into a fresh folder, on DuckDB-WASM (the default), native DuckDB or Spark (local mode). */
export async function nodeCliRun(events: number, seed: number, outDir: string, engine: 'wasm' | 'native' | 'spark'): Promise<BenchResult> {
  rmSync(outDir, { recursive: true, force: true });
  // Spark's own memory is the runner's JVM and Python workers', which only the tree's figure sees.
  const { stdout, peakRssBytes, tree } = await runNode([
    'src/cli/main.ts',
    'run',
    '--events',
    String(events),
    '--seed',
    String(seed),
    '--out',
    outDir,
    ...(engine === 'wasm' ? [] : ['--engine', engine]),
  ]);
  const total = /records in ([\d.]+) s/.exec(stdout);
  const stages = /seconds: load ([\d.]+), generate ([\d.]+), bronze ([\d.]+), silver ([\d.]+), gold ([\d.]+)/.exec(stdout);
  if (!total) throw new Error(`bench: cannot read the time of cli run:\n${stdout}`);
  // An older cli run (a baseline checkout) prints only the total.
  const [load, generate, bronze, silver, gold] = stages ? (stages.slice(1).map(Number) as [number, number, number, number, number]) : [];
  const result: BenchResult = {
    mode: engine === 'wasm' ? 'node-wasm' : engine === 'native' ? 'node-native-engine' : 'spark-local',
    events,
    seconds: { total: Number(total[1]), load, generate, bronze, silver, gold },
    parquetBytes: parquetBytes(outDir),
    peakWasmBytes: null,
    peakJsHeapBytes: null,
    peakRssBytes: engine === 'spark' ? tree.peakBytes : peakRssBytes,
    notes:
      engine === 'spark'
        ? [
            `peak RSS is the process tree's Pss (Node CLI, Spark's JVM, Python workers), sampled every 0.5 s; the JVM's share ${tree.peakJvmBytes === null ? '—' : `${(tree.peakJvmBytes / 1e6).toFixed(0)} MB`}, the CLI's own peak RSS ${peakRssBytes === null ? '—' : `${(peakRssBytes / 1e6).toFixed(0)} MB`}`,
          ]
        : undefined,
  };
  rmSync(outDir, { recursive: true, force: true });
  return result;
}

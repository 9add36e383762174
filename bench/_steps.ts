import { openNodeEngine } from '/work/main/src/engine/node.ts';
import { initParquet } from '/work/main/src/parquet/node.ts';
import { nodeContext } from '/work/main/src/cli/context.ts';
import { runBatch } from '/work/main/src/pipeline/lakehouse.ts';
import { generateEvents } from '/work/main/src/pipeline/generator.ts';
import type { Engine } from '/work/main/src/engine/types.ts';
const n = Number(process.argv[2] ?? 200000);
const out = process.argv[3] ?? '/tmp/steps';
initParquet();
const inner = await openNodeEngine();
const times = new Map<string, [number, number]>();
const key = (m: string, s: string) => `${m} ${s.replace(/\s+/g, ' ').trim().slice(0, 70)}`;
const wrap = <F extends (...a: any[]) => any>(m: string, f: F, k: (...a: any[]) => string): F => ((...a: any[]) => {
  const t = performance.now(); try { return f(...a); } finally { const kk = key(m, k(...a)); const e = times.get(kk) ?? [0, 0]; e[0] += performance.now() - t; e[1]++; times.set(kk, e); }
}) as F;
const engine: Engine = {
  run: wrap('run', inner.run, (s) => s), query: wrap('query', inner.query, (s) => s), queryIPC: wrap('queryIPC', inner.queryIPC, (s) => s),
  rows: wrap('rows', inner.rows, (s) => s), insertIPC: wrap('insertIPC', inner.insertIPC, (n) => n), close: inner.close,
};
const ctx = nodeContext(engine, out);
const stageT: Record<string, number> = {}; let last = performance.now(); let lastStage = 'start';
ctx.onProgress = (p) => { if (p.stage !== lastStage) { const t = performance.now(); stageT[lastStage] = (stageT[lastStage] ?? 0) + t - last; last = t; lastStage = p.stage; } };
const t0 = performance.now();
const s = await runBatch(ctx, generateEvents({ events: n, seed: 42, days: 60, invalidRate: 0.01 }), 'generator', n);
stageT[lastStage] = (stageT[lastStage] ?? 0) + performance.now() - last;
console.log('total', ((performance.now() - t0) / 1000).toFixed(2), 'stages', Object.fromEntries(Object.entries(stageT).map(([k, v]) => [k, (v / 1000).toFixed(2)])));
const all = [...times].sort((a, b) => b[1][0] - a[1][0]);
let sum = 0; for (const [, [t]] of all) sum += t;
console.log('engine total', (sum / 1000).toFixed(2));
for (const [k, [t, c]] of all.slice(0, 25)) console.log((t / 1000).toFixed(2).padStart(7), String(c).padStart(4), k);

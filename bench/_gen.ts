import { generateEvents } from '../src/pipeline/generator.ts';
const N = Number(process.argv[2] ?? 300000);
const t = performance.now(); let n = 0; let h = 0;
for (const c of generateEvents({ events: N, seed: 42, days: 60, invalidRate: 0.01 })) for (const l of c) { n++; h = (h * 31 + l.length) | 0; }
console.log('generate', N, ((performance.now() - t) / 1000).toFixed(2), h);

import { generateEvents } from '/work/main/src/pipeline/generator.ts';
import { checkLine } from '/work/main/src/pipeline/contract.ts';
const N = 1_000_000;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }; let c0 = cpu(); let t = performance.now(); const lines: string[] = [];
for (const c of generateEvents({ events: N, seed: 42, days: 60, invalidRate: 0.01 })) for (const l of c) lines.push(l);
console.log('generate', ((performance.now() - t) / 1000).toFixed(2), 'cpu', (cpu() - c0).toFixed(2)); c0 = cpu(); (0);
t = performance.now(); c0 = cpu(); let ok = 0;
for (let i = 0; i < lines.length; i++) { try { JSON.parse(lines[i]!); ok++; } catch {} }
console.log('JSON.parse', ((performance.now() - t) / 1000).toFixed(2), 'cpu', (cpu() - c0).toFixed(2)); c0 = cpu(); (0);
t = performance.now(); c0 = cpu(); ok = 0;
for (let i = 0; i < lines.length; i++) if (checkLine(lines[i]!, i).ok) ok++;
console.log('checkLine', ((performance.now() - t) / 1000).toFixed(2), 'cpu', (cpu() - c0).toFixed(2)); c0 = cpu(); (0, ok);
const enc = new TextEncoder(); const buf = new Uint8Array(400 * N); let at = 0;
t = performance.now(); c0 = cpu(); for (const l of lines) at += enc.encodeInto(l, buf.subarray(at)).written;
console.log('encodeInto', ((performance.now() - t) / 1000).toFixed(2), 'cpu', (cpu() - c0).toFixed(2)); c0 = cpu(); (0, at);
const dec = new TextDecoder(); 
t = performance.now(); c0 = cpu(); let off = 0; let s = 0; for (const l of lines) { const n = l.length; s += dec.decode(buf.subarray(off, off + n)).length; off += n; }
console.log('decode per value', ((performance.now() - t) / 1000).toFixed(2), 'cpu', (cpu() - c0).toFixed(2)); c0 = cpu(); (0);

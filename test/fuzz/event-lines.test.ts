import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { runBatch } from '../../src/pipeline/lakehouse.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import { testEngine } from '../helpers/engine.ts';
import { pipelineContext } from '../helpers/pipeline.ts';
import { byteMutation, hostileValue, mutateBytes, mutateJson, type ByteMutation } from './tables.ts';

/**
 * Event lines nobody validated: real generator lines with a value changed, a key removed, bytes
 * flipped or cut, or replaced by arbitrary text. Every line of a batch lands in silver or in
 * rejects — none lost, none counted twice — and the run never throws.
 */

const RUNS = Math.max(5, Math.round(Number(process.env.FUZZ_RUNS ?? 40) / 4));
const params = { numRuns: RUNS, seed: process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED), endOnFailure: true };

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

const base = [...generateEvents({ events: 200, seed: 3, days: 10, invalidRate: 0 })].flat();

const lineMutation = fc.oneof(
  fc.record({ kind: fc.constant('value' as const), place: fc.nat(), value: hostileValue, remove: fc.boolean() }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: byteMutation }),
  fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 200 }) }),
);

type LineMutation = { kind: 'value'; place: number; value: unknown; remove: boolean } | { kind: 'bytes'; bytes: ByteMutation } | { kind: 'text'; text: string };

function mutateLine(line: string, m: LineMutation): string {
  if (m.kind === 'text') return m.text.replaceAll('\n', ' ');
  if (m.kind === 'bytes') return new TextDecoder().decode(mutateBytes(new TextEncoder().encode(line), m.bytes)).replaceAll('\n', ' ');
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return line; // mangled by an earlier mutation already
  }
  return JSON.stringify(mutateJson(event, m.place, m.value, m.remove));
}

describe('fuzzing event lines', () => {
  it(
    'every mutated line lands in silver or rejects, and the run completes',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(), lineMutation), { minLength: 1, maxLength: 30 }), async (mutations) => {
          const lines = base.slice(0, 60);
          for (const [at, m] of mutations) lines[at % lines.length] = mutateLine(lines[at % lines.length]!, m as LineMutation);
          const summary = await runBatch(pipelineContext(engine, new MemoryStorage()), [lines], 'fuzz');
          expect(summary.bronze.rows).toBe(lines.length);
          const [batch] = summary.silver;
          expect(batch!.silverRows + batch!.rejectedRows).toBe(lines.length);
        }),
        params,
      );
    },
    60_000 + RUNS * 1_000,
  );
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { testEngine } from '../helpers/engine.ts';
import {
  FUZZ_TABLES,
  WatchedStorage,
  byteMutation,
  commitMutation,
  filesOf,
  fixtureFiles,
  isCheckpoint,
  isCommit,
  isData,
  isDeletionVector,
  mutateBytes,
  describeTally,
  mutateCommit,
  readEverything,
} from './tables.ts';

/**
 * Real tables with one thing changed — a value in a commit, bytes of a commit, a checkpoint or a
 * Parquet footer — each read as the explorer and the CLI read it: it reads, or it is refused with a
 * sentence naming the table; never a bare TypeError, a stack trace, a hang or a read outside it.
 * FUZZ_RUNS sets the cases per property (CI: the default; `npm run fuzz` runs many more).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };
// Long runs (npm run fuzz) need time in proportion; a hang still fails.
const TIMEOUT = 60_000 + RUNS * 200;

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});
afterAll(() => console.log(`fuzzing real tables (${RUNS} runs per property): ${describeTally()}`));

const tables = FUZZ_TABLES.map((name) => ({ name, files: fixtureFiles(name) }));
const filesByName = new Map(tables.map((t) => [t.name, t.files]));
// Names, not contents, so that a counterexample prints short.
const table = fc.constantFrom(...FUZZ_TABLES);

describe('fuzzing real tables', () => {
  it(
    'a value changed in a commit (path, size, partition value, schema, stats, protocol…)',
    async () => {
      await fc.assert(
        fc.asyncProperty(table, fc.nat(), commitMutation, async (name, which, m) => {
          const files = filesByName.get(name)!;
          const commits = filesOf(files, isCommit);
          const path = commits[which % commits.length]!;
          const mutated = new Map(files);
          mutated.set(path, new TextEncoder().encode(mutateCommit(new TextDecoder().decode(files.get(path)), m)));
          await readEverything(new WatchedStorage(mutated), engine);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  it(
    'bytes changed in a commit, a checkpoint, a data file or a deletion vector file',
    async () => {
      await fc.assert(
        fc.asyncProperty(table, fc.constantFrom('commit', 'checkpoint', 'data', 'deletionVector'), fc.nat(), byteMutation, async (name, kind, which, m) => {
          const files = filesByName.get(name)!;
          const candidates = filesOf(files, { commit: isCommit, checkpoint: isCheckpoint, data: isData, deletionVector: isDeletionVector }[kind]);
          if (candidates.length === 0) return;
          const path = candidates[which % candidates.length]!;
          const mutated = new Map(files);
          mutated.set(path, mutateBytes(files.get(path)!, m));
          await readEverything(new WatchedStorage(mutated), engine);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  it('an untouched table reads at every version (the property is not vacuous)', async () => {
    for (const { name, files } of tables) {
      const outcomes = await readEverything(new WatchedStorage(files), engine);
      expect(
        outcomes.filter((o) => 'refused' in o),
        name,
      ).toEqual([]);
    }
  });
});

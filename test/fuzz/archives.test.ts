import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.ts';
import { unzip } from '../../src/unzip.ts';
import { type ZipEntry, zip } from '../../src/zip.ts';
import { testEngine } from '../helpers/engine.ts';
import { deflated, rawBytes } from '../helpers/raw-zip.ts';
import { FUZZ_TABLES, WatchedStorage, byteMutation, describeTally, fixtureFiles, mutateBytes, notASentence, readEverything, tally } from './tables.ts';

/**
 * Zips of real tables (stored, as the export writes them, and deflated, as other tools do) with
 * bytes changed, cut or inserted: the reader opens the archive and the table in it, or refuses
 * with a sentence naming the archive; what it does open is then read as the explorer reads it.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const params = { numRuns: RUNS, seed: process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED), endOnFailure: true };

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});
afterAll(() => console.log(`fuzzing archives (${RUNS} runs): ${describeTally()}`));

const archives = new Map(
  FUZZ_TABLES.map((name) => {
    const files = [...fixtureFiles(name)];
    const stored = zip(files.map(([path, data]) => ({ name: `t/${path}`, data })));
    return [name, { stored, deflated: rawBytes(files.map(([path, data]) => deflated(`t/${path}`, data))) }] as const;
  }),
);

describe('fuzzing archives', () => {
  it(
    'a zip of a real table with bytes changed opens and reads, or is refused with a sentence',
    async () => {
      let opened = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...FUZZ_TABLES), fc.constantFrom('stored' as const, 'deflated' as const), byteMutation, async (name, kind, m) => {
          const bytes = mutateBytes(archives.get(name)![kind], m);
          let entries: Required<ZipEntry>[];
          try {
            entries = await unzip(bytes, 'fuzz.zip');
          } catch (err) {
            const why = notASentence(err, 'fuzz.zip');
            if (why) throw new Error(why, { cause: err });
            const kind = `${(err as Error).name} (archive)`;
            tally.refusals.set(kind, (tally.refusals.get(kind) ?? 0) + 1);
            return;
          }
          opened++;
          const files = new Map(entries.filter((e) => e.name.startsWith('t/')).map((e) => [e.name.slice(2), e.data]));
          await readEverything(new WatchedStorage(files), engine);
        }),
        // Whatever the seed, some cases reach the table reader: a changed modification time (bytes 10-13
        // of the first local header) is not covered by any checksum, so that archive opens.
        {
          ...params,
          examples: FUZZ_TABLES.map((name): [string, 'stored', { kind: 'flip'; at: number[]; to: number[] }] => [
            name,
            'stored',
            { kind: 'flip', at: [10, 11], to: [0x21, 0x43, 0, 0, 0, 0, 0, 0] },
          ]),
        },
      );
      expect(opened).toBeGreaterThanOrEqual(FUZZ_TABLES.length);
    },
    60_000 + RUNS * 300,
  );
});

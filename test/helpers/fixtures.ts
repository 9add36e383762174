import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The reference Delta tables written by Spark and delta-rs (see test/fixtures/delta/README.md). */
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'delta');

/** One reference table of `cases.json`: its folder, and per version its row count and expected rows. */
export interface FixtureCase {
  name: string;
  table: string;
  latest: number;
  versions: { version: number; rows: number; files: number; expected: string; readable?: boolean }[];
}

/** Every reference table `cases.json` lists. */
export const FIXTURE_CASES: FixtureCase[] = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: FixtureCase[] }).cases;

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { openNodeEngine } from '../../src/engine/node.ts';
import { FUNCTIONS, KEYWORDS, TYPES } from '../../src/ui/sql-words.ts';
import { sqlWordsSource, WORDS_FILE } from '../../scripts/sql-words.ts';

test("the console editor's words are the engine's own (regenerate with `npx tsx scripts/sql-words.ts`)", async () => {
  expect(readFileSync(WORDS_FILE, 'utf8')).toBe(sqlWordsSource(await openNodeEngine()));
  expect(KEYWORDS.split(' ')).toEqual(expect.arrayContaining(['select', 'summarize', 'describe', 'qualify', 'pivot', 'asof']));
  expect(TYPES.split(' ')).toEqual(expect.arrayContaining(['varchar', 'hugeint', 'timestamptz', 'struct']));
  expect(FUNCTIONS.split(' ')).toEqual(expect.arrayContaining(['count', 'arg_max', 'list_aggregate', 'strftime']));
  expect(FUNCTIONS.split(' ')).not.toContain('read_parquet');
});

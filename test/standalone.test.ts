import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', 'out', '.tmp', '.git', 'test-results', '.venv']);
// Spelled in two parts so that this file does not name the folder itself.
const OUTSIDE = ['..', '/shared'].join('');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name) || name.startsWith('.venv')) return [];
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

test('no file of the project reads or points at a folder beside it', () => {
  const offenders = files(ROOT)
    .filter((f) => /\.(ts|mts|mjs|js|svelte|json|md|py|sh|yml|yaml|toml|html)$/.test(f) || f.endsWith('/run'))
    .filter((f) => readFileSync(f, 'utf8').includes(OUTSIDE))
    .map((f) => relative(ROOT, f));
  expect(offenders).toEqual([]);
});

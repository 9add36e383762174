import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * The layer map of docs/architecture.md, checked: each module of src/ may import only from its
 * own layer and the layers listed for it, and no module imports itself back through others.
 */
const LAYERS: Record<string, string[]> = {
  errors: [],
  zip: ['errors'],
  storage: ['errors', 'zip'],
  parquet: ['errors'],
  engine: ['errors'],
  delta: ['errors', 'zip', 'storage', 'parquet', 'engine'],
  pipeline: ['errors', 'storage', 'parquet', 'engine', 'delta'],
  cli: ['errors', 'zip', 'storage', 'parquet', 'engine', 'delta', 'pipeline'],
  worker: ['errors', 'zip', 'storage', 'parquet', 'engine', 'delta', 'pipeline'],
  // The page sees the worker only through its protocol (boot.ts starts it, main.ts connects to it), and the
  // pipeline only for its table names.
  ui: ['worker/protocol.ts', 'pipeline/tables.ts'],
};

function layerOf(file: string): string {
  if (file === 'errors.ts') return 'errors';
  if (['zip.ts', 'zip-names.ts', 'unzip.ts'].includes(file)) return 'zip';
  if (['App.svelte', 'main.ts', 'boot.ts'].includes(file) || file.startsWith('ui/')) return 'ui';
  return file.split('/')[0]!;
}

function sources(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path, root);
    return /\.(ts|svelte)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [relative(root, path)] : [];
  });
}

/** Relative imports of one module (static, dynamic, re-exports) as paths under src/; `import type` only when `types`. */
function importsOf(file: string, types: boolean): string[] {
  const text = readFileSync(join('src', file), 'utf8');
  const found = [...text.matchAll(/(\bimport\s+type\b[^'"]*?\bfrom\s*|\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"?]+)(?:\?[^'"]*)?['"]/g)];
  return found.filter((m) => types || !m[1]!.startsWith('import type')).map((m) => normalize(join(dirname(file), m[2]!)));
}

const FILES = sources('src');
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f, true).filter((t) => FILES.includes(t))]));
// Cycles that matter are those of values: a type-only import is gone once compiled.
const VALUE_GRAPH = new Map(FILES.map((f) => [f, importsOf(f, false).filter((t) => FILES.includes(t))]));

function allowed(from: string, to: string): boolean {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === b) return true;
  if (from === 'main.ts' && to === 'worker/client.ts') return true;
  if ((from === 'boot.ts' || from === 'main.ts') && to === 'worker/spawn.ts') return true;
  return LAYERS[a]!.some((rule) => rule === b || rule === to);
}

describe('architecture', () => {
  test('the source tree is what the map covers', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect([...new Set(FILES.map(layerOf))].sort()).toEqual(Object.keys(LAYERS).sort());
  });

  test('no import goes against the layer map', () => {
    const wrong = [...GRAPH].flatMap(([from, tos]) => tos.filter((to) => !allowed(from, to)).map((to) => `${from} → ${to}`));
    expect(wrong).toEqual([]);
  });

  test('the check sees a wrong import', () => {
    expect(allowed('delta/writer.ts', 'pipeline/silver/index.ts')).toBe(false);
    expect(allowed('ui/Explorer.svelte', 'worker/catalog.ts')).toBe(false);
    expect(allowed('ui/Explorer.svelte', 'worker/protocol.ts')).toBe(true);
  });

  test('no import cycle between modules (type-only imports aside)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of VALUE_GRAPH.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of FILES) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  test('the folders of the pipeline (silver/, generator/) are entered through their index.ts', () => {
    const folders = ['pipeline/silver/', 'pipeline/generator/'];
    const wrong = [...GRAPH].flatMap(([from, tos]) =>
      tos.filter((to) => folders.some((d) => to.startsWith(d) && !from.startsWith(d) && to !== `${d}index.ts`)).map((to) => `${from} → ${to}`),
    );
    expect(wrong).toEqual([]);
    expect(FILES.filter((f) => folders.some((d) => f.startsWith(d))).length).toBeGreaterThan(10);
  });
});

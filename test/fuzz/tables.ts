import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { loadHistory, loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { readRows } from '../../src/delta/rows.ts';
import { pruneFiles } from '../../src/delta/skipping.ts';
import { Catalog } from '../../src/worker/catalog.ts';
import type { Engine } from '../../src/engine/types.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import type { FileInfo, Storage } from '../../src/storage/types.ts';
import { FIXTURES } from '../helpers/fixtures.ts';

/**
 * Shared by the fuzz tests (test/fuzz/*.test.ts, a minute of CI) and `npm run fuzz` (a longer run
 * that prints a figure): real tables, mutated, must each read or be refused with a sentence.
 */

/** The files of a fixture table, by path relative to the table. */
export function fixtureFiles(name: string): Map<string, Uint8Array> {
  const root = join(FIXTURES, name, 'delta');
  const out = new Map<string, Uint8Array>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(relative(root, full), new Uint8Array(readFileSync(full)));
    }
  };
  walk(root);
  return out;
}

export const TABLE = 'lake/table';

/**
 * A memory storage holding one table at `lake/table`, which records every path it is asked for:
 * anything outside the table is a failure of the property, whatever the reader made of it.
 */
export class WatchedStorage implements Storage {
  readonly inner: MemoryStorage;
  readonly outside: string[] = [];
  readonly description = 'fuzz';

  constructor(files: Map<string, Uint8Array>) {
    this.inner = new MemoryStorage('fuzz');
    for (const [path, data] of files) void this.inner.write(`${TABLE}/${path}`, data);
  }

  private watch(path: string): void {
    if (path !== TABLE && !path.startsWith(`${TABLE}/`)) this.outside.push(path);
  }
  read(path: string): Promise<Uint8Array> {
    this.watch(path);
    return this.inner.read(path);
  }
  readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    this.watch(path);
    return this.inner.readRange(path, offset, length);
  }
  write(path: string, data: Uint8Array): Promise<void> {
    this.watch(path);
    return this.inner.write(path, data);
  }
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean> {
    this.watch(path);
    return this.inner.putIfAbsent(path, data);
  }
  list(dir: string): Promise<FileInfo[]> {
    this.watch(dir);
    return this.inner.list(dir);
  }
  stat(path: string): Promise<FileInfo | undefined> {
    this.watch(path);
    return this.inner.stat(path);
  }
  delete(path: string): Promise<void> {
    this.watch(path);
    return this.inner.delete(path);
  }
  deleteDir(dir: string): Promise<void> {
    this.watch(dir);
    return this.inner.deleteDir(dir);
  }
}

const GENERIC = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError', 'InternalError']);

/** Why `err` is not a refusal a user can read, or undefined when it is one. */
export function notASentence(err: unknown, names: string): string | undefined {
  if (!(err instanceof Error)) return `threw a non-Error: ${String(err)}`;
  if (GENERIC.has(err.name)) return `threw a bare ${err.name}: ${err.message}`;
  if (err.message.trim() === '') return `threw ${err.name} with no message`;
  if (/\n\s+at /.test(err.message)) return `the message holds a stack trace: ${err.message}`;
  if (!err.message.includes(names)) return `the message does not name the table (${names}): ${err.message}`;
  return undefined;
}

export type Outcome = { read: number } | { refused: string };

/** What the fuzzing saw, for the figure it prints: reads, and refusals by the error's name. */
export const tally = { cases: 0, reads: 0, refusals: new Map<string, number>() };

export function describeTally(): string {
  const refused = [...tally.refusals]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `${tally.cases} mutated tables; ${tally.reads} reads succeeded; refusals: ${refused || 'none'}; 0 crashes, 0 reads outside the table`;
}

/** Everything the explorer and `cli read`/`cli log` do with a table: history, each version's rows. */
export async function readEverything(storage: WatchedStorage, engine: Engine): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  tally.cases++;
  const attempt = async (step: () => Promise<number>): Promise<void> => {
    try {
      outcomes.push({ read: await step() });
      tally.reads++;
    } catch (err) {
      const why = notASentence(err, `fuzz/${TABLE}`);
      if (why) throw new Error(why, { cause: err });
      outcomes.push({ refused: (err as Error).message });
      tally.refusals.set((err as Error).name, (tally.refusals.get((err as Error).name) ?? 0) + 1);
    }
  };
  await attempt(async () => (await loadHistory(storage, TABLE)).length);
  // The explorer: the table's facts and history, and each commit's actions.
  const catalog = new Catalog(storage, [TABLE]);
  await attempt(async () => (await catalog.details(TABLE)).dataFiles.length);
  let latest = -1;
  await attempt(async () => {
    const s = await loadSnapshot(storage, TABLE);
    latest = s.version;
    return s.files.length;
  });
  for (let v = 0; v <= Math.min(latest, 12); v++) {
    await attempt(async () => {
      await catalog.commit(TABLE, v).catch((err: unknown) => {
        if (!/has no commit file/.test((err as Error).message)) throw err;
      });
      const s = await loadSnapshot(storage, TABLE, v);
      // File skipping reads every file's stats and partition values.
      for (const f of s.schema.fields) {
        pruneFiles(s, [
          { column: f.name, op: '=', value: 1 },
          { column: f.name, op: '>=', value: 'a' },
          { column: f.name, op: 'is null' },
        ]);
      }
      const n = await scanIntoEngine(engine, storage, s, 'fuzz_rows');
      const rows = await readRows(storage, s);
      if (rows && rows.length !== n) throw new Error(`the engine-free reader gave ${rows.length} rows, the engine ${n} (fuzz/${TABLE} version ${v})`);
      return n;
    });
  }
  if (storage.outside.length) throw new Error(`read outside the table: ${storage.outside.join(', ')}`);
  return outcomes;
}

const HOSTILE_STRINGS = [
  '../x.parquet',
  'a/../../x.parquet',
  '%2E%2E/x.parquet',
  '/etc/passwd',
  'file:///etc/passwd',
  'C:\\x.parquet',
  's3://bucket/x.parquet',
  '%ZZ',
  'a\u0000b',
  '',
  ' ',
  '__HIVE_DEFAULT_PARTITION__',
  '1e400',
  '-1',
  '💥',
  'x'.repeat(300),
];

/** A JSON value to put where the log had another: anything, with hostile strings and numbers favoured. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(null, true, false, 0, -1, 2 ** 53, -(2 ** 63), 1e308, 0.5, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Replace (or delete) the value at one place of a JSON object, chosen by `pick`. */
export function mutateJson(value: unknown, pick: number, replacement: unknown, remove: boolean): unknown {
  const places: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((c, i) => {
        places.push({ parent: v, key: i });
        walk(c);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        places.push({ parent: v as Record<string, unknown>, key: k });
        walk(c);
      }
    }
  };
  const copy = structuredClone(value);
  walk(copy);
  if (places.length === 0) return replacement;
  const { parent, key } = places[pick % places.length]!;
  if (remove && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  else (parent as Record<string | number, unknown>)[key] = replacement;
  return copy;
}

/** One line of a commit (or a string field inside an embedded JSON string, like schemaString or stats) mutated. */
export const commitMutation = fc.record({
  line: fc.nat(),
  place: fc.nat(),
  value: hostileValue,
  remove: fc.boolean(),
  embedded: fc.boolean(),
});

export type CommitMutation = { line: number; place: number; value: unknown; remove: boolean; embedded: boolean };

export function mutateCommit(text: string, m: CommitMutation): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return text;
  const i = m.line % lines.length;
  const action = JSON.parse(lines[i]!) as Record<string, Record<string, unknown>>;
  const body = Object.values(action)[0];
  // schemaString and stats are JSON inside a string: mutate inside them too.
  const inner = body && typeof body === 'object' ? (['schemaString', 'stats'] as const).find((k) => typeof body[k] === 'string') : undefined;
  if (m.embedded && inner && body) {
    body[inner] = JSON.stringify(mutateJson(JSON.parse(body[inner] as string), m.place, m.value, m.remove));
    lines[i] = JSON.stringify(action);
  } else lines[i] = JSON.stringify(mutateJson(action, m.place, m.value, m.remove));
  return `${lines.join('\n')}\n`;
}

/** Bytes changed at random places, cut short, or with bytes inserted. */
export const byteMutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    to: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

export type ByteMutation = { kind: 'flip'; at: number[]; to: number[] } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

export function mutateBytes(data: Uint8Array, m: ByteMutation): Uint8Array {
  const mm = m;
  if (data.byteLength === 0) return data;
  if (mm.kind === 'cut') return data.slice(0, mm.at % data.byteLength);
  if (mm.kind === 'insert') {
    const at = mm.at % data.byteLength;
    const out = new Uint8Array(data.byteLength + mm.bytes.byteLength);
    out.set(data.subarray(0, at));
    out.set(mm.bytes, at);
    out.set(data.subarray(at), at + mm.bytes.byteLength);
    return out;
  }
  const out = data.slice();
  mm.at.forEach((p, i) => {
    out[p % out.byteLength] = mm.to[i]!;
  });
  return out;
}

/** Fixtures with what each has to mutate: commits, checkpoints, data files. */
export const FUZZ_TABLES = [
  'basic-with-inserts-overwrite-restore',
  'basic-with-inserts-updates',
  'data-reader-primitives',
  'data-reader-timestamp_ntz',
  'delta-0.8.0-partitioned',
  'simple_table',
  'snapshot-data1',
  'table-with-dv-small',
  'dv-spark-unpartitioned',
];

export const filesOf = (files: Map<string, Uint8Array>, test: (path: string) => boolean): string[] => [...files.keys()].filter(test).sort();
export const isCommit = (p: string): boolean => /^_delta_log\/\d{20}\.json$/.test(p);
export const isCheckpoint = (p: string): boolean => /^_delta_log\/\d{20}\.checkpoint.*\.parquet$/.test(p) || p === '_delta_log/_last_checkpoint';
export const isData = (p: string): boolean => !p.startsWith('_delta_log/') && p.endsWith('.parquet');
export const isDeletionVector = (p: string): boolean => /(^|\/)deletion_vector_[^/]*\.bin$/.test(p);

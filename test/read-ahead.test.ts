import { rm } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import type { NodeStorage } from '../src/storage/node.ts';
import { nodeLakehouse } from './helpers/lakehouse.ts';

/** Paths passed to the storage's reads and writes from now on. */
function spy(storage: NodeStorage): { read: string[]; written: string[] } {
  const seen = { read: [] as string[], written: [] as string[] };
  const methods = storage as unknown as Record<string, (path: string, ...rest: unknown[]) => unknown>;
  for (const [method, into] of [
    ['read', seen.read],
    ['readRange', seen.read],
    ['write', seen.written],
    ['putIfAbsent', seen.written],
  ] as const) {
    const original = methods[method]!.bind(storage);
    methods[method] = (path, ...rest) => {
      into.push(path);
      return original(path, ...rest);
    };
  }
  return seen;
}

const dataFiles = (paths: string[]) => paths.filter((p) => !p.includes('/_delta_log/'));

/** `fn` given a lakehouse in a temp folder (after a run of `events` events with `seed`, when given); the folder removed after. */
async function withLakehouse(
  run: { events: number; seed: number } | undefined,
  fn: (l: Awaited<ReturnType<typeof nodeLakehouse>>) => Promise<void>,
): Promise<void> {
  const opened = await nodeLakehouse();
  try {
    if (run) await opened.lakehouse.run({ ...run, days: 10, invalidRate: 0.05 });
    await fn(opened);
  } finally {
    await rm(opened.dir, { recursive: true, force: true });
  }
}

describe('readAhead (the first page of the table the Explorer opens on, read before the click)', () => {
  test('reads that table only and writes nothing; the next rows call of that page is served from it, equal to a read', async () => {
    await withLakehouse({ events: 3000, seed: 3 }, async ({ dir }) => {
      const { lakehouse: plain } = await nodeLakehouse(dir);
      const expected = await plain.rows('silver/events', undefined, 40, 0);
      expect(expected.rows.length).toBe(40);

      const { lakehouse: fresh, storage } = await nodeLakehouse(dir);
      const seen = spy(storage);
      await fresh.readAhead('silver/events', 40);
      expect(dataFiles(seen.read).length).toBeGreaterThan(0);
      expect(dataFiles(seen.read).filter((p) => !p.startsWith('silver/events/'))).toEqual([]);
      expect(seen.written).toEqual([]);

      seen.read.length = 0;
      expect(await fresh.rows('silver/events', undefined, 40, 0)).toEqual(expected);
      expect(dataFiles(seen.read)).toEqual([]);
      // Taken once: the same page asked again is read again, and still the same.
      expect(await fresh.rows('silver/events', undefined, 40, 0)).toEqual(expected);
      expect(dataFiles(seen.read).length).toBeGreaterThan(0);
    });
  });

  test('another page, another size or another table is read, not served from it', async () => {
    await withLakehouse({ events: 3000, seed: 4 }, async ({ dir }) => {
      const { lakehouse: plain } = await nodeLakehouse(dir);
      const { lakehouse: fresh, storage } = await nodeLakehouse(dir);
      await fresh.readAhead('silver/events', 40);
      const seen = spy(storage);
      expect(await fresh.rows('silver/events', undefined, 40, 40)).toEqual(await plain.rows('silver/events', undefined, 40, 40));
      expect(await fresh.rows('silver/events', undefined, 20, 0)).toEqual(await plain.rows('silver/events', undefined, 20, 0));
      expect(await fresh.rows('bronze/events', undefined, 40, 0)).toEqual(await plain.rows('bronze/events', undefined, 40, 0));
      expect(dataFiles(seen.read).filter((p) => p.startsWith('silver/events/')).length).toBeGreaterThan(0);
    });
  });

  test('a page read ahead before a reset is not served for the new table at the same version', async () => {
    await withLakehouse({ events: 2000, seed: 5 }, async ({ lakehouse, dir }) => {
      const stale = await (await nodeLakehouse(dir)).lakehouse.rows('silver/events', undefined, 30, 0);
      await lakehouse.readAhead('silver/events', 30);
      const before = await lakehouse.tables();
      await lakehouse.reset();
      await lakehouse.run({ events: 2000, seed: 6, days: 10, invalidRate: 0.05 });
      const after = await lakehouse.tables();
      const version = (ts: typeof before) => ts.find((t) => t.path === 'silver/events')!.version;
      expect(version(after)).toBe(version(before));
      const expected = await (await nodeLakehouse(dir)).lakehouse.rows('silver/events', undefined, 30, 0);
      expect(expected.rows).not.toEqual(stale.rows);
      expect(await lakehouse.rows('silver/events', undefined, 30, 0)).toEqual(expected);
    });
  });

  test('names a table that does not exist yet, and refuses a page size out of range', async () => {
    await withLakehouse(undefined, async ({ lakehouse, storage }) => {
      await expect(lakehouse.readAhead('silver/events', 100)).rejects.toThrow(/does not exist yet/);
      await expect(lakehouse.readAhead('silver/events', 0)).rejects.toThrow(/limit must be a whole number from 1 to 1000, got 0/);
      expect(await storage.list('')).toEqual([]);
    });
  });
});

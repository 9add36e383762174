import { rm } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { nodeLakehouse } from './helpers/lakehouse.ts';

describe('warmUp (the first read after a page load, run while the page asks nothing)', () => {
  test('reads the data files of the smallest table only, and writes nothing', async () => {
    const { lakehouse, dir } = await nodeLakehouse();
    try {
      await lakehouse.run({ events: 300, seed: 3, days: 10, invalidRate: 0.05 });
      const { lakehouse: fresh, storage } = await nodeLakehouse(dir);
      const read: string[] = [];
      const written: string[] = [];
      const spy = storage as unknown as Record<string, (path: string, ...rest: unknown[]) => unknown>;
      for (const [method, into] of [
        ['read', read],
        ['readRange', read],
        ['write', written],
        ['putIfAbsent', written],
      ] as const) {
        const original = spy[method]!.bind(storage);
        spy[method] = (path, ...rest) => {
          into.push(path);
          return original(path, ...rest);
        };
      }
      const before = (await fresh.tables()).map((t) => [t.path, t.version]);
      const smallest = [...(await fresh.tables())].sort((a, b) => a.bytes - b.bytes)[0]!.path;
      read.length = 0;
      await fresh.warmUp();
      const dataFiles = read.filter((p) => !p.includes('/_delta_log/'));
      expect(dataFiles.length).toBeGreaterThan(0);
      expect(dataFiles.filter((p) => !p.startsWith(`${smallest}/`))).toEqual([]);
      expect(written).toEqual([]);
      expect((await fresh.tables()).map((t) => [t.path, t.version])).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('does nothing on a lakehouse without tables', async () => {
    const { lakehouse, dir, storage } = await nodeLakehouse();
    try {
      await lakehouse.warmUp();
      expect(await storage.list('')).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

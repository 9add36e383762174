import { describe, expect, test } from 'vitest';
import { hasWebLocks, ifAvailable, withLock } from '../src/storage/locks.ts';
import { MemoryStorage } from '../src/storage/memory.ts';
import { chooseStorage, IN_MEMORY } from '../src/worker/storage-choice.ts';

// Node 20 has neither navigator.storage nor navigator.locks: what WebKitGTK offers a page.
describe('without OPFS and Web Locks', () => {
  test('the lakehouse is kept in memory, and both losses are said', async () => {
    expect(hasWebLocks()).toBe(false);
    const chosen = await chooseStorage('lakehouse');
    expect(chosen.storage).toBeInstanceOf(MemoryStorage);
    expect(chosen.storage.description).toBe(IN_MEMORY);
    expect(chosen.persistent).toBe(false);
    expect(chosen.limitations.map((l) => [l.feature, l.reason])).toEqual([
      ['opfs', 'this browser gives the page no private file system (navigator.storage.getDirectory is missing)'],
      ['web-locks', 'this browser has no Web Locks (navigator.locks)'],
    ]);
    expect(chosen.limitations[0]!.effect).toContain('they vanish when this tab is closed or reloaded');
    expect(chosen.limitations[0]!.effect).toContain('export the lakehouse as a .zip');
  });

  test('a lock by name is a queue in this context: one holder at a time, in order, through failures', async () => {
    const order: string[] = [];
    const hold = (name: string, ms: number, fail = false) =>
      withLock('commit', async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name} out`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const a = hold('a', 30, true);
    const b = hold('b', 10);
    expect(await ifAvailable('commit', async () => 'c')).toBeUndefined();
    await expect(a).rejects.toThrow('a failed');
    expect(await b).toBe('b');
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(await ifAvailable('commit', async () => 'c')).toEqual({ value: 'c' });
  });
});

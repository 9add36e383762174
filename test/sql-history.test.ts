import { describe, expect, it } from 'vitest';
import { loadHistory, remember } from '../src/ui/history.ts';

class Memory {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
}

describe('the SQL history', () => {
  it('keeps each statement once, newest first, up to the limit, across loads', () => {
    const store = new Memory();
    let h = loadHistory(store);
    expect(h).toEqual([]);
    h = remember(h, 'SELECT 1', store, 3);
    h = remember(h, ' SELECT 2 ', store, 3);
    h = remember(h, 'SELECT 1', store, 3);
    h = remember(h, '  ', store, 3);
    h = remember(h, 'SELECT 3', store, 3);
    h = remember(h, 'SELECT 4', store, 3);
    expect(h).toEqual(['SELECT 4', 'SELECT 3', 'SELECT 1']);
    expect(loadHistory(store)).toEqual(h);
  });

  it('survives storage that is broken or refuses', () => {
    const broken = new Memory();
    broken.setItem('creatorops-lakehouse:sql-history', '{not json');
    expect(loadHistory(broken)).toEqual([]);
    const full = {
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(remember(['a'], 'b', full)).toEqual(['b', 'a']);
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage/memory.ts';
import { Catalog } from '../src/worker/catalog.ts';

describe('a table without a Delta log', () => {
  it('a lakehouse table not written yet: says to run the pipeline and where its log would be', async () => {
    const catalog = new Catalog(new MemoryStorage('mem://lake'), ['silver/events']);
    await expect(catalog.details('silver/events')).rejects.toThrow(
      'table silver/events does not exist yet: run the pipeline first (no _delta_log at mem://lake/silver/events)',
    );
    await expect(catalog.snapshot('silver/events')).rejects.toThrow('(no _delta_log at mem://lake/silver/events)');
  });

  it('an opened table that lost its log: says it is not a Delta table, not to run the pipeline', async () => {
    const storage = new MemoryStorage('mem://lake');
    await storage.write('opened/t/part-0.parquet', new Uint8Array([1]));
    const catalog = new Catalog(storage, []);
    catalog.mount('opened/t');
    const err = (await catalog.details('opened/t').then(
      () => new Error('opened'),
      (e: unknown) => e as Error,
    )) as Error;
    expect(err.message).toBe(
      'the opened table opened/t has no _delta_log at mem://lake/opened/t: it is not a Delta table, or its log was left out of the folder or .zip',
    );
    expect(err.message).not.toContain('run the pipeline');
  });
});

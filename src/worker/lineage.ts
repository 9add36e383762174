import { readLineage, type Lineage } from '../pipeline/lineage.ts';
import type { Storage } from '../storage/types.ts';

/**
 * The lineage as the page shows it: read from the logs alone (no engine, no rows), so the page
 * can mark a table that is not up to date as soon as it opens. Read again for each new set of
 * table versions only: callers at the same versions share one reading.
 */
export class LineageReader {
  private last: { key: string; lineage: Promise<Lineage> } | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly versions: () => Promise<string>,
  ) {}

  async read(): Promise<Lineage> {
    const key = await this.versions();
    if (this.last?.key !== key) {
      const lineage = readLineage(this.storage);
      this.last = { key, lineage };
      lineage.catch(() => (this.last = undefined));
    }
    return this.last.lineage;
  }
}

import { MemoryStorage } from '../storage/memory.ts';
import { deltaTableRoot, unzip } from '../unzip.ts';
import { Catalog, type TableDetails } from './catalog.ts';

/**
 * A Delta table brought in as a .zip (exported from Databricks, written by Spark or delta-rs):
 * its files in a MemoryStorage, read-only, through the same Catalog as the lakehouse's own tables
 * (schema, history, any version's files and commits). A feature the reader does not support
 * is refused with the reader's UnsupportedFeatureError message.
 */
export interface OpenedTable {
  /** the archive's name */
  name: string;
  /** the folder of the archive holding `_delta_log` ('' for the archive's root) */
  root: string;
  storage: MemoryStorage;
  catalog: Catalog;
  details(): Promise<TableDetails>;
}

export async function openZippedTable(name: string, bytes: Uint8Array): Promise<OpenedTable> {
  const entries = await unzip(bytes);
  const root = deltaTableRoot(entries.map((e) => e.name));
  if (root === undefined) throw new Error(`${name} holds no Delta table: no folder in it has a _delta_log`);
  const storage = new MemoryStorage();
  for (const e of entries) await storage.write(e.name, e.data);
  const catalog = new Catalog(storage, [root]);
  const opened: OpenedTable = { name, root, storage, catalog, details: () => catalog.details(root) };
  await opened.details(); // refuse now what cannot be read
  return opened;
}

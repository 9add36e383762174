import { readRows } from '../delta/rows.ts';
import type { Snapshot } from '../delta/snapshot.ts';
import { GOLD_TABLES, goldTable } from '../pipeline/tables.ts';
import type { Storage } from '../storage/types.ts';
import { Catalog, layerOf, rowsOf } from './catalog.ts';
import { LineageReader } from './lineage.ts';
import { MountedStorage } from './opened.ts';
import type { GoldData, PartlyIn, TableDetails, TableSummary } from './protocol.ts';

/**
 * What the page can have before the engine has started: the tables' logs, and the gold tables'
 * rows read straight from Parquet (src/delta/rows.ts). A reload draws the dashboard from this
 * while DuckDB's module still compiles.
 */
export function openLakeReader(storage: Storage) {
  // Opened tables (a .zip or a folder, read-only) are mounted beside the lakehouse's own at opened/<name>.
  const mounted = new MountedStorage(storage);
  const catalog = new Catalog(mounted);
  /** Gold rows by table@version (undefined: the table needs the engine): a version never changes. */
  const goldRows = new Map<string, Promise<GoldData | undefined>>();
  const lineage = new LineageReader(storage, async () => (await catalog.list()).map((t) => `${t.path}@${t.version}`).join());
  /**
   * The one place every default read (a table named without a version: the Explorer, Quality,
   * the SQL console's views, the dashboard) asks which version of `path` to show: while a newer
   * batch is partly in its layer, the version consistent with the layer's other tables
   * (pipeline/lineage.ts); otherwise undefined, the latest. A lineage that cannot be read (a log
   * the lineage view reports unreadable) leaves every table readable at its latest.
   */
  const partlyIn = async (path: string): Promise<PartlyIn | undefined> => {
    const layer = layerOf(path);
    if (layer !== 'silver' && layer !== 'gold') return undefined;
    const l = await lineage.read().catch(() => undefined);
    const note = l?.partlyIn[layer];
    const version = l?.consistent[path];
    if (note === undefined || version === undefined) return undefined;
    return { version, rows: rowsOf(await catalog.snapshot(path, version)), note };
  };
  /** The version a read of `path` at `version` shows: `version` when given, else the default (see partlyIn; undefined: the latest). */
  const versionOf = async (path: string, version: number | undefined): Promise<number | undefined> => version ?? (await partlyIn(path))?.version;
  return {
    mounted,
    catalog,
    /** What each table was computed from, and which are behind their inputs (see pipeline/lineage.ts). */
    lineage: () => lineage.read(),
    partlyIn,
    versionOf,
    /** The lakehouse's tables at their latest versions, each with what it is shown at while a newer batch is partly in its layer. */
    tables: async (): Promise<TableSummary[]> => Promise.all((await catalog.list()).map(async (t) => withPartlyIn(t, await partlyIn(t.path)))),
    /** A table's log, with what it is shown at while a newer batch is partly in its layer. */
    table: async (path: string): Promise<TableDetails> => {
      const details = await catalog.details(path);
      return withPartlyIn(details, await partlyIn(path));
    },
    /** A gold table's rows at a version (default: as every default read shows it), or undefined when only the engine can read it. */
    goldTable: async (name: string, version?: number): Promise<GoldData | undefined> => {
      const path = goldPath(name);
      const snapshot = await catalog.snapshot(path, await versionOf(path, version));
      const key = `${path}@${snapshot.version}`;
      let rows = goldRows.get(key);
      if (!rows) {
        rows = readRows(mounted, snapshot).then((r) => r && { ...goldHeader(path, snapshot), rows: r });
        goldRows.set(key, rows);
        rows.catch(() => goldRows.delete(key));
      }
      return rows;
    },
    /** Forget what was read: the lakehouse changed. */
    forget(): void {
      catalog.clear();
      goldRows.clear();
    },
  };
}

export type LakeReader = ReturnType<typeof openLakeReader>;

export function goldPath(name: string): string {
  const kpi = name.replace(/^gold[/_]/, '');
  if (!(GOLD_TABLES as readonly string[]).includes(kpi))
    throw new Error(`there is no gold table ${JSON.stringify(name)}; the gold tables are ${GOLD_TABLES.join(', ')}`);
  return goldTable(kpi);
}

export const goldHeader = (path: string, snapshot: Snapshot): Omit<GoldData, 'rows'> => ({
  name: path.slice('gold/'.length),
  path,
  version: snapshot.version,
  columns: snapshot.schema.fields.map((f) => ({ name: f.name, type: typeof f.type === 'string' ? f.type : f.type.type })),
});

function withPartlyIn<T extends TableSummary>(t: T, partlyIn: PartlyIn | undefined): T {
  return partlyIn ? { ...t, partlyIn } : t;
}

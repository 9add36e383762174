import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Engine } from '../../src/engine/types.ts';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { scanIntoEngine } from '../../src/delta/scan.ts';
import { readLineage, type Lineage } from '../../src/pipeline/lineage.ts';
import { loadSql } from '../../src/pipeline/sql-node.ts';
import { GOLD_TABLES, goldTable, TABLES } from '../../src/pipeline/tables.ts';
import type { Storage } from '../../src/storage/types.ts';

/**
 * Gold lineage checked against the rows (scripts/lineage-trials.ts): each gold table's rows are
 * compared with its SQL over silver/events at the version its log records, and at the latest.
 */

export interface GoldState {
  table: string;
  version: number;
  /** the silver/events version its log records; undefined when none */
  recorded: number | undefined;
  /** its rows equal its SQL over silver/events at `recorded` */
  matchesRecorded: boolean;
  /** its rows differ from its SQL over the latest silver/events */
  stale: boolean;
  /** the lineage says it is not up to date */
  marked: boolean;
}

/** Rows of `a` not in `b` and of `b` not in `a` (doubles to 9 decimals: summation order moves the last bits). */
function differingRows(engine: Engine, a: string, b: string): number {
  const cols = engine
    .rows<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${a})`)
    .map((c) => (/^(DOUBLE|FLOAT)$/.test(c.column_type) ? `round("${c.column_name}", 9)` : `"${c.column_name}"`))
    .join(', ');
  return Number(
    engine.rows<{ n: bigint }>(
      `SELECT (SELECT count(*) FROM (SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b})) + (SELECT count(*) FROM (SELECT ${cols} FROM ${b} EXCEPT ALL SELECT ${cols} FROM ${a})) AS n`,
    )[0]!.n,
  );
}

/** Every gold table's rows against its SQL over silver at its recorded version and at the latest; and what the lineage says. */
export async function checkGold(storage: Storage, engine: Engine): Promise<{ lineage: Lineage; gold: GoldState[] }> {
  const lineage = await readLineage(storage);
  const sql = loadSql('gold');
  const latest = (await loadSnapshot(storage, TABLES.silver)).version;
  const expected = new Map<number, Map<string, string>>();
  /** `lin_<kpi>_v<n>`: the table's SQL over silver/events at version n */
  const expectedAt = async (version: number, kpi: string): Promise<string> => {
    let byKpi = expected.get(version);
    if (!byKpi) {
      await scanIntoEngine(engine, storage, await loadSnapshot(storage, TABLES.silver, version), 'silver_events');
      byKpi = new Map();
      for (const k of GOLD_TABLES) {
        engine.run(`CREATE OR REPLACE TABLE lin_${k}_v${version} AS ${sql[k]}`);
        byKpi.set(k, `lin_${k}_v${version}`);
      }
      expected.set(version, byKpi);
    }
    return byKpi.get(kpi)!;
  };
  const gold: GoldState[] = [];
  for (const kpi of GOLD_TABLES) {
    const table = goldTable(kpi);
    const snap = await loadSnapshot(storage, table);
    await scanIntoEngine(engine, storage, snap, 'lin_gold');
    const l = lineage.tables.find((t) => t.table === table)!;
    const recorded = l.input?.version;
    const matchesRecorded = recorded !== undefined && differingRows(engine, 'lin_gold', await expectedAt(recorded, kpi)) === 0;
    const stale = differingRows(engine, 'lin_gold', await expectedAt(latest, kpi)) > 0;
    gold.push({ table, version: snap.version, recorded, matchesRecorded, stale, marked: !l.upToDate });
  }
  for (const byKpi of expected.values()) for (const t of byKpi.values()) engine.run(`DROP TABLE IF EXISTS ${t}`);
  engine.run('DROP TABLE IF EXISTS lin_gold');
  return { lineage, gold };
}

const ROOT = join(import.meta.dirname, '../..');

/** `cli status --repair --json` on `dir`, as its own process: what it printed. */
export async function cliRepair(dir: string): Promise<{ repaired: string[]; lineage: Lineage }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), 'status', '--repair', '--json', '--out', dir],
    {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    },
  );
  return JSON.parse(stdout) as { repaired: string[]; lineage: Lineage };
}

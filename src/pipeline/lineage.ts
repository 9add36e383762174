import { isAdd, isRemove, isTxn, type Action } from '../delta/actions.ts';
import { readCommit, tryListLog, loadSnapshot, type Snapshot } from '../delta/snapshot.ts';
import type { Storage } from '../storage/types.ts';
import { GOLD_TABLES, SILVER_APP_ID, TABLES, goldTable } from './tables.ts';

/**
 * What each table was computed from, read from the logs: silver's `txn` watermarks name the bronze
 * version each silver table took in; each gold commit carries a `txn` whose appId names its input
 * (GOLD_INPUT_APP_ID) and whose version is the silver/events version it was computed from. From
 * these, which tables are behind their inputs (a run stopped between commits), and the versions
 * that agree with one another (a consistent view until the repair has run).
 */

/** The one input of every gold table. */
export const GOLD_INPUT = TABLES.silver;
/** The txn appId with which a gold commit records the version of its input it was computed from. */
export const GOLD_INPUT_APP_ID = `creatorops-gold:${GOLD_INPUT}`;

export const SILVER_TABLES = [TABLES.silver, TABLES.rejects, TABLES.quality] as const;

export interface TableInput {
  table: string;
  version: number;
}

export interface TableLineage {
  table: string;
  layer: 'silver' | 'gold';
  /** its latest version; -1 when it does not exist yet */
  version: number;
  /** the version of its input it has taken in, as its log records it; undefined when the log records none */
  input: TableInput | undefined;
  /** the input's version it should have taken in: its latest that changed data */
  current: TableInput;
  upToDate: boolean;
  /** why it is not up to date, in words; undefined when it is */
  behind?: string;
}

export interface Lineage {
  /** silver tables, then gold tables, in lineage order */
  tables: TableLineage[];
  /** the latest bronze version that is a batch (-1: none) */
  bronzeBatch: number;
  /** the latest silver/events version that changed data (-1: none) */
  silverData: number;
  /**
   * Versions that agree with one another: each silver table at the last batch all three have taken
   * in, each gold table at the latest version computed from the silver version all gold tables have
   * reached. What the page shows by default until the repair has run; time travel still reaches
   * every version.
   */
  consistent: Record<string, number>;
  /**
   * Per layer whose tables disagree (a newer batch is in some of them and not in others): what
   * every view that shows the layer by default says, in the same words (partlyInNote).
   */
  partlyIn: Partial<Record<'silver' | 'gold', string>>;
  /** the tables that are behind their inputs */
  behind: string[];
}

/**
 * What a view says while it shows a layer at its consistent versions: the input version every
 * table of the layer has taken in, and the tables shown older than their latest.
 */
export function partlyInNote(layer: 'silver' | 'gold', input: TableInput, older: { table: string; version: number; latest: number }[]): string {
  const at =
    layer === 'silver'
      ? `silver at bronze batch v${input.version}, the last one all its tables have taken in`
      : `gold as computed from ${input.table} v${input.version}, the version all its tables have reached`;
  const tables = older.map((t) => `${t.table} v${t.version}, latest v${t.latest}`).join('; ');
  return `Showing ${at} (${tables}); a newer batch is partly in — it finishes on the next run or reload.`;
}

/** The commits whose every add and remove is `dataChange: false` (OPTIMIZE) move rows, and change no data. */
function changesData(actions: Action[]): boolean {
  if (actions.some((a) => isAdd(a) && a.add.dataChange !== false)) return true;
  return !actions.some((a) => (isAdd(a) && a.add.dataChange === false) || (isRemove(a) && a.remove.dataChange === false));
}

/** The latest version of `table`, up to `latest`, that changed data (-1: none). */
export async function lastDataVersion(storage: Storage, table: string, latest: number): Promise<number> {
  for (let v = latest; v >= 0; v--) {
    const actions = await readCommit(storage, table, v).catch(() => undefined);
    // A commit folded into a checkpoint and cleaned up: counted as a change, which is the safe side.
    if (!actions || changesData(actions)) return v;
  }
  return -1;
}

/**
 * The highest version of `table` (up to `snapshot.version`) at which its `txn` for `appId` is at
 * most `mark`: the table as it was when it had taken in `mark` and nothing beyond.
 */
export async function versionAtMark(storage: Storage, snapshot: Snapshot, appId: string, mark: number): Promise<number> {
  let candidate = snapshot.version;
  for (let v = snapshot.version; v >= 0; v--) {
    const actions = await readCommit(storage, snapshot.table, v).catch(() => undefined);
    if (!actions) return candidate;
    const txn = actions.find((a) => isTxn(a) && a.txn.appId === appId) as { txn: { version: number } } | undefined;
    if (txn === undefined) continue;
    if (txn.txn.version <= mark) return candidate;
    candidate = v - 1;
  }
  return candidate;
}

/** versionAtMark, or the latest version when no version of the table agrees (it was created past the mark). */
async function agreeing(storage: Storage, snapshot: Snapshot, appId: string, mark: number): Promise<number> {
  const v = await versionAtMark(storage, snapshot, appId, mark);
  return v >= 0 ? v : snapshot.version;
}

async function trySnapshot(storage: Storage, table: string): Promise<Snapshot | undefined> {
  const log = await tryListLog(storage, table);
  return log && loadSnapshot(storage, table, undefined, log);
}

/** The lineage of every silver and gold table of the lakehouse in `storage`. */
export async function readLineage(storage: Storage): Promise<Lineage> {
  const bronzeLog = await tryListLog(storage, TABLES.bronze);
  const bronzeBatch = bronzeLog ? await lastDataVersion(storage, TABLES.bronze, bronzeLog.latest) : -1;
  const silverSnaps = await Promise.all(SILVER_TABLES.map((t) => trySnapshot(storage, t)));
  const events = silverSnaps[0];
  const silverData = events ? await lastDataVersion(storage, TABLES.silver, events.version) : -1;
  const tables: TableLineage[] = [];
  const consistent: Record<string, number> = {};

  const marks = silverSnaps.map((s) => s?.txns.get(SILVER_APP_ID)?.version ?? -1);
  const allTaken = Math.min(...marks);
  for (const [i, table] of SILVER_TABLES.entries()) {
    const snap = silverSnaps[i];
    const mark = marks[i]!;
    const t: TableLineage = {
      table,
      layer: 'silver',
      version: snap?.version ?? -1,
      input: snap && mark >= 0 ? { table: TABLES.bronze, version: mark } : undefined,
      current: { table: TABLES.bronze, version: bronzeBatch },
      upToDate: mark >= bronzeBatch,
    };
    if (!t.upToDate) {
      t.behind =
        mark < 0
          ? `${table} has taken in no bronze batch; bronze/events is at v${bronzeBatch}`
          : `${table} has taken in bronze/events up to v${mark}; bronze is at v${bronzeBatch} — the last run stopped before silver took it in`;
    }
    tables.push(t);
    if (snap) consistent[table] = mark > allTaken ? await agreeing(storage, snap, SILVER_APP_ID, allTaken) : snap.version;
  }

  const partlyIn: Lineage['partlyIn'] = {};
  const olderOf = (tables: readonly string[], snaps: readonly (Snapshot | undefined)[]) =>
    tables.flatMap((table, i) => {
      const latest = snaps[i]?.version;
      return latest !== undefined && consistent[table]! < latest ? [{ table, version: consistent[table]!, latest }] : [];
    });
  const silverOlder = olderOf(SILVER_TABLES, silverSnaps);
  if (silverOlder.length) partlyIn.silver = partlyInNote('silver', { table: TABLES.bronze, version: allTaken }, silverOlder);

  const golds = await Promise.all(GOLD_TABLES.map((k) => trySnapshot(storage, goldTable(k))));
  const recorded = golds.map((g) => g?.txns.get(GOLD_INPUT_APP_ID)?.version);
  for (const [i, kpi] of GOLD_TABLES.entries()) {
    const table = goldTable(kpi);
    const snap = golds[i];
    const from = recorded[i];
    const t: TableLineage = {
      table,
      layer: 'gold',
      version: snap?.version ?? -1,
      input: from === undefined ? undefined : { table: GOLD_INPUT, version: from },
      current: { table: GOLD_INPUT, version: silverData },
      upToDate: from !== undefined ? from >= silverData : silverData < 0 && !snap,
    };
    if (!t.upToDate) {
      t.behind = !snap
        ? `${table} does not exist yet; ${GOLD_INPUT} is at v${silverData} — the last run stopped before gold`
        : from === undefined
          ? `${table} v${snap.version} does not record which ${GOLD_INPUT} version it was computed from; ${GOLD_INPUT} is at v${silverData}`
          : `${table} was computed from ${GOLD_INPUT} v${from}; ${GOLD_INPUT} is at v${silverData} — the last run stopped before gold`;
    }
    tables.push(t);
  }
  // Gold at the silver version every gold table has reached (tables that record none are shown as they are).
  const reached = recorded.filter((v): v is number => v !== undefined);
  const common = reached.length ? Math.min(...reached) : undefined;
  for (const [i, kpi] of GOLD_TABLES.entries()) {
    const snap = golds[i];
    if (!snap) continue;
    const from = recorded[i];
    consistent[goldTable(kpi)] =
      common !== undefined && from !== undefined && from > common ? await agreeing(storage, snap, GOLD_INPUT_APP_ID, common) : snap.version;
  }
  const goldOlder = olderOf(GOLD_TABLES.map(goldTable), golds);
  if (goldOlder.length && common !== undefined) partlyIn.gold = partlyInNote('gold', { table: GOLD_INPUT, version: common }, goldOlder);
  return { tables, bronzeBatch, silverData, consistent, partlyIn, behind: tables.filter((t) => !t.upToDate).map((t) => t.table) };
}

/** One line per table: its version, what it was computed from, and whether it is up to date. */
export function describeLineage(l: Lineage): string[] {
  return l.tables.map((t) => {
    const from = t.input ? `from ${t.input.table} v${t.input.version}` : 'from (not recorded)';
    const state = t.upToDate ? 'up to date' : `NOT UP TO DATE: ${t.current.table} is at v${t.current.version}`;
    return `${t.table.padEnd(31)} ${t.version < 0 ? '(none)' : `v${t.version}`.padEnd(6)} ${from.padEnd(28)} ${state}`;
  });
}

/** `silver/events v7` from a commit's operationParameters.inputs (`[{"table":"silver/events","version":7}]`); undefined when it names none. */
export function describeInputs(parameters: Record<string, unknown>): string | undefined {
  const raw = parameters.inputs;
  if (typeof raw !== 'string') return undefined;
  try {
    const inputs: unknown = JSON.parse(raw);
    if (!Array.isArray(inputs)) return undefined;
    return inputs.map((i: { table?: unknown; version?: unknown }) => `${String(i.table)} v${String(i.version)}`).join(', ');
  } catch {
    return undefined;
  }
}

import { DeltaError } from './errors.ts';
import { LOG_DIR, commitFileName, isAdd, isCommitInfo, isDomainMetadata, type Action, type CommitInfo } from './actions.ts';
import { joinPath, type Storage } from '../storage/types.ts';
import { numRecords, readCommit, type Snapshot } from './snapshot.ts';
import type { WriteRules } from './write-protocol.ts';

export const ROW_TRACKING_DOMAIN = 'delta.rowTracking';

/**
 * The fields of a commit that depend on the version it lands at and on the commits before it:
 * the in-commit timestamp (later than the previous commit's) and row tracking's row IDs (above
 * the table's high-water mark) and row commit versions (the version itself). `apply` fills
 * them in for one attempt; when another writer took that version, `absorb` reads its commit
 * and the next attempt continues from there.
 */
export class CommitStamps {
  private constructor(
    private readonly rules: WriteRules,
    /** the latest commit's inCommitTimestamp (ms) */
    private previousTimestamp: number,
    /** the highest row ID assigned so far (-1: none) */
    private highWaterMark: number,
    private readonly clock: () => number,
  ) {}

  /** What the commits of `snapshot`'s table need, or undefined when its features ask for nothing. */
  static async load(storage: Storage, snapshot: Snapshot, rules: WriteRules, clock: () => number = Date.now): Promise<CommitStamps | undefined> {
    if (!rules.inCommitTimestamp && rules.rowTracking === 'none') return undefined;
    let previous = 0;
    if (rules.inCommitTimestamp) previous = await latestCommitTimestamp(storage, snapshot);
    let mark = highWaterMarkOf(snapshot.domainMetadata.get(ROW_TRACKING_DOMAIN)?.configuration);
    // A table is not trusted to have kept its mark up to date with its files.
    for (const f of snapshot.files) {
      if (f.baseRowId != null) mark = Math.max(mark, f.baseRowId + Math.max(0, (numRecords(f) ?? 1) - 1));
    }
    return new CommitStamps(rules, previous, mark, clock);
  }

  apply(actions: Action[], version: number): Action[] {
    let out = actions;
    if (this.rules.rowTracking !== 'none') out = this.assignRowIds(out, version);
    if (this.rules.inCommitTimestamp) {
      const at = Math.max(this.clock(), this.previousTimestamp + 1);
      const info = out.find(isCommitInfo)?.commitInfo ?? {};
      // commitInfo first, and inCommitTimestamp first within it, as Delta writes it.
      const stamped: CommitInfo = { inCommitTimestamp: at, ...info, timestamp: at };
      stamped.inCommitTimestamp = at;
      out = [{ commitInfo: stamped }, ...out.filter((a) => !isCommitInfo(a))];
    }
    return out;
  }

  absorb(winner: Action[]): void {
    const ict = winner.find(isCommitInfo)?.commitInfo.inCommitTimestamp;
    if (typeof ict === 'number') this.previousTimestamp = Math.max(this.previousTimestamp, ict);
    for (const a of winner) {
      if (isDomainMetadata(a) && a.domainMetadata.domain === ROW_TRACKING_DOMAIN && !a.domainMetadata.removed) {
        this.highWaterMark = Math.max(this.highWaterMark, highWaterMarkOf(a.domainMetadata.configuration));
      }
      if (isAdd(a) && a.add.baseRowId != null) {
        this.highWaterMark = Math.max(this.highWaterMark, a.add.baseRowId + Math.max(0, (numRecords(a.add) ?? 1) - 1));
      }
    }
  }

  /**
   * Every file this writer adds is a new file: its rows get fresh row IDs above the high-water
   * mark, in file order, and the version as their row commit version; the new mark is committed
   * in the `delta.rowTracking` domain. (Removes keep the IDs their adds had; see the callers.)
   */
  private assignRowIds(actions: Action[], version: number): Action[] {
    let next = this.highWaterMark + 1;
    const out: Action[] = actions
      .filter((a) => !(isDomainMetadata(a) && a.domainMetadata.domain === ROW_TRACKING_DOMAIN))
      .map((a) => {
        if (!isAdd(a)) return a;
        const rows = numRecords(a.add);
        if (rows === null) throw new DeltaError(`cannot give row IDs to ${a.add.path}: its statistics do not say how many rows it has`);
        const add = { ...a.add, baseRowId: next, defaultRowCommitVersion: version };
        next += rows;
        return { add };
      });
    if (this.rules.rowTracking === 'stable') {
      // No row is copied or updated by an append or an overwrite: every stable ID is kept.
      out.forEach((a, i) => {
        if (isCommitInfo(a))
          out[i] = {
            commitInfo: { ...a.commitInfo, tags: { ...(a.commitInfo.tags as Record<string, string> | undefined), 'delta.rowTracking.preserved': 'true' } },
          };
      });
    }
    if (next - 1 > this.highWaterMark) {
      out.push({ domainMetadata: { domain: ROW_TRACKING_DOMAIN, configuration: JSON.stringify({ rowIdHighWaterMark: next - 1 }), removed: false } });
    }
    return out;
  }
}

function highWaterMarkOf(configuration: string | undefined): number {
  if (configuration === undefined) return -1;
  let mark: unknown;
  try {
    mark = (JSON.parse(configuration) as { rowIdHighWaterMark?: unknown }).rowIdHighWaterMark;
  } catch {
    mark = undefined;
  }
  if (typeof mark !== 'number' || !Number.isInteger(mark)) {
    throw new DeltaError(
      `the ${ROW_TRACKING_DOMAIN} domain ${JSON.stringify(configuration)} holds no rowIdHighWaterMark, so new row IDs cannot be chosen safely`,
    );
  }
  return mark;
}

/** The in-commit timestamp of the table's latest commit; its file's time when it has none (the commit before ICT was enabled). */
async function latestCommitTimestamp(storage: Storage, snapshot: Snapshot): Promise<number> {
  const actions: Action[] = await readCommit(storage, snapshot.table, snapshot.version).catch(() => []);
  const ict = actions.find(isCommitInfo)?.commitInfo.inCommitTimestamp;
  if (typeof ict === 'number') return ict;
  return (await storage.stat(joinPath(snapshot.table, LOG_DIR, commitFileName(snapshot.version))))?.modificationTime ?? 0;
}

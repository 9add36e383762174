import { DeltaError } from './errors.ts';
import { joinPath, type FileInfo, type Storage } from '../storage/types.ts';
import { decodeDataPath, isRemove, type DeletionVectorDescriptor, type Metadata, type Remove } from './actions.ts';
import { deletionVectorFile } from './deletion-vectors.ts';
import { tableLocation } from './paths.ts';
import { listLog, loadSnapshot, readCommit, where } from './snapshot.ts';
import { physicalNames } from './mapping.ts';
import { checkWritable } from './write-protocol.ts';

/** Delta's default `delta.deletedFileRetentionDuration`: one week. */
export const DEFAULT_RETENTION_HOURS = 168;

/**
 * A temporary file (`.<uuid>.tmp`, a write not yet moved onto its name) younger than this may
 * belong to a write in flight, so VACUUM leaves it whatever the retention; older ones were cut
 * short (a kill, a closed tab, a full disk) and go.
 */
export const TEMPORARY_MIN_AGE_HOURS = 1;

export interface VacuumOptions {
  /** how long a removed file stays for time travel; default the table's retention (7 days) */
  retentionHours?: number;
  /** allow a retention shorter than the table's */
  force?: boolean;
  /** list what would be deleted, delete nothing */
  dryRun?: boolean;
  /** the clock (tests move it forward) */
  now?: number;
  /**
   * Files below a folder that `Storage.list` leaves out because they may be in flight: a write
   * cut short leaves them for good (on the Node filesystem `<name>.<uuid>.tmp`). Default: the
   * storage's own `listTemporary`. They are deleted wherever they are, `_delta_log` included,
   * once older than the retention and than `temporaryMinAgeHours`.
   */
  listTemporary?: (dir: string) => Promise<FileInfo[]>;
  /** temporary files younger than this stay, even with a shorter retention (default 1 hour) */
  temporaryMinAgeHours?: number;
}

export interface VacuumFile {
  /** relative to the table folder */
  path: string;
  size: number;
  /** `removed`: no version within the retention needs it; `untracked`: no commit ever named it (data or deletion vector file) */
  reason: 'removed' | 'untracked';
}

export interface VacuumResult {
  table: string;
  /** the version whose live files were kept */
  version: number;
  retentionHours: number;
  /** files removed before this time (ms), or never committed and older than it, go */
  cutoff: number;
  dryRun: boolean;
  files: VacuumFile[];
  bytes: number;
}

export class RetentionTooShortError extends DeltaError {
  static override readonly code = 'RETENTION_TOO_SHORT';
  override name = 'RetentionTooShortError';
  constructor(table: string, hours: number, minimum: number) {
    super(
      `vacuum of ${table} refused: a retention of ${hours} hour${hours === 1 ? '' : 's'} is shorter than the table's ${minimum} hours ` +
        `(delta.deletedFileRetentionDuration), so versions older than ${hours} hour${hours === 1 ? '' : 's'} could no longer be read (time travel) ` +
        'and a write still in progress could lose the files it has not committed yet; pass --force to vacuum anyway',
    );
  }
}

/**
 * Delete the data files of `table` that neither its latest version nor any version within the
 * retention period needs: files removed longer ago than the retention, and files no commit ever
 * named (left by a writer that stopped before its commit) once they are older than the retention.
 * Of the `_delta_log` and hidden files only temporary files of writes cut short go (see
 * `TEMPORARY_MIN_AGE_HOURS`); nested tables are never touched. The table's protocol is checked
 * first, as for any write (see write-protocol.ts); the files of deletion vectors count with the
 * data files they belong to.
 */
export async function vacuumTable(storage: Storage, table: string, options: VacuumOptions = {}): Promise<VacuumResult> {
  const log = await listLog(storage, table);
  const snapshot = await loadSnapshot(storage, table, undefined, log);
  checkWritable(snapshot, 'vacuum', where(storage, table));

  const minimum = tableRetentionHours(snapshot.metadata);
  const retentionHours = options.retentionHours ?? minimum;
  if (!Number.isFinite(retentionHours) || retentionHours < 0) {
    throw new DeltaError(`a vacuum retention is a number of hours ≥ 0, got ${retentionHours}`);
  }
  if (retentionHours < minimum && !options.force) throw new RetentionTooShortError(where(storage, table), retentionHours, minimum);
  const now = options.now ?? Date.now();
  const cutoff = now - retentionHours * 3_600_000;

  const location = tableLocation(storage, table);
  // A live file's deletion vector file is as live as the file; one of a removed file goes with it.
  const live = new Set(snapshot.files.flatMap((a) => [decodeDataPath(a.path, location), ...vectorFile(a.deletionVector, location)]));
  // When each file was last removed. A checkpoint may have dropped old tombstones, so every
  // commit still in the log is read too.
  const removedAt = new Map<string, number>();
  const noteRemove = (remove: Remove): void => {
    for (const p of [decodeDataPath(remove.path, location), ...vectorFile(remove.deletionVector, location)]) {
      removedAt.set(p, Math.max(removedAt.get(p) ?? 0, remove.deletionTimestamp ?? 0));
    }
  };
  for (const r of snapshot.tombstones) noteRemove(r);
  for (const v of [...log.commits.keys()].filter((v) => v <= snapshot.version)) {
    for (const a of await readCommit(storage, table, v)) if (isRemove(a)) noteRemove(a.remove);
  }

  // Partition folders are named by physical names under column mapping.
  const partitionColumns = new Set([...snapshot.metadata.partitionColumns, ...physicalNames(snapshot, snapshot.metadata.partitionColumns)]);
  const listTemporary = options.listTemporary ?? (storage.listTemporary && ((dir: string) => storage.listTemporary!(dir)));
  const temporary = (await listTemporary?.(table)) ?? [];
  const minAge = options.temporaryMinAgeHours ?? TEMPORARY_MIN_AGE_HOURS;
  if (!Number.isFinite(minAge) || minAge < 0) throw new DeltaError(`a minimum age of temporary files is a number of hours ≥ 0, got ${minAge}`);
  const temporaryCutoff = Math.min(cutoff, now - minAge * 3_600_000);
  const listing = [...(await storage.list(table)).map((f) => ({ ...f, temporary: false })), ...temporary.map((f) => ({ ...f, temporary: true }))];
  const prefix = table === '' ? '' : `${table.replace(/\/$/, '')}/`;
  const relative = listing.map((f) => ({ ...f, rel: f.path.slice(prefix.length) }));
  const nested = nestedTables(relative.map((f) => f.rel));
  const files: VacuumFile[] = [];
  for (const f of relative) {
    if (nested.some((n) => f.rel.startsWith(n))) continue;
    if (f.temporary) {
      // A write cut short, hidden or in the log alike: never named by a commit, nothing reads it.
      if (f.modificationTime < temporaryCutoff) files.push({ path: f.rel, size: f.size, reason: 'untracked' });
      continue;
    }
    if (isHidden(f.rel, partitionColumns)) continue;
    if (live.has(f.rel)) continue;
    const removed = removedAt.get(f.rel);
    if (removed !== undefined && removed >= cutoff) continue;
    // Young files may belong to a write that has not committed yet.
    if (f.modificationTime >= cutoff) continue;
    files.push({ path: f.rel, size: f.size, reason: removed === undefined ? 'untracked' : 'removed' });
  }
  if (!options.dryRun) for (const f of files) await storage.delete(joinPath(table, f.path));
  return {
    table,
    version: snapshot.version,
    retentionHours,
    cutoff,
    dryRun: options.dryRun ?? false,
    files,
    bytes: files.reduce((s, f) => s + f.size, 0),
  };
}

/** The file of a deletion vector, when it has one inside the table folder (an inline one has none). */
function vectorFile(dv: DeletionVectorDescriptor | null | undefined, location: string | undefined): string[] {
  if (!dv) return [];
  try {
    const file = deletionVectorFile(dv, location);
    return file === undefined ? [] : [file];
  } catch {
    return []; // outside the table folder: VACUUM never deletes there anyway
  }
}

/** The table's `delta.deletedFileRetentionDuration` in hours (default one week). */
export function tableRetentionHours(metadata: Metadata): number {
  const text = metadata.configuration['delta.deletedFileRetentionDuration'];
  return text === undefined ? DEFAULT_RETENTION_HOURS : parseIntervalHours(text);
}

const UNIT_HOURS: Record<string, number> = {
  week: 168,
  day: 24,
  hour: 1,
  minute: 1 / 60,
  second: 1 / 3600,
  millisecond: 1 / 3_600_000,
  microsecond: 1 / 3_600_000_000,
};

/** `interval 7 days`, `interval 1 day 12 hours`, `168 hours` as hours. */
export function parseIntervalHours(text: string): number {
  const parts = text
    .trim()
    .toLowerCase()
    .replace(/^interval\s+/, '')
    .split(/\s+/);
  let hours = 0;
  if (parts.length % 2 !== 0 || parts[0] === '') throw new DeltaError(`cannot read the interval "${text}" (expected e.g. "interval 7 days")`);
  for (let i = 0; i < parts.length; i += 2) {
    const n = Number(parts[i]);
    const unit = UNIT_HOURS[parts[i + 1]!.replace(/s$/, '')];
    if (!Number.isFinite(n) || unit === undefined) throw new DeltaError(`cannot read the interval "${text}" (expected e.g. "interval 7 days")`);
    hours += n * unit;
  }
  return hours;
}

/** Hidden as Delta sees it: a name starting with `_` or `.`, unless it is a partition folder. */
function isHidden(rel: string, partitionColumns: ReadonlySet<string>): boolean {
  return rel.split('/').some((seg) => (seg.startsWith('_') || seg.startsWith('.')) && !partitionColumns.has(seg.split('=')[0]!));
}

/** Folders below the table that are tables of their own (they have a `_delta_log`), with a trailing '/'. */
function nestedTables(paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const segs = p.split('/');
    const i = segs.indexOf('_delta_log');
    if (i > 0) out.add(`${segs.slice(0, i).join('/')}/`);
  }
  return [...out];
}

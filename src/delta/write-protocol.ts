import { DeltaError } from './errors.ts';
import type { Add, Protocol } from './actions.ts';
import { rowChecksOf, type RowCheck } from './row-checks.ts';
import type { DeltaField, DeltaSchema } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * What this writer owes a table before it changes it, from the table's protocol: the writer
 * version and every writer feature. A write goes ahead only when every feature is understood;
 * otherwise it is refused before any file is written, with the feature and the reason.
 */

export type WriteOperation = 'append' | 'overwrite' | 'optimize' | 'vacuum' | 'checkpoint';

const VERBS: Record<WriteOperation, string> = {
  append: 'append to',
  overwrite: 'overwrite',
  optimize: 'OPTIMIZE',
  vacuum: 'VACUUM',
  checkpoint: 'write a checkpoint of',
};

export function operationVerb(operation: WriteOperation): string {
  return VERBS[operation];
}

export class WriteRefusedError extends DeltaError {
  static override readonly code = 'WRITE_REFUSED';
  override name = 'WriteRefusedError';
  readonly table: string;
  readonly version: number;
  readonly feature: string;
  constructor(table: string, version: number, operation: WriteOperation, feature: string, reason: string) {
    super(`cannot ${VERBS[operation]} ${table} at version ${version}: ${reason}`);
    this.table = table;
    this.version = version;
    this.feature = feature;
  }
}

/** The highest writer version this writer implements. */
export const MAX_WRITER_VERSION = 7;

/** Writer features a legacy writer version (2 to 6) stands for; each version has those before it too. */
const LEGACY_WRITER_FEATURES: Record<number, string[]> = {
  2: ['appendOnly', 'invariants'],
  3: ['checkConstraints'],
  4: ['changeDataFeed', 'generatedColumns'],
  5: ['columnMapping'],
  6: ['identityColumns'],
};

/** The writer features a protocol asks writers to respect: its list on version 7, those its version implies below. */
export function writerFeaturesOf(protocol: Protocol): string[] {
  if (protocol.minWriterVersion >= 7) return protocol.writerFeatures ?? [];
  const out: string[] = [];
  for (let v = 2; v <= protocol.minWriterVersion; v++) out.push(...(LEGACY_WRITER_FEATURES[v] ?? []));
  return out;
}

/**
 * Writer features this writer implements (how, per operation, in `checkWritable`). Any other
 * feature in a table's protocol makes the table read-only here.
 */
export const SUPPORTED_WRITER_FEATURES = new Set([
  'appendOnly',
  'invariants',
  'checkConstraints',
  'generatedColumns',
  'changeDataFeed',
  'columnMapping',
  'identityColumns',
  'deletionVectors',
  'rowTracking',
  'timestampNtz',
  'domainMetadata',
  'v2Checkpoint',
  'clustering',
  'vacuumProtocolCheck',
  'inCommitTimestamp',
  'typeWidening',
  'allowColumnDefaults',
]);

/** How rows get row IDs in this write: none, fresh IDs (row tracking supported), or fresh IDs that are also the stable ones (enabled). */
export type RowTrackingMode = 'none' | 'fresh' | 'stable';

/** What a write must do for the table's features (the refusals are thrown by `checkWritable`). */
export interface WriteRules {
  /** the table, for messages */
  table: string;
  /** the version the write reads */
  version: number;
  operation: WriteOperation;
  /** conditions every written row must meet (CHECK constraints, invariants, NOT NULL) */
  rowChecks: RowCheck[];
  /** commitInfo first, with an `inCommitTimestamp` later than the previous commit's */
  inCommitTimestamp: boolean;
  rowTracking: RowTrackingMode;
}

const isTrue = (v: string | undefined): boolean => v?.trim().toLowerCase() === 'true';

/**
 * Check that this writer may perform `operation` on the table at `snapshot` (named `table` in
 * messages), and say what the commit owes the table's features. Throws WriteRefusedError.
 */
export function checkWritable(snapshot: Snapshot, operation: WriteOperation, table: string): WriteRules {
  const { protocol, metadata, schema } = snapshot;
  const config = metadata.configuration ?? {};
  const refuse = (feature: string, reason: string): never => {
    throw new WriteRefusedError(table, snapshot.version, operation, feature, reason);
  };
  if (protocol.minWriterVersion > MAX_WRITER_VERSION) {
    refuse(
      `writerVersion ${protocol.minWriterVersion}`,
      `the table needs writer version ${protocol.minWriterVersion}, and this writer implements versions up to ${MAX_WRITER_VERSION}`,
    );
  }
  const features = new Set(writerFeaturesOf(protocol));
  for (const f of features) {
    if (!SUPPORTED_WRITER_FEATURES.has(f)) refuse(f, `the table needs the writer feature "${f}", which this writer does not implement`);
  }
  const writesRows = operation === 'append' || operation === 'overwrite';
  const commits = operation !== 'vacuum' && operation !== 'checkpoint';
  const rules: WriteRules = { table, version: snapshot.version, operation, rowChecks: [], inCommitTimestamp: false, rowTracking: 'none' };

  // Table properties and column metadata are honoured whether or not the protocol lists their
  // feature: a table that declares a rule is not written in breach of it.
  if (operation === 'overwrite' && isTrue(config['delta.appendOnly'])) {
    refuse('appendOnly', 'the table is append-only (writer feature "appendOnly", delta.appendOnly = true), so its rows may not be removed or replaced');
  }
  // OPTIMIZE rewrites mapped files keeping their physical names and field ids (optimize.ts); new rows would need them assigned.
  const mapping = config['delta.columnMapping.mode'];
  if (writesRows && mapping && mapping !== 'none') {
    refuse('columnMapping', `the table maps its columns by ${mapping} (writer feature "columnMapping"), and this writer does not write mapped column names`);
  }
  if (writesRows) {
    for (const { path, field } of fields(schema)) {
      const generated = field.metadata?.['delta.generationExpression'];
      if (generated !== undefined) {
        refuse(
          'generatedColumns',
          `column ${path} is generated as ${JSON.stringify(String(generated))} (writer feature "generatedColumns"), and this writer does not compute generated columns`,
        );
      }
      if (Object.keys(field.metadata ?? {}).some((k) => k.startsWith('delta.identity.'))) {
        refuse('identityColumns', `column ${path} is an identity column (writer feature "identityColumns"), and this writer does not assign identity values`);
      }
      if (field.metadata?.CURRENT_DEFAULT !== undefined) {
        refuse('allowColumnDefaults', `column ${path} has a default value (writer feature "allowColumnDefaults"), and this writer does not fill in defaults`);
      }
    }
    const { checks, uncheckable } = rowChecksOf(schema, config);
    const first = uncheckable[0];
    if (first) refuse(first.feature, `${first.label} cannot be checked by this writer (writer feature "${first.feature}"): ${first.reason}`);
    rules.rowChecks = checks;
  }

  if (commits && features.has('inCommitTimestamp') && isTrue(config['delta.enableInCommitTimestamps'])) rules.inCommitTimestamp = true;

  if (commits && features.has('rowTracking') && !isTrue(config['delta.rowTrackingSuspended'])) {
    rules.rowTracking = isTrue(config['delta.enableRowTracking']) ? 'stable' : 'fresh';
    if (operation === 'optimize' && rules.rowTracking === 'stable') {
      refuse(
        'rowTracking',
        'the table keeps stable row IDs (writer feature "rowTracking", delta.enableRowTracking = true), and OPTIMIZE here would move rows to new files without the materialized row ID columns that keep their IDs',
      );
    }
  }

  if (writesRows && features.has('clustering')) {
    const missing = clusteringColumns(snapshot).find((c) => !statsColumn(snapshot, c));
    if (missing) {
      refuse(
        'clustering',
        `its clustering column ${missing.join('.')} would get no per-file statistics from this writer (writer feature "clustering"), which clustered tables require`,
      );
    }
  }

  if (operation === 'checkpoint') checkCheckpointable(snapshot, features, refuse);
  return rules;
}

/**
 * What a table asks of its checkpoints that this writer's do not give (checkpoint-writer.ts carries
 * every action and field the snapshot holds, and skips a checkpoint that would lose one): statistics
 * only as structs. Such a table is not checkpointed by this writer — the JSON commits still hold
 * the state, and the next engine that can checkpoints it.
 */
function checkCheckpointable(snapshot: Snapshot, _features: Set<string>, refuse: (feature: string, reason: string) => never): void {
  const config = snapshot.metadata.configuration ?? {};
  if (isTrue(config['delta.checkpoint.writeStatsAsStruct'])) {
    refuse(
      'checkpoint statistics',
      'the table asks for statistics as structs in checkpoints (delta.checkpoint.writeStatsAsStruct = true), which this writer does not write',
    );
  }
  if (config['delta.checkpoint.writeStatsAsJson']?.trim().toLowerCase() === 'false') {
    refuse(
      'checkpoint statistics',
      'the table asks for checkpoints without JSON statistics (delta.checkpoint.writeStatsAsJson = false), and this writer always writes them',
    );
  }
}

function* fields(schema: DeltaSchema): Generator<{ path: string; field: DeltaField }> {
  const walk = function* (list: DeltaField[], parent: string): Generator<{ path: string; field: DeltaField }> {
    for (const field of list) {
      const path = parent ? `${parent}.${field.name}` : field.name;
      yield { path, field };
      if (typeof field.type !== 'string' && field.type.type === 'struct') yield* walk(field.type.fields, path);
    }
  };
  yield* walk(schema.fields, '');
}

/** The clustering columns of the `delta.clustering` domain, each as a field path. */
export function clusteringColumns(snapshot: Snapshot): string[][] {
  const domain = snapshot.domainMetadata.get('delta.clustering');
  if (!domain) return [];
  let parsed: { clusteringColumns?: unknown };
  try {
    parsed = JSON.parse(domain.configuration) as { clusteringColumns?: unknown };
  } catch {
    return [['(unreadable delta.clustering domain)']];
  }
  const list = Array.isArray(parsed.clusteringColumns) ? parsed.clusteringColumns : [];
  return list.map((c) => (Array.isArray(c) ? c.map(String) : String(c).split('.')));
}

/** Whether this writer's per-file statistics (top-level primitive columns, see stats.ts) cover a column. */
function statsColumn(snapshot: Snapshot, path: string[]): boolean {
  if (path.length !== 1) return false;
  const field = snapshot.schema.fields.find((f) => f.name === path[0]);
  if (!field || typeof field.type !== 'string' || ['binary', 'boolean'].includes(field.type) || field.type.startsWith('decimal(')) return false;
  if (snapshot.metadata.partitionColumns.includes(field.name)) return false;
  const only = snapshot.metadata.configuration?.['delta.dataSkippingStatsColumns'];
  return (
    !only ||
    only
      .split(',')
      .map((c) => c.trim())
      .includes(field.name)
  );
}

/** Files OPTIMIZE leaves as they are: with a deletion vector (their rows are not all live), or clustered by an engine. */
export function keptByOptimize(add: Add): boolean {
  return add.clusteringProvider != null;
}

/**
 * The protocol of a table this writer creates: the oldest that has what the schema needs
 * (timestamp without time zone needs the `timestampNtz` feature).
 */
export function newTableProtocol(schema: DeltaSchema): Protocol {
  if (usesType(schema.fields, 'timestamp_ntz')) {
    return { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz'] };
  }
  return { minReaderVersion: 1, minWriterVersion: 2 };
}

/** Whether a table with `protocol` may hold the types of `schema`; the missing feature otherwise. */
export function missingTypeFeature(protocol: Protocol, schema: DeltaSchema): string | undefined {
  if (usesType(schema.fields, 'timestamp_ntz') && !(protocol.minWriterVersion >= 7 && protocol.writerFeatures?.includes('timestampNtz'))) return 'timestampNtz';
  return undefined;
}

function usesType(list: DeltaField[], name: string): boolean {
  const has = (t: DeltaField['type']): boolean => {
    if (typeof t === 'string') return t === name;
    if (t.type === 'struct') return t.fields.some((f) => has(f.type));
    if (t.type === 'array') return has(t.elementType);
    return has(t.keyType) || has(t.valueType);
  };
  return list.some((f) => has(f.type));
}

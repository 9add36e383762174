import { DeltaError } from './errors.ts';
import type { Add, Metadata, Protocol } from './actions.ts';
import { declaredMode, mappingEnabled } from './mapping.ts';
import { parseSchema } from './schema.ts';
import { unsupportedTypeChange } from './widening.ts';

/** Reader features this reader implements; anything else makes a table unreadable here. */
export const SUPPORTED_READER_FEATURES = new Set([
  'columnMapping',
  'deletionVectors',
  'timestampNtz',
  'typeWidening',
  'typeWidening-preview',
  'v2Checkpoint',
  'vacuumProtocolCheck',
]);

export class UnsupportedFeatureError extends DeltaError {
  static override readonly code = 'UNSUPPORTED_FEATURE';
  override name = 'UnsupportedFeatureError';
  readonly feature: string;
  readonly detail: string;
  constructor(feature: string, detail: string, table = 'this table') {
    super(`${table} needs the reader feature "${feature}", which this reader does not support: ${detail}`);
    this.feature = feature;
    this.detail = detail;
  }

  /** The same refusal, naming the table. */
  of(table: string): UnsupportedFeatureError {
    return new UnsupportedFeatureError(this.feature, this.detail, table);
  }
}

/** Refuse, with a reason, what this reader would otherwise read wrongly. */
export function checkReadable(protocol: Protocol, metadata: Metadata): void {
  if (protocol.minReaderVersion > 3) {
    throw new UnsupportedFeatureError(`readerVersion ${protocol.minReaderVersion}`, 'reader versions up to 3 are supported');
  }
  const mode = declaredMode(metadata);
  if (mappingEnabled(protocol) && !['none', 'name', 'id'].includes(mode)) {
    throw new UnsupportedFeatureError('columnMapping', `delta.columnMapping.mode is "${mode}", not one of none, name or id`);
  }
  if (protocol.minReaderVersion === 3) {
    for (const f of protocol.readerFeatures ?? []) {
      if (SUPPORTED_READER_FEATURES.has(f)) continue;
      const why: Record<string, string> = {
        variantType: 'its variant columns hold binary-encoded values this reader cannot decode',
        'variantType-preview': 'its variant columns hold binary-encoded values this reader cannot decode',
        variantShredding: 'its variant columns hold binary-encoded values this reader cannot decode',
        'variantShredding-preview': 'its variant columns hold binary-encoded values this reader cannot decode',
      };
      throw new UnsupportedFeatureError(f, why[f] ?? 'unknown feature');
    }
    const widening = protocol.readerFeatures?.find((f) => f === 'typeWidening' || f === 'typeWidening-preview');
    const change = widening && unsupportedTypeChange(parseSchema(metadata.schemaString));
    if (widening && change) {
      throw new UnsupportedFeatureError(
        widening,
        `column ${change.column} was changed from ${change.fromType} to ${change.toType}, which is not a type widening the Delta protocol allows`,
      );
    }
  }
}

/** A deletion vector this reader cannot apply, or one that does not match its data file. */
export class DeletionVectorError extends DeltaError {
  static override readonly code = 'DELETION_VECTOR';
  override name = 'DeletionVectorError';
}

const STORAGE_TYPES = new Set(['u', 'i', 'p']);

/** Refuse a live file whose deletion vector this reader cannot even locate; `where` names the table. */
export function checkFileReadable(add: Add, where: string, version: number): void {
  const dv = add.deletionVector;
  if (!dv) return;
  const why =
    typeof dv !== 'object' || typeof dv.pathOrInlineDv !== 'string' || typeof dv.sizeInBytes !== 'number' || typeof dv.cardinality !== 'number'
      ? 'a deletion vector without its storageType, pathOrInlineDv, sizeInBytes and cardinality'
      : !STORAGE_TYPES.has(dv.storageType)
        ? `a deletion vector of storage type "${String(dv.storageType)}", which is none of u (a file named by a UUID), i (inline) and p (a path)`
        : undefined;
  if (why) throw new DeletionVectorError(`version ${version} of ${where} cannot be read: its data file ${add.path} has ${why}`);
}

import type { Add, Metadata, Protocol } from './actions.ts';
import { declaredMode, mappingEnabled } from './mapping.ts';
import { parseSchema } from './schema.ts';
import { unsupportedTypeChange } from './widening.ts';

/** Reader features this reader implements; anything else makes a table unreadable here. */
export const SUPPORTED_READER_FEATURES = new Set(['timestampNtz', 'vacuumProtocolCheck', 'columnMapping', 'typeWidening', 'typeWidening-preview']);

export class UnsupportedFeatureError extends Error {
  readonly feature: string;
  readonly detail: string;
  constructor(feature: string, detail: string, table = 'this table') {
    super(`delta: ${table} needs the reader feature "${feature}", which this reader does not support: ${detail}`);
    this.name = 'UnsupportedFeatureError';
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
        deletionVectors: 'rows deleted through deletion vectors would be read as if still present',
        v2Checkpoint: 'the table state may live in a V2 checkpoint this reader cannot parse',
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
      throw new UnsupportedFeatureError(widening, `column ${change.column} was changed from ${change.fromType} to ${change.toType}, which is not a type widening the Delta protocol allows`);
    }
  }
}

export function checkFileReadable(add: Add): void {
  if (add.deletionVector) {
    throw new UnsupportedFeatureError('deletionVectors', `file ${add.path} has a deletion vector`);
  }
}

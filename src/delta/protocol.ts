import type { Add, Metadata, Protocol } from './actions.ts';

/**
 * Reader features this reader implements; anything else makes a table unreadable here.
 * `deletionVectors`: a table may allow them yet have none; a file that has one is refused by
 * checkFileReadable.
 */
export const SUPPORTED_READER_FEATURES = new Set(['timestampNtz', 'vacuumProtocolCheck', 'v2Checkpoint', 'deletionVectors']);

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
  const mapping = metadata.configuration['delta.columnMapping.mode'];
  if (mapping && mapping !== 'none') {
    throw new UnsupportedFeatureError('columnMapping', `columns are mapped by ${mapping}, so Parquet column names differ from the schema`);
  }
  if (protocol.minReaderVersion === 3) {
    for (const f of protocol.readerFeatures ?? []) {
      if (SUPPORTED_READER_FEATURES.has(f)) continue;
      const why: Record<string, string> = {
        columnMapping: 'Parquet column names differ from the schema',
        typeWidening: 'files may hold narrower types than the schema',
      };
      throw new UnsupportedFeatureError(f, why[f] ?? 'unknown feature');
    }
  }
}

export function checkFileReadable(add: Add): void {
  if (add.deletionVector) {
    throw new UnsupportedFeatureError('deletionVectors', `file ${add.path} has a deletion vector`);
  }
}

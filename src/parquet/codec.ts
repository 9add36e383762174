import type * as ParquetWasm from 'parquet-wasm/node';
import { patchInt96, restoreInt96 } from './int96.ts';

/**
 * Parquet bytes <-> Arrow IPC stream bytes, on parquet-wasm (arrow-rs). The module is handed in
 * once per environment (./node.ts, ./browser.ts), because it is initialised differently in each.
 */
export type ParquetModule = Pick<
  typeof ParquetWasm,
  'readParquet' | 'writeParquet' | 'Table' | 'WriterPropertiesBuilder' | 'Compression' | 'EnabledStatistics'
>;

let mod: ParquetModule | undefined;

export function setParquetModule(m: ParquetModule): void {
  mod = m;
}

function parquet(): ParquetModule {
  if (!mod) throw new Error('parquet: codec not initialised (call initParquet for this environment first)');
  return mod;
}

/**
 * Rows per row group. A reader that wants some rows (the Explorer's first page) reads only the
 * groups they lie in (ranged.ts), so a 1M-row file must not be one group; 128k rows (DuckDB
 * writes 122,880) keeps a group's column chunks large enough for ZSTD and few enough per file
 * that the footer stays small (about 20 KB for silver/events at 1M rows).
 */
export const ROW_GROUP_ROWS = 131_072;
/**
 * A column's dictionary stops growing at 128 KiB and the column falls back to plain encoding: with
 * one dictionary per row group, nearly unique columns (timestamps, ids) would otherwise be
 * dictionary-encoded in every group, which ZSTD compresses worse (silver/events at 1M rows:
 * 19.2 MB, against 15.7 MB with this limit and 14.8 MB as one group).
 */
export const DICTIONARY_PAGE_BYTES = 128 * 1024;

export interface EncodeOptions {
  /** Row group size (default ROW_GROUP_ROWS); smaller groups let readers skip more. */
  maxRowGroupSize?: number;
  /** Bytes a column's dictionary may grow to before the column falls back to plain encoding (default DICTIONARY_PAGE_BYTES). */
  dictionaryPageSizeLimit?: number;
}

/** Arrow IPC stream -> Parquet (ZSTD, page statistics on). */
export function encodeParquet(ipcStream: Uint8Array, options: EncodeOptions = {}): Uint8Array {
  const pq = parquet();
  const table = pq.Table.fromIPCStream(ipcStream);
  const builder = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setStatisticsEnabled(pq.EnabledStatistics.Page)
    .setCreatedBy('creatorops-lakehouse (parquet-wasm)')
    .setMaxRowGroupSize(options.maxRowGroupSize ?? ROW_GROUP_ROWS)
    .setDictionaryPageSizeLimit(options.dictionaryPageSizeLimit ?? DICTIONARY_PAGE_BYTES);
  return pq.writeParquet(table, builder.build());
}

/** A run of a file's rows: `limit` rows from the `offset`-th. */
export interface RowSlice {
  offset: number;
  limit: number;
}

/**
 * Parquet -> Arrow IPC stream; INT96 timestamps come out as microseconds (int96.ts). With `slice`,
 * only those rows (arrow-rs skips the pages before them).
 */
export function decodeParquet(bytes: Uint8Array, columns?: string[], slice?: RowSlice): Uint8Array {
  const pq = parquet();
  try {
    const patched = columns ? undefined : patchInt96(bytes);
    // Record batches of 64k rows rather than the default 1,024: far fewer, cheaper Arrow chunks.
    const table = pq.readParquet(patched ?? bytes, {
      batchSize: 65_536,
      ...(columns ? { columns } : {}),
      ...(slice ? { offset: slice.offset, limit: slice.limit } : {}),
    });
    return patched ? restoreInt96(table.intoIPCStream()) : table.intoIPCStream();
  } catch (err) {
    throw new Error(`parquet: cannot read file (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

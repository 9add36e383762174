import { RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { QueryError, type Engine } from './types.ts';

/** The part of DuckDB-WASM's synchronous bindings this project uses. */
export interface BlockingBindings {
  connect(): { useUnsafe<R>(cb: (bindings: unknown, conn: number) => R): R; close(): void };
  runQuery(conn: number, text: string): Uint8Array;
  insertArrowFromIPCStream(conn: number, buffer: Uint8Array, options?: { name: string; create?: boolean }): void;
  reset(): void;
}

const SETTINGS = [
  // The parquet/json/icu extensions are not bundled and cannot be downloaded offline:
  // fail fast instead of hanging on an autoload.
  'SET autoload_known_extensions = false',
  'SET autoinstall_known_extensions = false',
  "SET TimeZone = 'UTC'",
];

export function engineFromBindings(bindings: BlockingBindings): Engine {
  const connection = bindings.connect();
  const conn = connection.useUnsafe((_b, id) => id);

  const runQuery = (sql: string): Uint8Array => {
    try {
      return bindings.runQuery(conn, sql);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new QueryError(`SQL failed: ${message}`, sql, err);
    }
  };
  for (const s of SETTINGS) {
    try {
      runQuery(s);
    } catch {
      // TimeZone is an ICU setting; without ICU every timestamp is UTC already.
    }
  }

  // runQuery answers in the Arrow IPC *file* format; everything else here speaks the stream format.
  const query = (sql: string): Table => tableFromIPC(runQuery(sql));
  return {
    run: (sql) => void runQuery(sql),
    queryIPC: (sql) => tableToIPC(query(sql), 'stream'),
    query,
    rows: <T>(sql: string) => query(sql).toArray().map((r) => r.toJSON() as T),
    insertIPC(name, ipc) {
      runQuery(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
      try {
        bindings.insertArrowFromIPCStream(conn, withAtLeastOneBatch(ipc), { name, create: true });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new QueryError(`loading Arrow data into table ${name} failed: ${message}`, '', err);
      }
    },
    close: () => connection.close(),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** DuckDB creates no table from a stream without record batches; give it one empty batch. */
function withAtLeastOneBatch(ipc: Uint8Array): Uint8Array {
  const table = tableFromIPC(ipc);
  if (table.batches.length > 0) return ipc;
  return tableToIPC(new Table(table.schema, [new RecordBatch(table.schema)]), 'stream');
}

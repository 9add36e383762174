import { Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { setMemoryLimit, WASM_MEMORY_LIMIT } from './memory.ts';
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

/** Settings of the instance (not of a connection), once when it starts: its memory limit. */
export function startInstance(bindings: BlockingBindings): void {
  const engine = engineFromBindings(bindings);
  try {
    setMemoryLimit(engine, WASM_MEMORY_LIMIT);
  } finally {
    engine.close();
  }
}

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

  const insertArrow = (name: string, ipc: Uint8Array, create: boolean): void => {
    try {
      bindings.insertArrowFromIPCStream(conn, ipc, { name, create });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new QueryError(`loading Arrow data into table ${name} failed: ${message}`, '', err);
    }
  };

  // runQuery answers in the Arrow IPC *file* format; everything else here speaks the stream format.
  const query = (sql: string): Table => tableFromIPC(runQuery(sql));
  return {
    run: (sql) => void runQuery(sql),
    queryIPC: (sql) => tableToIPC(query(sql), 'stream'),
    query,
    rows: <T>(sql: string) =>
      query(sql)
        .toArray()
        .map((r) => r.toJSON() as T),
    insertIPC(name, ipc) {
      runQuery(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
      insertArrow(name, withAtLeastOneBatch(ipc), true);
    },
    appendIPC(name, ipc) {
      // A stream without record batches appends nothing (and DuckDB would refuse it).
      if (hasRecordBatch(ipc)) insertArrow(name, ipc, false);
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
  if (hasRecordBatch(ipc)) return ipc;
  const { fields } = tableFromIPC(ipc).schema;
  return tableToIPC(new Table(Object.fromEntries(fields.map((f) => [f.name, vectorFromArray([], f.type)]))), 'stream');
}

/**
 * Whether an IPC stream holds a record batch, from the message headers alone (parsing the whole
 * stream with apache-arrow costs a pass over every batch). The stream starts with the schema
 * message; the header of the message after it says whether a record batch follows.
 */
export function hasRecordBatch(ipc: Uint8Array): boolean {
  const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  let at = 0;
  for (let messages = 0; at + 8 <= ipc.byteLength && messages < 64; messages++) {
    // Encapsulated message: [0xFFFFFFFF] int32 metadata length, flatbuffer Message, body.
    let length = view.getInt32(at, true);
    at += 4;
    if (length === -1) {
      length = view.getInt32(at, true);
      at += 4;
    }
    if (length <= 0) return false; // end of stream
    const header = messageHeader(view, at);
    if (header === undefined) return tableFromIPC(ipc).batches.length > 0;
    if (header.type === RECORD_BATCH) return true;
    at += length + header.bodyLength;
  }
  return tableFromIPC(ipc).batches.length > 0;
}

const RECORD_BATCH = 3;

/** The header type and body length of the flatbuffer `Message` at `at` (Arrow's Message.fbs). */
function messageHeader(view: DataView, at: number): { type: number; bodyLength: number } | undefined {
  const table = at + view.getUint32(at, true);
  const vtable = table - view.getInt32(table, true);
  const vtableLength = view.getUint16(vtable, true);
  // Fields: 0 version (short), 1 header_type (ubyte), 2 header (offset), 3 bodyLength (long).
  const field = (i: number): number => (4 + 2 * i < vtableLength ? view.getUint16(vtable + 4 + 2 * i, true) : 0);
  const typeAt = field(1);
  if (typeAt === 0) return undefined;
  const bodyAt = field(3);
  const bodyLength = bodyAt === 0 ? 0 : Number(view.getBigInt64(table + bodyAt, true));
  return { type: view.getUint8(table + typeAt), bodyLength };
}

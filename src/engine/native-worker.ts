import { createRequire } from 'node:module';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type * as NodeApi from '@duckdb/node-api';
import type Bindings from '@duckdb/node-bindings';
import { appendTable, duckTypeOfArrow, tableOfResult } from './native-arrow.ts';

/**
 * The thread that owns native DuckDB (`@duckdb/node-api`, whose calls are all asynchronous) for
 * the synchronous `Engine` of ./native.ts: one request at a time arrives on `port`; the answer is
 * posted back and `signal` is raised, which wakes the blocked caller.
 */

export type Request =
  | { op: 'connect' }
  | { op: 'run' | 'query'; conn: number; sql: string }
  | { op: 'insert' | 'append'; conn: number; name: string; ipc: Uint8Array }
  | { op: 'disconnect'; conn: number };

export type Response = { ok: true; conn?: number; ipc?: Uint8Array } | { ok: false; message: string };

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };
const require = createRequire(import.meta.url);
const api = require('@duckdb/node-api') as typeof NodeApi;
const duck = createRequire(require.resolve('@duckdb/node-api'))('@duckdb/node-bindings') as typeof Bindings;

const SETTINGS = [
  // Like the WASM engine: nothing is fetched from the internet, and times are UTC.
  'SET autoload_known_extensions = false',
  'SET autoinstall_known_extensions = false',
  "SET TimeZone = 'UTC'",
  'SET threads = 1',
];

const instance = await api.DuckDBInstance.create(':memory:');
const connections = new Map<number, NodeApi.DuckDBConnection>();
let nextConn = 1;

async function handle(req: Request): Promise<Response> {
  if (req.op === 'connect') {
    const conn = await instance.connect();
    for (const s of SETTINGS) await conn.run(s);
    connections.set(nextConn, conn);
    return { ok: true, conn: nextConn++ };
  }
  const conn = connections.get(req.conn);
  if (!conn) throw new Error(`native engine: connection ${req.conn} is closed`);
  switch (req.op) {
    case 'disconnect':
      conn.closeSync();
      connections.delete(req.conn);
      return { ok: true };
    case 'run':
      await conn.run(req.sql);
      return { ok: true };
    case 'query': {
      const result = await conn.run(req.sql);
      return { ok: true, ipc: tableToIPC(tableOfResult(api, duck, result), 'stream') };
    }
    case 'insert':
    case 'append': {
      const table = tableFromIPC(req.ipc);
      const name = `"${req.name.replaceAll('"', '""')}"`;
      const arrowTypes = table.schema.fields.map((f) => duckTypeOfArrow(api, f.type, f.name));
      if (req.op === 'insert') {
        await conn.run(`DROP TABLE IF EXISTS ${name}`);
        await conn.run(
          `CREATE TABLE ${name} (${table.schema.fields.map((f, i) => `"${f.name.replaceAll('"', '""')}" ${arrowTypes[i]!.toString()}`).join(', ')})`,
        );
      }
      if (table.numRows === 0) return { ok: true };
      const appender = await conn.createAppender(req.name);
      try {
        // Chunks take the table's own column types; those an Arrow type maps to differently are refused.
        const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
        if (types.length !== arrowTypes.length) throw new Error(`table ${req.name} has ${types.length} columns, the data ${arrowTypes.length}`);
        types.forEach((t, i) => {
          if (t.toString() !== arrowTypes[i]!.toString())
            throw new Error(`column ${i + 1} of ${req.name} is ${t.toString()} but the data is ${arrowTypes[i]!.toString()}`);
        });
        appendTable(api, duck, appender, table, types);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      return { ok: true };
    }
  }
}

port.on('message', (req: Request) => {
  void handle(req)
    .catch((err: unknown): Response => ({ ok: false, message: err instanceof Error ? err.message : String(err) }))
    .then((res) => {
      port.postMessage(res, res.ok && res.ipc ? [res.ipc.buffer as ArrayBuffer] : []);
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
});
parentPort!.postMessage({ ready: true, version: api.version() });

import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { QueryError, type Engine } from './types.ts';
import { CodedError } from '../errors.ts';
import type { Request, Response } from './native-worker.ts';
import { tsWorker } from './ts-worker.ts';

const require = createRequire(import.meta.url);

/** The package, pinned to the DuckDB release DuckDB-WASM runs (see package.json). */
export const NATIVE_PACKAGE = '@duckdb/node-api';

export class NativeEngineUnavailableError extends CodedError {
  static readonly code = 'NATIVE_ENGINE_UNAVAILABLE';
  override name = 'NativeEngineUnavailableError';
  constructor(cause: unknown) {
    super(
      `the native engine needs the package ${NATIVE_PACKAGE}, a development dependency that is not installed here ` +
        `(run \`npm install\` with dev dependencies, or \`npm i -D -E ${NATIVE_PACKAGE}@1.4.3-r.3\`)`,
      { cause },
    );
  }
}

/** Throws NativeEngineUnavailableError unless the native package can be loaded (`resolve` for tests). */
export function requireNativePackage(resolve: (id: string) => string = require.resolve): void {
  try {
    resolve(NATIVE_PACKAGE);
  } catch (err) {
    throw new NativeEngineUnavailableError(err);
  }
}

interface Host {
  port: MessagePort;
  signal: Int32Array;
  worker: Worker;
  /** DuckDB's version, e.g. "v1.4.3" */
  version: string;
}

let hostPromise: Promise<Host> | undefined;

/**
 * Native DuckDB runs on its own thread (its API is asynchronous); `call` blocks this thread until
 * that one answers, which gives the synchronous `Engine` the pipeline is written against.
 */
function startHost(): Promise<Host> {
  hostPromise ??= (async () => {
    requireNativePackage();
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = tsWorker(new URL('./native-worker.ts', import.meta.url), { workerData: { port: port2, signal }, transferList: [port2] });
    const version = await new Promise<string>((resolve, reject) => {
      worker.once('message', (m: { version: string }) => resolve(m.version));
      worker.once('error', (err) => reject(new Error(`native engine: its thread failed to start: ${err.message}`, { cause: err })));
      worker.once('exit', (code) => reject(new Error(`native engine: its thread exited (${code}) before it was ready`)));
    });
    // A CLI run ends with process.exit; an idle engine thread must not keep the process alive.
    worker.unref();
    return { port: port1, signal, worker, version };
  })();
  hostPromise.catch(() => (hostPromise = undefined));
  return hostPromise;
}

function call(host: Host, req: Request): Response {
  Atomics.store(host.signal, 0, 0);
  // IPC bytes are copied, not transferred: the caller keeps its buffer.
  host.port.postMessage(req);
  Atomics.wait(host.signal, 0, 0);
  const reply = receiveMessageOnPort(host.port);
  if (!reply) throw new Error('native engine: no answer from its thread');
  return reply.message as Response;
}

/** A new connection to this process's native DuckDB (in memory), with the WASM engine's settings. */
export async function openNativeEngine(): Promise<Engine> {
  const host = await startHost();
  const opened = call(host, { op: 'connect' });
  if (!opened.ok) throw new Error(`native engine: cannot connect: ${opened.message}`);
  const conn = opened.conn!;
  const request = (req: Request, sql: string, what?: string): { conn?: number; ipc?: Uint8Array } => {
    const res = call(host, req);
    if (!res.ok) throw new QueryError(what ? `${what} failed: ${res.message}` : `SQL failed: ${res.message}`, sql, new Error(res.message));
    return res;
  };
  const query = (sql: string) => tableFromIPC(request({ op: 'query', conn, sql }, sql).ipc!);
  return {
    run: (sql) => void request({ op: 'run', conn, sql }, sql),
    query,
    queryIPC: (sql) => request({ op: 'query', conn, sql }, sql).ipc!,
    rows: <T>(sql: string) =>
      query(sql)
        .toArray()
        .map((r) => r.toJSON() as T),
    insertIPC: (name, ipc) => void request({ op: 'insert', conn, name, ipc }, '', `loading Arrow data into table ${name}`),
    appendIPC: (name, ipc) => void request({ op: 'append', conn, name, ipc }, '', `loading Arrow data into table ${name}`),
    close: () => void call(host, { op: 'disconnect', conn }),
  };
}

/** DuckDB's version in the native engine, e.g. "v1.4.3". */
export async function nativeVersion(): Promise<string> {
  return (await startHost()).version;
}

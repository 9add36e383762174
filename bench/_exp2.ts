import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initParquet } from '../src/parquet/node.ts';
import { decodeParquet } from '../src/parquet/codec.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { decodeDataPath } from '../src/delta/actions.ts';
initParquet();
const require = createRequire(import.meta.url);
const duckdb = require('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs');
const dist = dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs'));
const db = await duckdb.createDuckDB({ mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: '' }, eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: '' } }, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
await db.instantiate(() => {});
const c = db.connect();
const T = (label: string, f: () => any) => { const t = performance.now(); const r = f(); console.log(label.padEnd(40), ((performance.now() - t) / 1000).toFixed(3)); return r; };
const st = new NodeStorage('/tmp/base1m');
const snap = await loadSnapshot(st, 'silver/events');
const files = await Promise.all(snap.files.map((f) => st.read(join('silver/events', decodeDataPath(f.path)))));
const ipcs = T('decode', () => files.map((b) => decodeParquet(b)));
T('insert arrow ipc', () => ipcs.forEach((ipc: Uint8Array, i: number) => c.insertArrowFromIPCStream(ipc, { name: 't', create: i === 0 })));
T('query * bytes', () => c.query('select 1')); 
let bytes: Uint8Array = T('runQuery select * -> ipc file bytes', () => (db as any).runQuery((c as any)._conn, 'select * from t'));
console.log(bytes.byteLength / 1e6);
T('tableFromIPC', () => tableFromIPC(bytes));
for (const col of ['event_id', 'occurred_at', 'words', 'attributes', 'event_date']) T(`runQuery ${col}`, () => (db as any).runQuery((c as any)._conn, `select ${col} from t`));
T('runQuery count', () => (db as any).runQuery((c as any)._conn, `select count(*) from t`));
T('ctas', () => (db as any).runQuery((c as any)._conn, `create table t2 as select * from t`));
T('ctas cast ts', () => (db as any).runQuery((c as any)._conn, `create table t3 as select CAST(CAST(occurred_at AS TIMESTAMP) AS TIMESTAMPTZ) from t`));
T('ctas sort ts', () => (db as any).runQuery((c as any)._conn, `create table t4 as select * from t order by occurred_at`));
T('ctas sort ts,id', () => (db as any).runQuery((c as any)._conn, `create table t5 as select * from t order by occurred_at, event_id`));
T('ctas sort narrow', () => (db as any).runQuery((c as any)._conn, `create table t6 as select occurred_at, event_id, row_number() over () as r from t order by occurred_at, event_id`));
T('decode again', () => files.map((b) => decodeParquet(b)));
T('runQuery select * again', () => (db as any).runQuery((c as any)._conn, 'select * from t'));
T('insert arrow ipc again', () => ipcs.forEach((ipc: Uint8Array, i: number) => c.insertArrowFromIPCStream(ipc, { name: 'tt', create: i === 0 })));
T('ctas sort ts,id again', () => (db as any).runQuery((c as any)._conn, `create table t7 as select * from t order by occurred_at, event_id`));
const stream = (sql: string) => {
  const conn = (c as any)._conn;
  let header = (db as any).startPendingQuery(conn, sql, true);
  while (header == null) header = (db as any).pollPendingQuery(conn);
  const parts: Uint8Array[] = [header];
  for (;;) { const b = (db as any).fetchQueryResults(conn); if (b == null || b.byteLength === 0) break; parts.push(b); }
  return parts;
};
const parts = T('stream select *', () => stream('select * from t'));
console.log('parts', parts.length, parts[0].byteLength, parts[1]?.byteLength);
const parts2 = T('stream select * again', () => stream('select * from t'));
T('stream select * no alloc', () => stream('select * from t'));
const total = parts2.reduce((s: number, p: Uint8Array) => s + p.byteLength, 0);
const joined = new Uint8Array(total); let o = 0; for (const p of parts2) { joined.set(p, o); o += p.byteLength; }
const tb = T('tableFromIPC stream', () => tableFromIPC(joined));
console.log(tb.numRows, tb.batches.length);
T('runQuery select * 3rd', () => (db as any).runQuery((c as any)._conn, 'select * from t'));
for (const cols of ['event_id', 'event_id, event_type', 'event_id, event_type, creator_id, work_id', 'event_id, event_type, creator_id, work_id, stage, reader_id, attributes, batch_id', 'occurred_at, words, duration_minutes, words_changed, revision_no, engagement_seconds, progress_pct, ingested_at, event_date', 'event_id, event_type, creator_id, work_id, stage, reader_id, attributes, batch_id']) {
  T(`stream ${cols.slice(0, 50)}`, () => stream(`select ${cols} from t`));
}

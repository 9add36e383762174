import { tableFromIPC } from 'apache-arrow';
import { decodeParquet } from '../../src/parquet/codec.ts';
import { quoteIdent } from '../../src/engine/duckdb.ts';
import type { Engine } from '../../src/engine/types.ts';
import type { Storage } from '../../src/storage/types.ts';

/**
 * Checks a table this project wrote against the rules of DELTA.md, reading the log with nothing
 * but JSON.parse (not with the reader under test). Returns the problems found; [] means valid.
 */
export async function validateDeltaTable(storage: Storage, table: string, engine: Engine): Promise<string[]> {
  const problems: string[] = [];
  const logDir = table ? `${table}/_delta_log` : '_delta_log';
  const listing = await storage.list(logDir);
  const commits = listing
    .map((f) => /\/(\d{20})\.json$/.exec(f.path))
    .filter((m) => m)
    .map((m) => Number(m![1]))
    .sort((a, b) => a - b);
  if (commits[0] !== 0) problems.push('the log does not start at version 0');
  commits.forEach((v, i) => {
    if (v !== i) problems.push(`versions are not contiguous at ${i}`);
  });
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const live = new Map<string, Record<string, unknown>>();
  let partitionColumns: string[] = [];
  for (const v of commits) {
    const text = new TextDecoder().decode(await storage.read(`${logDir}/${String(v).padStart(20, '0')}.json`));
    const lines = text.split('\n').filter((l) => l !== '');
    const keys = lines.map((l) => Object.keys(JSON.parse(l) as object));
    if (keys.some((k) => k.length !== 1)) problems.push(`v${v}: an action line does not have exactly one key`);
    const actions = lines.map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    if (v === 0 && (!actions.some((a) => a.protocol) || !actions.some((a) => a.metaData))) problems.push('v0 lacks protocol or metaData');
    for (const a of actions) {
      if (a.protocol && (a.protocol.minReaderVersion !== 1 || a.protocol.minWriterVersion !== 2))
        problems.push(`v${v}: unexpected protocol ${JSON.stringify(a.protocol)}`);
      if (a.metaData) {
        const m = a.metaData;
        if (typeof m.id !== 'string' || !uuid.test(m.id)) problems.push(`v${v}: metaData.id is not a UUID`);
        if (JSON.stringify(m.format) !== '{"provider":"parquet","options":{}}') problems.push(`v${v}: metaData.format is wrong`);
        const schema = JSON.parse(m.schemaString as string) as {
          type: string;
          fields: { name: string; type: unknown; nullable: unknown; metadata: unknown }[];
        };
        if (
          schema.type !== 'struct' ||
          schema.fields.some((f) => typeof f.name !== 'string' || typeof f.nullable !== 'boolean' || typeof f.metadata !== 'object')
        ) {
          problems.push(`v${v}: schemaString is malformed`);
        }
        if (!Array.isArray(m.partitionColumns) || typeof m.configuration !== 'object') problems.push(`v${v}: metaData lacks partitionColumns/configuration`);
        partitionColumns = m.partitionColumns as string[];
      }
      if (a.add) {
        const add = a.add;
        for (const [k, t] of [
          ['path', 'string'],
          ['size', 'number'],
          ['modificationTime', 'number'],
          ['dataChange', 'boolean'],
          ['stats', 'string'],
        ] as const) {
          if (typeof add[k] !== t) problems.push(`v${v}: add.${k} is not a ${t}`);
        }
        if (typeof add.partitionValues !== 'object' || add.partitionValues === null) problems.push(`v${v}: add.partitionValues missing`);
        live.set(add.path as string, add);
      }
      if (a.remove) {
        if (typeof a.remove.path !== 'string' || typeof a.remove.dataChange !== 'boolean' || typeof a.remove.deletionTimestamp !== 'number') {
          problems.push(`v${v}: remove is malformed`);
        }
        live.delete(a.remove.path as string);
      }
      if (a.txn && (typeof a.txn.appId !== 'string' || typeof a.txn.version !== 'number')) problems.push(`v${v}: txn is malformed`);
    }
  }
  for (const [path, add] of live) {
    const file = `${table ? `${table}/` : ''}${decodeURIComponent(path)}`;
    const info = await storage.stat(file);
    if (!info) {
      problems.push(`live file ${path} does not exist`);
      continue;
    }
    if (info.size !== add.size) problems.push(`${path}: add.size ${add.size} but the file has ${info.size} bytes`);
    problems.push(...checkStats(engine, path, await storage.read(file), JSON.parse(add.stats as string), partitionColumns));
  }
  const cpVersions = commits.filter((v) => v > 0 && v % 10 === 0);
  for (const v of cpVersions) {
    if (!(await storage.stat(`${logDir}/${String(v).padStart(20, '0')}.checkpoint.parquet`))) problems.push(`no checkpoint at version ${v}`);
  }
  if (cpVersions.length > 0) {
    const last = JSON.parse(new TextDecoder().decode(await storage.read(`${logDir}/_last_checkpoint`))) as { version: number };
    if (last.version !== cpVersions.at(-1)) problems.push(`_last_checkpoint names ${last.version}, expected ${cpVersions.at(-1)}`);
    const cp = tableFromIPC(decodeParquet(await storage.read(`${logDir}/${String(last.version).padStart(20, '0')}.checkpoint.parquet`)));
    if (!cp.getChild('add') || !cp.getChild('metaData') || !cp.getChild('protocol')) problems.push('checkpoint lacks action columns');
  }
  return problems;
}

interface Stats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, number>;
}

function checkStats(engine: Engine, path: string, bytes: Uint8Array, stats: Stats, partitionColumns: string[]): string[] {
  const problems: string[] = [];
  engine.insertIPC('__validate', decodeParquet(bytes));
  const n = Number(engine.rows<{ n: bigint }>('SELECT count(*) AS n FROM __validate')[0]!.n);
  if (stats.numRecords !== n) problems.push(`${path}: stats.numRecords ${stats.numRecords} but the file has ${n} rows`);
  const cols = engine.rows<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE __validate)');
  for (const c of cols) {
    if (partitionColumns.includes(c.column_name)) problems.push(`${path}: partition column ${c.column_name} is stored in the file`);
    const q = quoteIdent(c.column_name);
    const actualNulls = Number(engine.rows<{ n: bigint }>(`SELECT count(*) - count(${q}) AS n FROM __validate`)[0]!.n);
    if (c.column_name in stats.nullCount && stats.nullCount[c.column_name] !== actualNulls) problems.push(`${path}: nullCount of ${c.column_name} is wrong`);
    for (const [kind, fn] of [
      ['minValues', 'min'],
      ['maxValues', 'max'],
    ] as const) {
      if (!(c.column_name in stats[kind])) continue;
      const stat = stats[kind][c.column_name];
      let expr = `${fn}(${q})`;
      if (c.column_type.startsWith('TIMESTAMP'))
        expr = `strftime(${fn}(${q})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f') || ${c.column_type.includes('TIME ZONE') ? "'Z'" : "''"}`;
      else if (c.column_type === 'DATE') expr = `${fn}(${q})::VARCHAR`;
      else if (c.column_type === 'VARCHAR') expr = `left(${fn}(${q}), 32)`;
      const actual = engine.rows<{ v: unknown }>(`SELECT ${expr} AS v FROM __validate`)[0]!.v;
      const norm = typeof actual === 'bigint' ? Number(actual) : actual;
      if (norm !== stat) problems.push(`${path}: ${kind}.${c.column_name} is ${JSON.stringify(stat)} but the data says ${String(norm)}`);
    }
  }
  return problems;
}

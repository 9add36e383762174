import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadHistory, loadSnapshot } from '../src/delta/snapshot.ts';
import { relativeTablePath, UnsafePathError } from '../src/delta/paths.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { FIXTURES } from './helpers/fixtures.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const cli = (...args: string[]) =>
  run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('relativeTablePath', () => {
  it.each([
    ['part-0.parquet', 'part-0.parquet'],
    ['a=1/part-0.parquet', 'a=1/part-0.parquet'],
    ['a%3D1%20b/part%25.parquet', 'a=1 b/part%.parquet'],
    ['./x/./y.parquet', 'x/y.parquet'],
    ['a/b/../c.parquet', 'a/c.parquet'],
    ['a//b.parquet', 'a/b.parquet'],
  ])('%s is %s', (raw, rel) => expect(relativeTablePath(raw)).toBe(rel));

  it('follows absolute paths and file: URIs only below the table', () => {
    const at = 'file:///data/my%20table';
    expect(relativeTablePath('file:///data/my%20table/x%20y.parquet', at)).toBe('x y.parquet');
    expect(relativeTablePath('file:/data/my%20table/p=1/x.parquet', at)).toBe('p=1/x.parquet');
    expect(relativeTablePath('file://localhost/data/my table/x.parquet', at)).toBe('x.parquet');
    expect(relativeTablePath('/data/my table/x.parquet', at)).toBe('x.parquet');
  });

  it.each([
    ['../x.parquet', undefined, `its ".." leads out of the table's folder`],
    ['a/b/../../../x.parquet', undefined, `its ".." leads out of the table's folder`],
    ['%2E%2E/x.parquet', undefined, `its ".." leads out of the table's folder`],
    ['a%2F..%2F..%2Fx.parquet', undefined, `its ".." leads out of the table's folder`],
    ['..\\x.parquet', undefined, 'it contains a backslash, which Windows reads as a folder separator'],
    ['C:\\x.parquet', undefined, 'it is an absolute Windows path'],
    ['C:/x.parquet', undefined, 'it is an absolute Windows path'],
    ['%2Fetc%2Fpasswd', undefined, 'it is an absolute path'],
    ['x%00.parquet', undefined, 'it contains a NUL character'],
    ['x%ZZ.parquet', undefined, 'it is not a valid percent-encoded path'],
    ['', undefined, 'it is empty'],
    ['a/..', undefined, "it names the table's folder itself, not a file in it"],
    ['/etc/passwd', undefined, "it is an absolute path, and only files inside the table's folder are read"],
    ['file:///etc/passwd', undefined, "it is an absolute path, and only files inside the table's folder are read"],
    ['/etc/passwd', 'file:///data/t', "it is an absolute path outside the table's folder /data/t"],
    ['/data/t2/x.parquet', 'file:///data/t', "it is an absolute path outside the table's folder /data/t"],
    ['/data/t/../u/x.parquet', 'file:///data/t', `its ".." leads out of the table's folder`],
    ['file://evil.example/data/t/x.parquet', 'file:///data/t', 'it is a file: URI on another machine (evil.example)'],
    ['s3://bucket/t/x.parquet', 'file:///data/t', "it is a s3: URI, and only files inside the table's folder are read"],
    ['https://example.com/x.parquet', undefined, "it is a https: URI, and only files inside the table's folder are read"],
  ])('refuses %j (location %s)', (raw, location, why) => {
    expect(() => relativeTablePath(raw, location)).toThrow(why);
  });
});

/** A copy of a fixture whose latest commit names `path` as a data file, with a Parquet file beside the table. */
function hostileTable(path: string, action: 'add' | 'remove' | 'cdc' = 'add'): { dir: string; table: string; outside: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  const table = join(dir, 'table');
  cpSync(join(FIXTURES, 'basic-with-inserts-updates/delta'), table, { recursive: true });
  const outside = join(dir, 'x.parquet');
  const parquet = readdirSync(table).find((f) => f.endsWith('.parquet'))!;
  cpSync(join(table, parquet), outside);
  const entry = { path, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true };
  const line = action === 'remove' ? { remove: { path, deletionTimestamp: 0, dataChange: true } } : action === 'cdc' ? { cdc: entry } : { add: entry };
  mkdirSync(join(table, '_delta_log'), { recursive: true });
  writeFileSync(join(table, '_delta_log', '00000000000000000002.json'), `${JSON.stringify(line)}\n`);
  return { dir, table, outside };
}

describe('a log that names a file outside its table', () => {
  it.each(['../x.parquet', 'a/b/../../../x.parquet', '%2E%2E/x.parquet'])('cli read and cli log refuse %s, naming table, version and path', async (path) => {
    const { table } = hostileTable(path);
    const why = `error: ${table} cannot be read: version 2 of its log names the data file ${JSON.stringify(path)}, which is refused because its ".." leads out of the table's folder\n`;
    for (const command of ['read', 'log']) {
      const r = await cli(command, table);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(why);
    }
  });

  it('refuses an absolute path to the file beside the table, as a path and as a file: URI', async () => {
    const { table, outside } = hostileTable('x');
    for (const named of [outside, pathToFileURL(outside).href]) {
      writeFileSync(
        join(table, '_delta_log', '00000000000000000002.json'),
        `${JSON.stringify({ add: { path: named, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true } })}\n`,
      );
      const r = await cli('read', table);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: ${table} cannot be read: version 2 of its log names the data file ${JSON.stringify(named)}, which is refused because it is an absolute path outside the table's folder ${table}\n`,
      );
    }
  });

  it('reads a data file named by its absolute path when it lies inside the table', async () => {
    const { table } = hostileTable('placeholder');
    const commit1 = readFileSync(join(table, '_delta_log', '00000000000000000001.json'), 'utf8');
    const absolute = commit1.replace(/"add":\{"path":"([^"]+)"/g, (_m, p: string) => `"add":{"path":"${pathToFileURL(join(table, p)).href}"`);
    expect(absolute).not.toBe(commit1);
    writeFileSync(join(table, '_delta_log', '00000000000000000001.json'), absolute);
    writeFileSync(join(table, '_delta_log', '00000000000000000002.json'), '{"commitInfo":{}}\n');
    const relative = new Set((await loadSnapshot(new NodeStorage(join(FIXTURES, 'basic-with-inserts-updates/delta')), '')).files.map((f) => f.path));
    const r = await cli('read', table);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(100);
    expect(relative.size).toBe(2);
  });

  it.each([
    ['remove' as const, 'removed file'],
    ['cdc' as const, 'change data file'],
  ])('refuses a %s action outside the table, in the snapshot and the history', async (action, what) => {
    const { table } = hostileTable('../x.parquet', action);
    const storage = new NodeStorage(table);
    const why = `delta: ${table} cannot be read: version 2 of its log names the ${what} "../x.parquet", which is refused because its ".." leads out of the table's folder`;
    await expect(loadSnapshot(storage, '')).rejects.toMatchObject({ name: 'UnsafePathError', message: why, path: '../x.parquet' });
    await expect(loadSnapshot(storage, '')).rejects.toBeInstanceOf(UnsafePathError);
    await expect(loadHistory(storage, '')).rejects.toThrow(why);
  });

  it('optimize and vacuum refuse it too, and delete nothing', async () => {
    const { table, outside } = hostileTable('../x.parquet');
    const before = readdirSync(table).sort();
    for (const args of [
      ['optimize', table],
      ['vacuum', table, '--retention-hours', '0', '--force'],
    ]) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot be read: version 2 of its log names the data file "../x.parquet"`);
    }
    expect(readdirSync(table).sort()).toEqual(before);
    expect(readFileSync(outside).byteLength).toBeGreaterThan(0);
  });

  it('the storage on disk refuses any path that leaves its root, whoever asks', async () => {
    const { table } = hostileTable('x');
    const storage = new NodeStorage(table);
    await expect(storage.read('../x.parquet')).rejects.toThrow(`storage: "../x.parquet" lies outside ${table}, so it is not opened`);
    await expect(storage.write('a/../../y', new Uint8Array(1))).rejects.toThrow('lies outside');
    await expect(storage.delete('../x.parquet')).rejects.toThrow('lies outside');
  });
});

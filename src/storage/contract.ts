import { isNotFound, NotFoundError, type Storage } from './types.ts';

/**
 * What every Storage must do, as plain checks that run anywhere: Node tests call this on memory
 * and disk storage, the worker calls it on OPFS. Returns one line per failed check ([] = all
 * passed). Works in a fresh folder below `base` and removes it afterwards.
 */
export async function checkStorage(storage: Storage, base = `_contract/${crypto.randomUUID()}`): Promise<string[]> {
  const failures: string[] = [];
  for (const [name, check] of Object.entries(CHECKS)) {
    const dir = `${base}/${name.replace(/[^a-z0-9]+/gi, '-')}`;
    try {
      await check(storage, dir);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    await storage.deleteDir(base);
    const left = await storage.list(base);
    if (left.length > 0) failures.push(`cleanup: ${left.length} files left below ${base}`);
  } catch (err) {
    failures.push(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
  }
  return failures;
}

type Check = (s: Storage, dir: string) => Promise<void>;

const CHECKS: Record<string, Check> = {
  async 'missing file'(s, dir) {
    const path = `${dir}/nothing.json`;
    const err = await s.read(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isNotFound(err)) throw new Error(`read of a missing file: expected NotFoundError, got ${describe(err)}`);
    if (err instanceof NotFoundError && err.path !== path) throw new Error(`NotFoundError.path: expected ${path}, got ${err.path}`);
    same(await s.stat(path), undefined, 'stat of a missing file');
    same(await s.list(`${dir}/no-folder`), [], 'list of a missing folder');
    await s.delete(path);
  },

  async 'write and read'(s, dir) {
    const files: [string, Uint8Array][] = [
      [`${dir}/day=2024-01-01/part 0 ü.json`, text('{"a":1}')],
      [`${dir}/empty`, new Uint8Array(0)],
      [`${dir}/big.bin`, pattern(3 * 1024 * 1024 + 17)],
    ];
    for (const [path, data] of files) await s.write(path, data);
    for (const [path, data] of files) sameBytes(await s.read(path), data, `read ${path}`);
  },

  async 'read a range'(s, dir) {
    const path = `${dir}/part-0.parquet`;
    const data = pattern(3 * 1024 * 1024 + 17);
    await s.write(path, data);
    const cases: [number, number][] = [
      [0, 4],
      [data.byteLength - 8, 8],
      [1_000_003, 65_536],
      [123, 0],
      [data.byteLength - 5, 100],
      [data.byteLength, 10],
      [data.byteLength + 1000, 10],
    ];
    for (const [offset, length] of cases) {
      sameBytes(await s.readRange(path, offset, length), data.subarray(offset, offset + length), `readRange(${offset}, ${length})`);
    }
    await s.write(`${dir}/empty`, new Uint8Array(0));
    sameBytes(await s.readRange(`${dir}/empty`, 0, 8), new Uint8Array(0), 'readRange of an empty file');
    const missing = `${dir}/nothing.parquet`;
    const err = await s.readRange(missing, 0, 8).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isNotFound(err)) throw new Error(`readRange of a missing file: expected NotFoundError, got ${describe(err)}`);
    const bad = await s.readRange(path, -1, 8).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(bad instanceof RangeError)) throw new Error(`readRange from offset -1: expected RangeError, got ${describe(bad)}`);
  },

  async 'write keeps its own copy'(s, dir) {
    const data = text('original');
    await s.write(`${dir}/f`, data);
    data.fill(0);
    sameBytes(await s.read(`${dir}/f`), text('original'), 'after the caller changed its buffer');
  },

  async 'write replaces'(s, dir) {
    await s.write(`${dir}/f`, text('a longer first version'));
    await s.write(`${dir}/f`, text('second'));
    sameBytes(await s.read(`${dir}/f`), text('second'), 'read after the second write');
    same((await s.stat(`${dir}/f`))?.size, 6, 'stat size after the second write');
  },

  async stat(s, dir) {
    const path = `${dir}/a b=c/f.parquet`;
    await s.write(path, pattern(1000));
    const info = await s.stat(path);
    same(info?.path, path, 'stat path');
    same(info?.size, 1000, 'stat size');
    const skew = Math.abs((info?.modificationTime ?? 0) - Date.now());
    if (!(skew < 10 * 60_000)) throw new Error(`stat modificationTime ${info?.modificationTime} is ${skew} ms from now`);
  },

  async list(s, dir) {
    await s.write(`${dir}/t/_delta_log/00000000000000000000.json`, text('{}'));
    await s.write(`${dir}/t/day=2024-01-02/part-1.parquet`, pattern(5));
    await s.write(`${dir}/t/day=2024-01-01/part-0.parquet`, pattern(3));
    await s.write(`${dir}/t-other/x`, pattern(1));
    const expected = [
      [`${dir}/t/_delta_log/00000000000000000000.json`, 2],
      [`${dir}/t/day=2024-01-01/part-0.parquet`, 3],
      [`${dir}/t/day=2024-01-02/part-1.parquet`, 5],
    ];
    same(
      (await s.list(`${dir}/t`)).map((f) => [f.path, f.size]),
      expected,
      `list ${dir}/t`,
    );
    same(
      (await s.list(`${dir}/t/`)).map((f) => [f.path, f.size]),
      expected,
      `list ${dir}/t/`,
    );
    same((await s.list(dir)).length, 4, `number of files below ${dir}`);
  },

  async putIfAbsent(s, dir) {
    const path = `${dir}/_delta_log/00000000000000000001.json`;
    same(await s.putIfAbsent(path, text('first')), true, 'first putIfAbsent');
    same(await s.putIfAbsent(path, text('second')), false, 'second putIfAbsent');
    sameBytes(await s.read(path), text('first'), 'content after the second putIfAbsent');
  },

  async 'putIfAbsent race'(s, dir) {
    const path = `${dir}/_delta_log/00000000000000000000.json`;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent(path, text(`writer ${i}`))));
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    if (winners.length !== 1) throw new Error(`8 racing putIfAbsent: expected exactly 1 true, got ${winners.length}`);
    sameBytes(await s.read(path), text(`writer ${winners[0]}`), 'content after the race');
    same(
      (await s.list(dir)).map((f) => f.path),
      [path],
      `files below ${dir} after the race`,
    );
  },

  async 'no partial file is visible'(s, dir) {
    const path = `${dir}/_delta_log/00000000000000000002.json`;
    const data = pattern(4 * 1024 * 1024);
    let done = false;
    const put = s.putIfAbsent(path, data).finally(() => (done = true));
    const seen = new Set<number>();
    while (!done) {
      const info = await s.stat(path);
      if (info) seen.add(info.size);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    same(await put, true, 'putIfAbsent');
    seen.delete(data.byteLength);
    if (seen.size > 0) throw new Error(`a reader saw sizes ${[...seen].join(', ')} of a ${data.byteLength}-byte file`);
  },

  async delete(s, dir) {
    await s.write(`${dir}/keep`, text('k'));
    await s.write(`${dir}/gone`, text('g'));
    await s.delete(`${dir}/gone`);
    await s.delete(`${dir}/gone`);
    same(await s.stat(`${dir}/gone`), undefined, 'stat after delete');
    same(
      (await s.list(dir)).map((f) => f.path),
      [`${dir}/keep`],
      'list after delete',
    );
  },

  async deleteDir(s, dir) {
    await s.write(`${dir}/t/_delta_log/0.json`, text('{}'));
    await s.write(`${dir}/t/day=2024-01-01/p.parquet`, text('p'));
    await s.write(`${dir}/t2/x`, text('x'));
    await s.deleteDir(`${dir}/t`);
    await s.deleteDir(`${dir}/t`);
    same(await s.list(`${dir}/t`), [], 'list of the deleted folder');
    same(
      (await s.list(dir)).map((f) => f.path),
      [`${dir}/t2/x`],
      'the folder beside it',
    );
  },
};

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Bytes that differ from their neighbours, so a shifted or truncated copy does not compare equal. */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const firstDiff = actual.findIndex((b, i) => b !== expected[i]);
  if (actual.byteLength === expected.byteLength && firstDiff === -1) return;
  throw new Error(
    `${what}: expected ${expected.byteLength} bytes, got ${actual.byteLength}${firstDiff >= 0 ? ` (first difference at byte ${firstDiff})` : ''}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'no error';
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

/**
 * `node --expose-gc --import tsx bench/archive.ts [--mb 300] [--bombs DIR] [--zip64]`: the .zip
 * paths measured (docs/reliability.md, "Archives").
 *
 * - A synthetic lakehouse of about `--mb` MB (four tables of 1 MB incompressible data files, as
 *   Parquet is, and a log naming them) exported through exportLakehouse's chunks to a file,
 *   imported back into an empty lakehouse from that file, and one data file read from it opened as
 *   a table: time, and peak memory above the start (JS heap + ArrayBuffers, sampled every 5 ms;
 *   and the process's peak RSS).
 * - `--bombs DIR`: the time to refuse zip bombs (made once into DIR by Python's zipfile): 1 GiB of
 *   zeros in one entry, 10 GiB in one ZIP64 entry, 10 entries of 1 GiB, and the 1 GiB bomb with its
 *   declared size changed to 1,000 bytes (refused as it inflates).
 * - `--zip64`: an archive past 4 GiB written by zip.ts (the 600 MiB zero entries left as holes of
 *   a sparse file), its last entry read back by Python's zipfile and by unzip.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openAsBlob, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStorage } from '../src/storage/node.ts';
import { ZipArchive, type ZipReadable } from '../src/unzip.ts';
import { exportLakehouse, importLakehouse } from '../src/worker/portable.ts';
import { zipSource } from '../src/worker/opened.ts';
import { KNOWN_TABLES } from '../src/worker/catalog.ts';
import { zipChunks } from '../src/zip.ts';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
};
const MB = 1e6;
const MiB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Runs fn, sampling memory; the peaks above what was held before. */
async function measured<T>(what: string, fn: () => Promise<T>): Promise<T> {
  gc();
  const base = process.memoryUsage();
  const held = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
  let peak = held(base);
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, held(m));
  }, 5);
  const started = performance.now();
  try {
    return await fn();
  } finally {
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    const m = process.memoryUsage();
    peak = Math.max(peak, held(m));
    const maxRss = process.resourceUsage().maxRSS * 1024;
    console.log(
      `${what.padEnd(44)} ${seconds.toFixed(3).padStart(8)} s   held +${((peak - held(base)) / MB).toFixed(0).padStart(5)} MB   ` +
        `peak rss ${(maxRss / MB).toFixed(0).padStart(5)} MB (${(base.rss / MB).toFixed(0)} MB before)`,
    );
  }
}

/** Four tables of the lakehouse, `mb` MB of 1 MB random data files in all, each with a log naming its files. */
async function syntheticLakehouse(root: string, mb: number): Promise<string[]> {
  const storage = new NodeStorage(root);
  const tables = KNOWN_TABLES.slice(0, 4);
  const schemaString = JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] });
  for (const [t, table] of tables.entries()) {
    const lines = [
      JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }),
      JSON.stringify({
        metaData: { id: `t${t}`, format: { provider: 'parquet', options: {} }, schemaString, partitionColumns: [], configuration: {}, createdTime: 0 },
      }),
    ];
    for (let f = 0; f < Math.round(mb / tables.length); f++) {
      const name = `part-${String(f).padStart(5, '0')}.parquet`;
      const data = randomBytes(MB);
      await storage.write(`${table}/${name}`, data);
      lines.push(JSON.stringify({ add: { path: name, partitionValues: {}, size: data.byteLength, modificationTime: 0, dataChange: true } }));
    }
    await storage.write(`${table}/_delta_log/00000000000000000000.json`, new TextEncoder().encode(`${lines.join('\n')}\n`));
  }
  return tables;
}

/** Each step in a process of its own, so that its peak RSS is its own. */
async function lakehouse(mb: number): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-archive-'));
  try {
    await syntheticLakehouse(join(work, 'a'), mb);
    for (const step of ['export', 'import', 'open', 'read']) {
      process.stdout.write(
        execFileSync(process.execPath, [...process.execArgv, import.meta.filename, '--step', step, '--work', work, '--mb', String(mb)], { encoding: 'utf8' }),
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function step(name: string, work: string, mb: number): Promise<void> {
  const tables = KNOWN_TABLES.slice(0, 4);
  const file = join(work, 'creatorops-lakehouse.zip');
  if (name === 'export') {
    await measured(`export ${mb} MB to a file (chunks)`, async () => {
      const plan = await exportLakehouse(new NodeStorage(join(work, 'a')), tables);
      const out = await open(file, 'w');
      for await (const chunk of plan.chunks) await out.write(chunk);
      await out.close();
    });
    console.log(`  archive: ${(statSync(file).size / MB).toFixed(1)} MB`);
  }
  if (name === 'import') {
    await measured(`import ${mb} MB from the file (a Blob)`, async () => {
      const r = await importLakehouse(new NodeStorage(join(work, 'b')), 'creatorops-lakehouse.zip', await openAsBlob(file), {
        known: KNOWN_TABLES,
        present: async () => [],
        clear: async () => {},
      });
      if (r.files !== tables.length * (Math.round(mb / tables.length) + 1)) throw new Error(`imported ${r.files} files`);
    });
  }
  if (name === 'open') {
    await measured('open it as a table, read one data file', async () => {
      const source = await zipSource('creatorops-lakehouse.zip', await openAsBlob(file));
      await source.storage.read(`creatorops-lakehouse/${tables[1]}/part-00000.parquet`);
    });
  }
  if (name === 'read') {
    await measured('read every entry (ZipArchive.read)', async () => {
      const archive = await ZipArchive.open('x.zip', await openAsBlob(file));
      for (const e of archive.entries) await archive.read(e);
    });
  }
}

async function bombs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const made = [
    ['bomb-1g.zip', 1, 1, false],
    ['bomb-10g.zip', 1, 10, true],
    ['bomb-10x1g.zip', 10, 1, false],
  ] as const;
  for (const [name, entries, gib, force] of made) {
    if (existsSync(join(dir, name))) continue;
    const script = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for i in range(${entries}):
        with z.open(f'zeros{i}.bin', 'w', force_zip64=${force ? 'True' : 'False'}) as f:
            for _ in range(${gib * 64}): f.write(bytes(1 << 24))
`;
    execFileSync('python3', ['-c', script, join(dir, name)]);
  }
  // The 1 GiB bomb declaring 1,000 bytes (central record and local header): only inflating finds it out.
  const liar = new Uint8Array(await readFile(join(dir, 'bomb-1g.zip')));
  const v = new DataView(liar.buffer);
  const dir0 = v.getUint32(liar.byteLength - 22 + 16, true);
  v.setUint32(dir0 + 24, 1000, true);
  v.setUint32(22, 1000, true);
  await writeFile(join(dir, 'bomb-1g-liar.zip'), liar);

  for (const name of ['bomb-1g.zip', 'bomb-10g.zip', 'bomb-10x1g.zip', 'bomb-1g-liar.zip']) {
    const size = statSync(join(dir, name)).size;
    let said = '';
    await measured(`refuse ${name} (${(size / MB).toFixed(1)} MB)`, async () => {
      try {
        const archive = await ZipArchive.open(name, await openAsBlob(join(dir, name)));
        for (const e of archive.entries) await archive.read(e);
        said = 'READ WHOLE';
      } catch (err) {
        said = `${(err as Error).name}: ${(err as Error).message}`;
      }
    });
    console.log(`  ${said}`);
  }
}

/** Writes an archive past 4 GiB: 8 entries of 600 MiB of zeros (holes on disk), then a small one. */
async function zip64(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-zip64-'));
  const file = join(work, 'big.zip');
  try {
    const zeros = new Uint8Array(600 * MiB);
    const entries = [
      ...Array.from({ length: 8 }, (_, i) => ({ name: `t/zeros-${i}.bin`, data: zeros })),
      { name: 't/last.json', data: new TextEncoder().encode('{"last":true}\n') },
    ];
    await measured('write 4.7 GiB with zip.ts (sparse file)', async () => {
      const out = await open(file, 'w');
      let at = 0;
      for await (const chunk of zipChunks(entries)) {
        if (chunk !== zeros) await out.write(chunk, 0, chunk.byteLength, at);
        at += chunk.byteLength;
      }
      await out.truncate(at);
      await out.close();
    });
    const py = execFileSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); i = z.getinfo("t/last.json"); print(len(z.infolist()), i.header_offset, z.read(i).decode().strip())',
        file,
      ],
      { encoding: 'utf8' },
    );
    console.log(`  Python: ${py.trim()}`);
    console.log(`  Info-ZIP unzip -l: ${execFileSync('unzip', ['-l', file], { encoding: 'utf8' }).trim().split('\n').at(-1)}`);
    const handle = await open(file, 'r');
    const input: ZipReadable = {
      size: (await handle.stat()).size,
      read: async (start, end) => {
        const out = new Uint8Array(end - start);
        const { bytesRead } = await handle.read(out, 0, out.byteLength, start);
        return out.subarray(0, bytesRead);
      },
    };
    const archive = await ZipArchive.open('big.zip', input);
    const last = archive.entries.at(-1)!;
    console.log(`  unzip.ts: ${archive.entries.length} entries, ${last.name} at ${last.offset}: ${new TextDecoder().decode(await archive.read(last)).trim()}`);
    await handle.close();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const only = option('step');
if (only) await step(only, option('work')!, Number(option('mb')));
else await lakehouse(Number(option('mb') ?? 300));
const bombDir = option('bombs');
if (bombDir) await bombs(bombDir);
if (argv.includes('--zip64')) await zip64();

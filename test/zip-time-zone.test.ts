import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { unzip } from '../src/unzip.ts';
import { zip } from '../src/zip.ts';

/**
 * A zip entry's date and time are the local wall clock (MS-DOS fields). In UTC, where CI runs, a
 * writer and a reader that disagree about the zone still agree, so this file runs in St. John's:
 * 3½ hours behind UTC in winter, 2½ in summer. Set before any date is made (the modules imported
 * above compute none when loaded); the forks pool gives this file a process of its own.
 */
const ZONE = 'America/St_Johns';
process.env.TZ = ZONE;

const text = (s: string) => new TextEncoder().encode(s);
const WINTER = Date.UTC(2025, 0, 2, 3, 4, 6);
const SUMMER = Date.UTC(2025, 6, 2, 3, 4, 6);

describe(`zip dates in ${ZONE}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip-tz-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('the process runs in the zone', () => {
    expect([new Date(WINTER).getTimezoneOffset(), new Date(SUMMER).getTimezoneOffset()]).toEqual([210, 150]);
  });

  test('an entry read back has the time it was written with', async () => {
    const entries = [
      { name: 't/winter.json', data: text('{}'), modified: WINTER },
      { name: 't/summer.json', data: text('[]'), modified: SUMMER },
    ];
    expect((await unzip(zip(entries))).map((e) => [e.name, new Date(e.modified).toISOString()])).toEqual([
      ['t/winter.json', '2025-01-02T03:04:06.000Z'],
      ['t/summer.json', '2025-07-02T03:04:06.000Z'],
    ]);
  });

  test('Python reads the local wall clock from what zip.ts writes', async () => {
    const file = join(dir, 'ours.zip');
    await writeFile(
      file,
      zip([
        { name: 'a.txt', data: text('a'), modified: WINTER },
        { name: 'b.txt', data: text('b'), modified: SUMMER },
      ]),
    );
    const py = 'import sys, zipfile, json; print(json.dumps([list(i.date_time) for i in zipfile.ZipFile(sys.argv[1]).infolist()]))';
    expect(JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }))).toEqual([
      [2025, 1, 1, 23, 34, 6],
      [2025, 7, 2, 0, 34, 6],
    ]);
  });

  test('a file zipped by Info-ZIP in the same zone keeps its modification time', async () => {
    const folder = join(dir, 'src');
    await mkdir(folder);
    await writeFile(join(folder, 'w.txt'), 'w');
    await writeFile(join(folder, 's.txt'), 's');
    await utimes(join(folder, 'w.txt'), WINTER / 1000, WINTER / 1000);
    await utimes(join(folder, 's.txt'), SUMMER / 1000, SUMMER / 1000);
    const file = join(dir, 'theirs.zip');
    execFileSync('zip', ['-q', '-X', file, 's.txt', 'w.txt'], { cwd: folder, env: { ...process.env, TZ: ZONE } });
    const read = await unzip(new Uint8Array(await readFile(file)));
    expect(read.map((e) => [e.name, new Date(e.modified).toISOString()])).toEqual([
      ['s.txt', '2025-07-02T03:04:06.000Z'],
      ['w.txt', '2025-01-02T03:04:06.000Z'],
    ]);
  });
});

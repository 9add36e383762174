import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { unzip } from '../../src/unzip.ts';
import { zip } from '../../src/zip.ts';
import { DIST, ROOT, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/** Issue 7 item 1 (from a .zip): a Delta table written by Spark opens in the explorer, read-only. */
describe('open a Delta table from a .zip', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let dir: string;
  beforeAll(async () => {
    [server, session, dir] = await Promise.all([serveStatic(DIST), launchBrowser(), mkdtemp(join(tmpdir(), 'open-zip-'))]);
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('schema, history and time travel of a Spark table; a deletion-vector table is refused with the reason', async () => {
    const fixture = join(ROOT, '..', 'shared', 'delta-fixtures', 'data-reader-timestamp_ntz');
    const good = join(dir, 'ntz.zip');
    execFileSync('zip', ['-r', '-q', '-9', good, 'delta'], { cwd: fixture });

    const { page } = session;
    await page.goto(`${server.url}#explorer`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await page.getByLabel('Open a .zip of a Delta table').setInputFiles(good);
    const opened = page.getByTestId('opened-table');
    await opened.waitFor({ timeout: 30_000 });
    const text = await opened.innerText();
    expect(text).toContain('ntz.zip — delta (read-only)');
    expect(text).toMatch(/tsNtz\s+timestamp_ntz/);
    expect(text).toContain('tsNtzPartition');
    expect(text).toContain('CREATE TABLE');
    await expect.poll(() => page.getByTestId('opened-files').innerText()).toMatch(/data files at version \d+/);
    await page.getByLabel('Version', { exact: true }).selectOption('0');
    await expect.poll(() => page.getByTestId('opened-files').innerText()).toMatch(/data files at version 0$/);

    // The same table claiming deletion vectors.
    const entries = await unzip(new Uint8Array(await readFile(good)));
    const log0 = entries.find((e) => e.name === 'delta/_delta_log/00000000000000000000.json')!;
    const lines = new TextDecoder().decode(log0.data).split('\n').filter((l) => l && !l.startsWith('{"protocol"'));
    const dv = { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } };
    log0.data = new TextEncoder().encode([...lines, JSON.stringify(dv)].join('\n') + '\n');
    const bad = join(dir, 'dv.zip');
    await writeFile(bad, zip(entries));
    await page.getByLabel('Open a .zip of a Delta table').setInputFiles(bad);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.innerText()).toMatch(/reader feature "deletionVectors".*deletion vectors would be read as if still present/);
    expect(await page.getByTestId('opened-table').count()).toBe(0);
  });
});

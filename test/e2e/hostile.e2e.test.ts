import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { unzip } from '../../src/unzip.ts';
import { zip, type ZipEntry } from '../../src/zip.ts';
import { FIXTURES } from '../helpers/fixtures.ts';
import { rawBytes } from '../helpers/raw-zip.ts';
import { DIST, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Issue 13: hostile and corrupt tables and archives, opened and imported in the page. Each is
 * refused with a sentence naming it and why; nothing in OPFS changes (the lakehouse's files, by
 * name and size, are the same before and after, though the import was confirmed); the
 * lakehouse's own tables keep working.
 */

const text = (s: string) => new TextEncoder().encode(s);

/** The files of a fixture table as zip entries below `prefix`. */
async function fixtureEntries(name: string, prefix: string): Promise<ZipEntry[]> {
  const root = join(FIXTURES, name, 'delta');
  const out: ZipEntry[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push({ name: `${prefix}${rel}${e.name}`, data: new Uint8Array(await readFile(join(dir, e.name))) });
    }
  };
  await walk(root, '');
  return out;
}

/** `entries` with one line appended to the commit `file` (the table's own log, named relative to the archive). */
const withLine = (entries: ZipEntry[], file: string, line: unknown): ZipEntry[] =>
  entries.map((e) => (e.name === file ? { ...e, data: text(`${new TextDecoder().decode(e.data).trimEnd()}\n${JSON.stringify(line)}\n`) } : e));

const add = (path: string, more: Record<string, unknown> = {}) => ({
  add: { path, partitionValues: {}, size: 10, modificationTime: 0, dataChange: true, ...more },
});

/** Every file of this origin's OPFS with its size; the worker's open handles do not stop a read of the size. */
const opfsFiles = (page: Page) =>
  page.evaluate(async () => {
    const out: string[] = [];
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
      for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind === 'directory') await walk(h as FileSystemDirectoryHandle, `${prefix}${name}/`);
        else out.push(`${prefix}${name} ${(await (h as FileSystemFileHandle).getFile().catch(() => ({ size: -1 }))).size}`);
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return out.sort();
  });

describe('hostile tables and archives in the page', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    [server, session, dir] = await Promise.all([serveStatic(DIST), launchBrowser(), mkdtemp(join(tmpdir(), 'hostile-e2e-'))]);
    page = session.page;
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    await runThroughForm(page, { seed: 5, events: 800, days: 10, invalidRate: 0.02 });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('each is refused with a sentence; OPFS is unchanged and the lakehouse keeps working', { timeout: 170_000 }, async () => {
    const before = await opfsFiles(page);
    expect(before.some((f) => f.startsWith('lakehouse/silver/events/_delta_log/00000000000000000000.json'))).toBe(true);
    const tablesBefore = await page.evaluate(() => window.lakehouse.tables());
    const silverBefore = await page.evaluate(() => window.lakehouse.rows('silver/events', undefined, 5, 0));

    const table = await fixtureEntries('basic-with-inserts-updates', 't/');
    const log1 = 't/_delta_log/00000000000000000001.json';
    const open: [string, Uint8Array, string][] = [
      [
        'escape.zip',
        zip(withLine(table, log1, add('../../outside.parquet'))),
        `delta: escape.zip/t cannot be read: version 1 of its log names the data file "../../outside.parquet", which is refused because its ".." leads out of the table's folder`,
      ],
      [
        'encoded.zip',
        zip(withLine(table, log1, add('%2E%2E/%2E%2E/outside.parquet'))),
        `delta: encoded.zip/t cannot be read: version 1 of its log names the data file "%2E%2E/%2E%2E/outside.parquet", which is refused because its ".." leads out of the table's folder`,
      ],
      [
        'absolute.zip',
        zip(withLine(table, log1, add('file:///etc/passwd'))),
        `delta: absolute.zip/t cannot be read: version 1 of its log names the data file "file:///etc/passwd", which is refused because it is an absolute path, and only files inside the table's folder are read`,
      ],
      [
        'malformed.zip',
        zip(withLine(table, log1, add('x.parquet', { size: 'big' }))),
        'delta: version 1 of malformed.zip/t cannot be read: its commit _delta_log/00000000000000000001.json line 4: the size of its add action is the text "big", not a whole number ≥ 0',
      ],
      [
        'variant.zip',
        zip(
          withLine(table, log1, { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['variantType'], writerFeatures: ['variantType'] } }),
        ),
        'delta: variant.zip/t needs the reader feature "variantType", which this reader does not support: its variant columns hold binary-encoded values this reader cannot decode',
      ],
      [
        'link.zip',
        rawBytes([{ name: 't/_delta_log/00000000000000000000.json', stored: text('/etc/passwd'), mode: 0o120777 }]),
        'link.zip: entry "t/_delta_log/00000000000000000000.json" is a symbolic link',
      ],
    ];
    const messages: string[] = [];
    for (const [name, bytes] of open) {
      const file = join(dir, name);
      await writeFile(file, bytes);
      await page.getByRole('tab', { name: 'Explorer', exact: true }).click();
      await page.getByLabel('Open a .zip of a Delta table').setInputFiles(file);
      const alert = page.getByTestId('open-error').filter({ hasText: name });
      await alert.waitFor({ timeout: 30_000 });
      messages.push((await alert.innerText()).replace(/^opening the \.zip: /, ''));
    }
    expect(messages).toEqual(open.map(([, , why]) => why));

    // An import whose silver/events log leaves its folder: refused though the replacement was confirmed.
    const archive = join(dir, 'hostile-lakehouse.zip');
    const hostile = (await fixtureEntries('basic-with-inserts-updates', 'creatorops-lakehouse/silver/events/')).map((e) =>
      e.name.endsWith('00000000000000000001.json')
        ? { ...e, data: text(`${new TextDecoder().decode(e.data).trimEnd()}\n${JSON.stringify(add('../../bronze/events/x.parquet'))}\n`) }
        : e,
    );
    await writeFile(archive, zip(hostile));
    page.once('dialog', (d) => void d.accept());
    await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(archive);
    const refusal = page.getByRole('alert').filter({ hasText: 'hostile-lakehouse.zip' });
    await refusal.waitFor({ timeout: 60_000 });
    expect(await refusal.innerText()).toContain(
      `names the data file "../../bronze/events/x.parquet", which is refused because its ".." leads out of the table's folder`,
    );

    // Nothing in OPFS changed, and the lakehouse's tables still read.
    expect(await opfsFiles(page)).toEqual(before);
    expect(await page.evaluate(() => window.lakehouse.tables())).toEqual(tablesBefore);
    expect(await page.evaluate(() => window.lakehouse.rows('silver/events', undefined, 5, 0))).toEqual(silverBefore);
    await page
      .getByRole('button', { name: /silver\/events/ })
      .first()
      .click();
    await page.getByRole('region', { name: /^silver\/events at version \d+$/ }).waitFor({ timeout: 30_000 });
    expect(session.offOrigin(server.origin)).toEqual([]);
    expect(session.errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    // unzip is what the page used: the hostile archive itself is a sound zip.
    expect((await unzip(await readFile(archive))).length).toBe(hostile.length);
  });
});

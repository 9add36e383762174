import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { zip } from '../../src/zip.ts';
import { DIST, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * A newcomer's first minutes, trap by trap (issue 21): a shared link, the same seed twice, an
 * import and an export opened as a table, VACUUM's unreadable versions, an empty retention, and
 * storage figures that are estimates — in a fresh profile, at phone and desktop width.
 */
describe('the first five minutes', () => {
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let dir: string;
  const dialogs: string[] = [];
  let answer: 'accept' | 'dismiss' = 'dismiss';

  beforeAll(async () => {
    [server, session, dir] = await Promise.all([serveStatic(DIST), launchBrowser(), mkdtemp(join(tmpdir(), 'first-minutes-'))]);
    page = session.page;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (answer === 'accept' ? d.accept() : d.dismiss());
    });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a shared link in a fresh profile offers its run, and says which values it corrected', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}?seed=7&events=1200&days=20&invalid=abc#dashboard`);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
    const offer = page.getByTestId('shared-run');
    await offer.waitFor();
    const text = await offer.innerText();
    expect(text).toContain('Seed 7, 1,200 events over 20 days, invalid rate 0.01');
    expect(text).toContain('invalid must be a number from 0 to 1, got "abc": 0.01 is used');
    await page.getByRole('button', { name: 'Run seed 7 now' }).click();
    await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 90_000 });
    expect(page.url()).toMatch(/#run$/);
    expect(await page.locator('[data-rows="bronze"]').innerText()).toBe('1,200');
    expect(await offer.count()).toBe(0);
  });

  test('the same seed again says every event was a duplicate, and the next seed adds new ones', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await runThroughForm(page, { seed: 7, events: 1200, days: 20, invalidRate: 0.01 });
    const repeated = page.getByTestId('run-repeated');
    await repeated.waitFor();
    expect(await page.locator('[data-rows="silver"]').innerText()).toBe('0');
    expect(await repeated.innerText()).toMatch(
      /Nothing new reached silver: all [\d,]+ valid events of this batch were already there.*Seed 7 with these options was run before/s,
    );
    await page.getByRole('button', { name: 'Run seed 8 instead' }).click();
    await expect.poll(async () => page.locator('[data-rows="silver"]').innerText(), { timeout: 90_000 }).not.toBe('0');
    await page.getByRole('heading', { name: 'Run complete' }).waitFor();
    expect(await repeated.count()).toBe(0);
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('8');
  });

  test('import checks the archive before it asks to replace anything; an export opened as a table asks which', async () => {
    await page.getByRole('tab', { name: 'Explorer', exact: true }).click();
    // A zip of a Delta table that is not one of this lakehouse's: refused, and no question asked.
    const foreign = join(dir, 'people.zip');
    const commit =
      '{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}\n{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\\"type\\":\\"struct\\",\\"fields\\":[]}","partitionColumns":[],"configuration":{}}}\n';
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(foreign, zip([{ name: 'people/_delta_log/00000000000000000000.json', data: new TextEncoder().encode(commit) }])),
    );
    await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(foreign);
    const alert = page.locator('#panel p.error[role="alert"]');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('people.zip holds Delta tables that are not tables of this lakehouse: people');
    expect(dialogs).toEqual([]);

    // The lakehouse's own export: checked, then the question names what comes in and what goes.
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export lakehouse (.zip)' }).click();
    const exported = join(dir, 'creatorops-lakehouse.zip');
    await (await downloading).saveAs(exported);
    await page.getByLabel('Import a lakehouse (.zip)').setInputFiles(exported);
    await page.getByText('Import cancelled: the lakehouse is unchanged.').waitFor();
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toMatch(
      /^Replace the lakehouse in this browser with the 10 tables of creatorops-lakehouse\.zip \(bronze\/events \(v2\), silver\/events \(v2\)/,
    );

    // Opened as one table: it names the tables it holds and opens the one chosen.
    await page.getByLabel('Open a .zip of a Delta table').setInputFiles(exported);
    const choice = page.getByTestId('open-choice');
    await choice.waitFor();
    expect(await choice.innerText()).toContain('creatorops-lakehouse.zip holds 10 Delta tables');
    await choice.getByRole('button', { name: 'creatorops-lakehouse/silver/events' }).click();
    await page.getByTestId('opened-table').waitFor();
    expect(await page.locator('#table-title').innerText()).toContain('opened/creatorops_lakehouse_creatorops_lakehouse_silver_events');
  });

  test('VACUUM: an empty retention is an error; versions whose files are gone are marked unreadable', async () => {
    await page.goto(`${server.url}#explorer/gold/engagement_bands`);
    await page.locator('#table-title').filter({ hasText: 'gold/engagement_bands' }).waitFor();
    const retention = page.getByLabel('Retention (hours)');
    await retention.fill('');
    await page.getByRole('button', { name: /^Vacuum/ }).click();
    await page.getByText('The retention is empty: give the hours of history to keep').waitFor();
    answer = 'accept';
    await retention.fill('0');
    await page.getByRole('button', { name: /^Vacuum/ }).click();
    await page.getByText(/^Vacuumed: deleted/).waitFor();
    answer = 'dismiss';
    const marked = page.getByTestId('unreadable-versions');
    await marked.waitFor();
    expect(await marked.innerText()).toMatch(/^Versions 1, 0 cannot be read any more: VACUUM deleted data files they need/);
    const options = await page
      .getByLabel('Version')
      .locator('option')
      .evaluateAll((os) => os.map((o) => [o.textContent, (o as HTMLOptionElement).disabled]));
    expect(options).toEqual([
      ['2 (latest)', false],
      ['1 (unreadable: vacuumed)', true],
      ['0 (unreadable: vacuumed)', true],
    ]);
    expect(await page.getByRole('button', { name: 'Show rows at version 1' }).isDisabled()).toBe(true);
  });

  test('storage figures from the browser are labelled as its estimates', async () => {
    const line = await page.getByTestId('storage').innerText();
    expect(line).toMatch(/^Storage: [\d.]+ [kKMG]?B in the tables' current versions · (the browser estimates [\d.]+ [kKMG]?B used by this site|quota about )/);
    expect(session.errors).toEqual([]);
  });
});

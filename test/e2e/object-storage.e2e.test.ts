import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AwsClient } from 'aws4fetch';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs script, without types
import { startServers } from '../../scripts/storage-servers.mjs';
import { loadSnapshot } from '../../src/delta/snapshot.ts';
import { AzureClient, azureConfigFromEnv } from '../../src/storage/azure.ts';
import { S3Client, s3ConfigFromEnv, s3Storage } from '../../src/storage/s3.ts';
import { DIST, ROOT, grid, launchBrowser, runThroughForm, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Issue 18 item 3: the page and a bucket. moto (S3) and Azurite (Blob) on loopback, started here
 * as the object-storage project starts them (scripts/storage-servers.mjs), each with CORS rules
 * for this page's origin set through the store's own API; Chromium enforces CORS as it would
 * against AWS or Azure (no flag turns it off). Tables written there by `cli run` are listed and
 * opened read-only in the Explorer, with the requests counted; the browser's lakehouse is pushed
 * (and checked with `cli read`), pulled, and a diverged history is refused.
 */
const BUCKET = 'lakehouse';
const cliRun = promisify(execFile);
let env: Record<string, string>;
const cli = async (...args: string[]): Promise<string> =>
  (
    await cliRun(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 2 ** 20,
    })
  ).stdout;
const readLines = async (...args: string[]) =>
  (await cli('read', ...args))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A container SAS (service SAS, signed with the account key, version 2022-11-02): what a user pastes as the container URL. */
function containerSas(account: string, key: string, container: string): string {
  const sv = '2022-11-02';
  const se = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const sp = 'racwdl';
  const toSign = [sp, '', se, `/blob/${account}/${container}`, '', '', '', sv, 'c', '', '', '', '', '', '', ''].join('\n');
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign, 'utf8').digest('base64');
  return new URLSearchParams({ sv, sr: 'c', sp, se, sig }).toString();
}

/** PutBucketCors through S3's API (what `aws s3api put-bucket-cors` sends). */
async function putBucketCors(origins: string[]): Promise<void> {
  // moto copies AllowedHeader into its answer as written, where S3 matches `x-amz-*` against the
  // request; so the rule names the headers the page sends.
  const headers = ['authorization', 'content-type', 'if-none-match', 'range', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'];
  const xml =
    '<CORSConfiguration><CORSRule>' +
    origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('') +
    ['GET', 'HEAD', 'PUT', 'DELETE'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
    headers.map((h) => `<AllowedHeader>${h}</AllowedHeader>`).join('') +
    '<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>';
  const aws = new AwsClient({ accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!, region: 'us-east-1', service: 's3' });
  const res = await aws.fetch(`${env.AWS_ENDPOINT_URL}/${BUCKET}?cors`, {
    method: 'PUT',
    body: xml,
    headers: { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(xml).digest('base64') },
  });
  expect(res.status, await res.text()).toBe(200);
  // moto 5.2.5 runs its anonymous-access check before it answers OPTIONS on an object, so the
  // preflight of a GET or HEAD of an existing private object gets 403 (S3 answers it from the CORS
  // rules). `s3:OptionsObject` is the action moto checks there, and no real S3 action: allowing it
  // unlocks moto's preflights only (the rule above still decides the origin; anonymous reads stay 403).
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'MotoPreflight', Effect: 'Allow', Principal: '*', Action: 's3:OptionsObject', Resource: `arn:aws:s3:::${BUCKET}/*` }],
  });
  const set = await aws.fetch(`${env.AWS_ENDPOINT_URL}/${BUCKET}?policy`, { method: 'PUT', body: policy, headers: { 'content-type': 'application/json' } });
  expect(set.status, await set.text()).toBe(200);
}

describe('object storage from the page: moto (S3) and Azurite (Blob), CORS enforced by Chromium', () => {
  let stop: () => void;
  let server: StaticServer;
  let session: BrowserSession;
  let page: Page;
  let s3Origin: string;
  let azureOrigin: string;
  let azureEndpoint: string;

  beforeAll(async () => {
    const started = (await startServers()) as { env: Record<string, string>; stop: () => void };
    env = started.env;
    stop = started.stop;
    s3Origin = new URL(env.AWS_ENDPOINT_URL!).origin;
    azureEndpoint = azureConfigFromEnv(BUCKET, env).endpoint;
    azureOrigin = new URL(azureEndpoint).origin;
    await new S3Client(s3ConfigFromEnv(BUCKET, env)).createBucket();
    await new AzureClient(azureConfigFromEnv(BUCKET, env)).createContainer();
    // Two batches written to the bucket by the CLI, so silver/events has two data files; one on Azure.
    await cli('run', '--events', '2000', '--seed', '3', '--days', '20', '--out', `s3://${BUCKET}/seeded`);
    await cli('run', '--events', '2000', '--seed', '4', '--days', '20', '--out', `s3://${BUCKET}/seeded`);
    await cli('run', '--events', '1500', '--seed', '5', '--days', '20', '--out', `az://${BUCKET}/seeded`);
    [server, session] = await Promise.all([serveStatic(DIST), launchBrowser()]);
    page = session.page;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(server.url);
    expect(await waitForEngine(page)).toMatch(/^Engine ready/);
  }, 300_000);
  afterAll(async () => {
    await session?.close();
    await server?.close();
    stop?.();
  });

  const tab = (name: string) => page.getByRole('tab', { name, exact: true }).click();
  const storeRequests = (from: number) => session.requests.slice(from).filter((u) => !u.startsWith(`${server.origin}/`));
  const connectButton = () => page.getByRole('button', { name: 'Connect', exact: true });

  async function connectS3(prefix: string): Promise<void> {
    await page.getByLabel('S3-compatible').check();
    await page.getByLabel('Endpoint URL').fill(env.AWS_ENDPOINT_URL!);
    await page.getByLabel('Region').fill('us-east-1');
    await page.getByLabel('Bucket').fill(BUCKET);
    await page.getByLabel('Prefix (optional)').fill(prefix);
    await page.getByLabel('Access key id').fill(env.AWS_ACCESS_KEY_ID!);
    await page.getByLabel('Secret access key').fill(env.AWS_SECRET_ACCESS_KEY!);
    await connectButton().click();
  }

  async function connectAzure(prefix: string, sas: string): Promise<void> {
    await page.getByLabel('Azure Blob Storage').check();
    await page.getByLabel('Container URL with a SAS token').fill(`${azureEndpoint}/${BUCKET}?${sas}`);
    await page.getByLabel('Prefix (optional)').fill(prefix);
    await connectButton().click();
  }

  /** Wait for the panel's outcome: its result line, or its error. */
  async function outcome(): Promise<{ done?: string; error?: string }> {
    const done = page.getByTestId('store-result');
    const error = page.getByTestId('store-error');
    await done.or(error).first().waitFor({ timeout: 90_000 });
    return (await error.count()) ? { error: await error.innerText() } : { done: await done.innerText() };
  }

  test('S3 without a CORS rule for this origin: the request gets no answer, and the page says CORS is the likely cause', async () => {
    await tab('Explorer');
    await putBucketCors(['http://127.0.0.1:1']);
    await connectS3('seeded');
    const { error } = await outcome();
    expect(error).toContain(`got no response (Failed to fetch). The likely cause is CORS: ${s3Origin} must allow requests from ${server.origin}`);
    expect(await page.locator('details.cors').getAttribute('open')).not.toBeNull();
    expect(await page.getByTestId('s3-cors').innerText()).toContain(`"${server.origin}"`);
  });

  test('S3: the tables cli run wrote are listed and opened read-only; a first page and a filter fetch only the files they need', async () => {
    await putBucketCors([server.origin]);
    const seeded = s3Storage(BUCKET, 'seeded', env);
    const snap = await loadSnapshot(seeded, 'silver/events');
    expect(snap.files).toHaveLength(2);

    const start = session.requests.length;
    await connectS3('seeded');
    expect((await outcome()).done).toBe('Connected to s3://lakehouse/seeded: 10 Delta tables found.');
    const listed = await page.getByTestId('store-tables').innerText();
    for (const t of ['bronze/events', 'silver/events', 'silver/rejects', 'silver/quality', 'gold/engagement_bands']) expect(listed).toContain(t);
    expect(listed).toMatch(new RegExp(`silver/events\\s+version ${snap.version},`));
    // The secret left the form once the worker had it; nothing of it is in the address.
    expect(await page.getByLabel('Secret access key').inputValue()).toBe('');
    expect(page.url()).not.toContain(env.AWS_SECRET_ACCESS_KEY!);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes('object-store')))).toEqual([]);

    const opening = session.requests.length;
    await page.getByRole('button', { name: 'Open silver/events', exact: true }).click();
    const cliRows = await readLines(`s3://${BUCKET}/seeded/silver/events`);
    await page.getByTestId('opened-table').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('store-table-note').innerText()).toContain('s3://lakehouse/seeded/silver/events');
    await expect
      .poll(() => page.getByTestId('row-count').innerText(), { timeout: 60_000 })
      .toBe(`${cliRows.length.toLocaleString('en-US')} rows at version ${snap.version}; showing 1–100.`);
    const region = page.getByRole('region', { name: `opened/silver_events at version ${snap.version}`, exact: true });
    const header = await region.locator('thead th').allInnerTexts();
    const rows = await grid(region);
    expect(rows).toHaveLength(100);
    const byId = new Map(cliRows.map((r) => [r.event_id, r]));
    const col = (name: string) => header.findIndex((h) => h.trim().startsWith(name));
    for (const r of rows) {
      const expected = byId.get(r[col('event_id')]!)!;
      expect(expected, r[col('event_id')]!).toBeDefined();
      for (const c of ['event_type', 'creator_id', 'work_id', 'stage', 'batch_id']) expect(r[col(c)], c).toBe(expected[c] ?? null);
      expect(r[col('words')]).toBe(expected.words === null ? null : String(expected.words));
    }
    // Only one of the version's two data files was fetched for the first page.
    await expect.poll(() => page.getByTestId('opened-reads').innerText()).toMatch(/^Data files read from the bucket so far: 1 \(the latest version has 2;/);
    const firstPage = storeRequests(opening);
    const dataGets = (list: string[]) => list.filter((u) => u.endsWith('.parquet'));
    // One file, in two ranged reads: its footer, then the row group the first page lies in.
    expect(new Set(dataGets(firstPage)).size).toBe(1);
    expect(dataGets(firstPage)).toHaveLength(2);
    // Each commit fetched once; the rest are listings (the log, the folder).
    expect(firstPage.filter((u) => /\/_delta_log\/\d{20}\.json$/.test(u))).toHaveLength(snap.version + 1);
    expect(firstPage.filter((u) => u.includes('?list-type=2&')).length).toBe(firstPage.length - (snap.version + 1) - dataGets(firstPage).length);
    expect(snap.files.map((f) => `${s3Origin}/${BUCKET}/seeded/silver/events/${f.path}`)).toContain(dataGets(firstPage)[0]);
    const listed0 = session.requests.slice(start, opening).filter((u) => u.startsWith(s3Origin));
    console.log(
      `S3: connect+list ${listed0.length} requests; open silver/events and its first page ${firstPage.length} (${dataGets(firstPage).length} ranged reads of 1 data file): ` +
        firstPage.map((u) => `${new URL(u).pathname.replace(/^\/lakehouse\/seeded\/silver\/events\//, '')}${new URL(u).search}`).join(' '),
    );

    // A filter on batch_id (each file holds one batch): the other file is skipped by its statistics.
    const second = snap.files.map((f) => JSON.parse(f.stats!).minValues.batch_id as string).sort()[1]!;
    const filtering = session.requests.length;
    await page.getByLabel('Row filter').fill(`batch_id = '${second}'`);
    await page.getByRole('button', { name: 'Apply' }).click();
    const matching = cliRows.filter((r) => r.batch_id === second).length;
    await expect
      .poll(() => page.getByTestId('row-count').innerText(), { timeout: 60_000 })
      .toBe(`${matching.toLocaleString('en-US')} rows at version ${snap.version} matching "batch_id" = '${second}'; showing 1–100.`);
    expect(await page.getByTestId('rows-files').innerText()).toBe('Files: read 1 of 2 files (1 skipped: 1 by statistics).');
    const filtered = storeRequests(filtering);
    expect(dataGets(filtered)).toHaveLength(1);
    console.log(`S3: the filter ${filtered.length} requests (${dataGets(filtered).length} data file)`);

    // Time travel: version 0 is the first batch alone, as cli read --version 0 says.
    const v0 = await readLines(`s3://${BUCKET}/seeded/silver/events`, '--version', '0');
    await page.getByLabel('Row filter').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByLabel('Version', { exact: true }).selectOption('0');
    await expect
      .poll(() => page.getByTestId('row-count').innerText(), { timeout: 60_000 })
      .toBe(`${v0.length.toLocaleString('en-US')} rows at version 0; showing 1–100.`);

    // Every request of the page went to the page's own origin or to the endpoint given.
    expect(new Set(storeRequests(start).map((u) => new URL(u).origin))).toEqual(new Set([s3Origin]));

    // A gold table: every row as cli read gives it.
    await page.getByRole('button', { name: 'Open gold/engagement_bands', exact: true }).click();
    const bands = page.getByRole('region', { name: /^opened\/gold_engagement_bands at version \d+$/ });
    await bands.waitFor({ timeout: 60_000 });
    const gold = await readLines(`s3://${BUCKET}/seeded/gold/engagement_bands`);
    const goldHeader = (await bands.locator('thead th').allInnerTexts()).map((h) => h.trim().split(/\s/)[0]!);
    const shown = (await grid(bands)).map((r) => Object.fromEntries(goldHeader.map((h, i) => [h, r[i]])));
    expect(shown.map((r) => [r.band, Number(r.sessions), Number(r.share), Number(r.avg_progress_pct)])).toEqual(
      gold.map((r) => [r.band, r.sessions, r.share, r.avg_progress_pct]),
    );

    // Writes are refused: the table is read-only.
    const refused = await page.evaluate(() =>
      window.lakehouse.optimize('opened/silver_events').then(
        () => 'optimized',
        (e: Error) => e.message,
      ),
    );
    expect(refused).toBe(
      'optimizing the table: s3://lakehouse/seeded/silver/events is opened read-only from object storage: the page does not write to it ' +
        '(to change it, pull the lakehouse into this browser, or run the CLI against the bucket)',
    );
  });

  test('S3: the browser’s lakehouse pushed to a prefix reads the same with cli read; a pull into it is refused as diverged, then works into an empty one', async () => {
    await tab('Run');
    await runThroughForm(page, { seed: 21, events: 1500, days: 15, invalidRate: 0.02 });
    await tab('Explorer');
    await connectS3('pushed');
    expect((await outcome()).done).toBe('Connected to s3://lakehouse/pushed: 0 Delta tables found.');
    const pushing = session.requests.length;
    await page.getByRole('button', { name: 'Push this lakehouse to s3://lakehouse/pushed' }).click();
    const pushed = (await outcome()).done!;
    expect(pushed).toMatch(/^Pushed to s3:\/\/lakehouse\/pushed: 10 tables: bronze\/events v0 \(1 new commit\), /);
    console.log(`S3: push ${storeRequests(pushing).length} requests: ${pushed}`);
    expect(await page.getByTestId('store-tables').innerText()).toContain('gold/engagement_bands');

    const inPage = await page.evaluate(() => window.lakehouse.goldTable('engagement_bands'));
    expect(await readLines(`s3://${BUCKET}/pushed/gold/engagement_bands`)).toEqual(inPage.rows);
    const silverTotal = (await page.evaluate(() => window.lakehouse.rows('silver/events', undefined, 1))).total;
    expect(await readLines(`s3://${BUCKET}/pushed/silver/events`)).toHaveLength(silverTotal);
    expect((await cli('log', `s3://${BUCKET}/pushed/silver/events`)).trim().split('\n').length).toBeGreaterThan(1);

    // Pulling the seeded lakehouse into this one: their histories differ from version 0 on.
    await connectS3('seeded');
    await outcome();
    await page.getByRole('button', { name: 'Pull the lakehouse from s3://lakehouse/seeded' }).click();
    expect((await outcome()).error).toMatch(
      /^pulling the lakehouse: bronze\/events\/_delta_log\/00000000000000000000\.json differs between s3:\/\/lakehouse\/seeded and .*: the two lakehouses went apart at version 0 of bronze\/events, so its history there was left as it was$/,
    );

    await page.evaluate(() => window.lakehouse.reset());
    await page.getByRole('button', { name: 'Pull the lakehouse from s3://lakehouse/seeded' }).click();
    expect((await outcome()).done).toMatch(/^Pulled from s3:\/\/lakehouse\/seeded: 10 tables: bronze\/events v1 \(2 new commits\), /);
    expect((await page.evaluate(() => window.lakehouse.goldTable('engagement_bands'))).rows).toEqual(
      await readLines(`s3://${BUCKET}/seeded/gold/engagement_bands`),
    );
    const pulledSilver = (await page.evaluate(() => window.lakehouse.rows('silver/events', undefined, 1))).total;
    expect(pulledSilver).toBe((await readLines(`s3://${BUCKET}/seeded/silver/events`)).length);
  });

  test('Azure: a container SAS URL; CORS set with Set Blob Service Properties; a table opened, the lakehouse pushed', async () => {
    const { account, auth } = azureConfigFromEnv(BUCKET, env);
    const sas = containerSas(account, (auth as { key: string }).key, BUCKET);
    // No CORS rule yet: Azurite refuses the preflight, and the page says why.
    await connectAzure('seeded', sas);
    expect((await outcome()).error).toContain(`The likely cause is CORS: ${azureOrigin} must allow requests from ${server.origin}`);

    await new AzureClient(azureConfigFromEnv(BUCKET, env)).setCors({
      origins: [server.origin],
      methods: ['GET', 'HEAD', 'PUT', 'DELETE'],
      headers: ['authorization', 'x-ms-*', 'if-none-match', 'content-type', 'range'],
      exposed: ['etag'],
    });
    const start = session.requests.length;
    await connectAzure('seeded', sas);
    expect((await outcome()).done).toBe('Connected to az://lakehouse/seeded: 10 Delta tables found.');
    expect(page.url()).not.toContain('sig=');
    expect(await page.getByLabel('Container URL with a SAS token').inputValue()).toBe(`${azureEndpoint}/${BUCKET}`);

    const opening = session.requests.length;
    await page.getByRole('button', { name: 'Open silver/events', exact: true }).click();
    const cliRows = await readLines(`az://${BUCKET}/seeded/silver/events`);
    await expect
      .poll(() => page.getByTestId('row-count').innerText(), { timeout: 60_000 })
      .toBe(`${cliRows.length.toLocaleString('en-US')} rows at version 0; showing 1–100.`);
    const firstPage = storeRequests(opening);
    const dataGets = firstPage.filter((u) => new URL(u).pathname.endsWith('.parquet'));
    expect(new Set(dataGets).size).toBe(1);
    expect(dataGets).toHaveLength(2);
    expect(firstPage.filter((u) => /\/_delta_log\/\d{20}\.json$/.test(new URL(u).pathname))).toHaveLength(1);
    const listed0 = session.requests.slice(start, opening).filter((u) => u.startsWith(azureOrigin));
    console.log(
      `Azure: connect+list ${listed0.length} requests; open silver/events and its first page ${firstPage.length}: ` +
        firstPage.map((u) => new URL(u).pathname.replace(/^\/devstoreaccount1\/lakehouse\/seeded\/silver\/events\//, '')).join(' '),
    );

    await connectAzure('pushed', sas);
    expect((await outcome()).done).toBe('Connected to az://lakehouse/pushed: 0 Delta tables found.');
    await page.getByRole('button', { name: 'Push this lakehouse to az://lakehouse/pushed' }).click();
    expect((await outcome()).done).toMatch(/^Pushed to az:\/\/lakehouse\/pushed: 10 tables: /);
    expect(await readLines(`az://${BUCKET}/pushed/gold/engagement_bands`)).toEqual(
      (await page.evaluate(() => window.lakehouse.goldTable('engagement_bands'))).rows,
    );
    expect(new Set(storeRequests(start).map((u) => new URL(u).origin))).toEqual(new Set([azureOrigin]));

    // Kept on this device only when asked, and forgotten with one button.
    const kept = () => page.evaluate(() => localStorage.getItem('creatorops-object-store'));
    expect(await kept()).toBeNull();
    await page.getByLabel('Keep on this device').check();
    await connectAzure('pushed', sas);
    await outcome();
    expect(JSON.parse((await kept())!)).toEqual({
      kind: 'azure',
      containerUrl: `${azureEndpoint}/${BUCKET}?${sas}`,
      prefix: 'pushed',
      accountName: '',
      accountKey: '',
    });
    await page.getByRole('button', { name: 'Forget the saved connection' }).click();
    expect(await kept()).toBeNull();
    expect(await page.getByLabel('Container URL with a SAS token').inputValue()).toBe(`${azureEndpoint}/${BUCKET}`);
    expect(page.url()).not.toContain('sig=');
    expect(session.errors.filter((e) => !/CORS|Failed to load resource|net::ERR_FAILED/.test(e))).toEqual([]);
  });
});

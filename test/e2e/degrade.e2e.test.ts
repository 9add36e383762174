import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DIST, launchBrowser, serveStatic, waitForEngine, type BrowserSession, type StaticServer } from './harness.ts';

/**
 * Each browser API the app leans on, taken away in turn in Chromium — in the page with an init
 * script, in the lakehouse worker by a line put before its script — as some browser or window
 * lacks it (Firefox's private windows refuse OPFS, WebKitGTK has none, …). Each time the banner
 * names exactly what is missing and what that costs, and a run still completes. (With every API
 * there, no banner: browsers.e2e.test.ts, Chromium and Firefox.)
 */
const RUN = { events: 1000, seed: 3, days: 20, invalidRate: 0.05 };

interface Case {
  name: string;
  /** run in the page before its scripts */
  page?: string;
  /** run in the lakehouse worker before its code */
  worker?: string;
  storage: string;
  limitations: string[];
  /** a phrase of the banner's reason */
  reason?: string;
}

const CASES: Case[] = [
  {
    name: 'no OPFS (WebKitGTK)',
    worker: 'delete StorageManager.prototype.getDirectory;',
    storage: 'memory (this tab only)',
    limitations: ['opfs'],
    reason: 'navigator.storage.getDirectory is missing',
  },
  {
    name: 'OPFS refused (a private window in Firefox)',
    worker: `StorageManager.prototype.getDirectory = () => Promise.reject(new DOMException('Security error when calling GetDirectory', 'SecurityError'));`,
    storage: 'memory (this tab only)',
    limitations: ['opfs'],
    reason: 'SecurityError: Security error when calling GetDirectory',
  },
  {
    name: 'OPFS that opens but will not write',
    worker: `FileSystemFileHandle.prototype.createSyncAccessHandle = () => Promise.reject(new DOMException('no space', 'QuotaExceededError'));`,
    storage: 'memory (this tab only)',
    limitations: ['opfs'],
    reason: 'QuotaExceededError',
  },
  {
    name: 'no synchronous access handles',
    worker: 'delete FileSystemFileHandle.prototype.createSyncAccessHandle;',
    storage: 'OPFS lakehouse/',
    limitations: ['sync-access'],
  },
  {
    name: 'no Web Locks',
    worker: 'delete WorkerNavigator.prototype.locks;',
    page: 'delete Navigator.prototype.locks;',
    storage: 'OPFS lakehouse/',
    limitations: ['web-locks'],
  },
  {
    name: 'no service worker',
    page: 'delete Navigator.prototype.serviceWorker;',
    storage: 'OPFS lakehouse/',
    limitations: ['service-worker'],
  },
  {
    name: 'a service worker that may not register',
    page: `ServiceWorkerContainer.prototype.register = () => Promise.reject(new DOMException('The operation is insecure.', 'SecurityError'));`,
    storage: 'OPFS lakehouse/',
    limitations: ['service-worker'],
    reason: 'registering the service worker failed: SecurityError',
  },
];

/** Put `code` before the lakehouse worker's script (the worker entry of the build). */
async function patchWorker(context: BrowserContext, code: string): Promise<void> {
  await context.route(/\/assets\/worker-[\w-]+\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: `${code}\n${await response.text()}` });
  });
}

async function banner(page: Page): Promise<{ features: string[]; text: string }> {
  // The banner asks the worker, and waits for the service worker's registration (after load).
  await page.waitForTimeout(1000);
  const items = page.locator('[data-testid="limitations"] li');
  return {
    features: await items.evaluateAll((li) => li.map((l) => l.getAttribute('data-feature') ?? '')),
    text: (
      await page
        .locator('[data-testid="limitations"]')
        .innerText()
        .catch(() => '')
    ).replace(/\s+/g, ' '),
  };
}

describe('each missing browser API degrades on its own, and says so', () => {
  let server: StaticServer;
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    server = await serveStatic(DIST);
  });
  afterAll(() => server.close());
  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  for (const c of CASES) {
    test(`${c.name}: the banner says what is lost, and a run completes`, async () => {
      session = await launchBrowser();
      const { context, page } = session;
      if (c.page) await context.addInitScript({ content: c.page });
      if (c.worker) await patchWorker(context, c.worker);
      await page.goto(server.url);
      expect(await waitForEngine(page)).toMatch(
        new RegExp(
          `^Engine ready — DuckDB v1\\.4\\.3 duckdb-wasm 1\\.32\\.0 · tables in ${c.storage.replace(/[()/]/g, '\\$&')} · started \\d+\\.\\d s after the page opened$`,
        ),
      );
      const shown = await banner(page);
      expect(shown.features).toEqual(c.limitations);
      if (c.reason) expect(shown.text).toContain(c.reason);
      if (c.limitations.includes('opfs')) expect(shown.text).toContain('they vanish when this tab is closed or reloaded');

      const summary = await page.evaluate((o) => window.lakehouse.run(o), RUN);
      const silver = summary.silver[0]!;
      expect(silver.silverRows + silver.rejectedRows).toBe(RUN.events);
      expect(summary.gold.length).toBe(6);
      const tables = await page.evaluate(() => window.lakehouse.tables());
      expect(tables.map((t) => `${t.path}@${t.version}`)).toContain('silver/events@0');
      expect(tables.length).toBe(10);
      expect(session.errors.filter((e) => !e.includes('service worker not registered'))).toEqual([]);
    });
  }

  test('no showDirectoryPicker (Firefox, Safari): Open a Delta table offers the folder input', async () => {
    session = await launchBrowser();
    const { context, page } = session;
    await context.addInitScript({ content: 'delete window.showDirectoryPicker;' });
    await page.goto(`${server.url}#explorer`);
    await page.getByRole('heading', { name: 'Lakehouse explorer' }).waitFor();
    expect(await page.getByRole('button', { name: 'Choose a folder…' }).count()).toBe(0);
    expect(await page.locator('input[type="file"][webkitdirectory]').count()).toBe(1);
  });

  test('the engine file does not load: the status says which file and what still works, and the tables show', async () => {
    session = await launchBrowser({ serviceWorkers: 'block' });
    const { context, page } = session;
    await context.route(/duckdb-eh-[\w-]+\.wasm$/, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
    await page.goto(server.url);
    const status = await waitForEngine(page);
    expect(status).toMatch(/^Engine failed: starting the engine: engine: DuckDB's engine file duckdb-eh-[\w-]+\.wasm did not load \(TypeError: [^)]+\); /);
    expect(status).toContain('The tables, their logs and the dashboard still show; runs, rows and SQL need the engine.');
    expect(await page.getByRole('tab').allInnerTexts()).toEqual(['Run', 'Dashboard', 'Explorer', 'Quality', 'SQL', 'Learn']);
  });
});

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

/**
 * End-to-end tests run the production build in Debian's Chromium, served by a plain static
 * server, offline. The build goes to its own folder so that a `vite build` or `npm start`
 * running beside the tests cannot empty it under them.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = process.env.E2E_DIST ?? join(ROOT, '.tmp', 'e2e-dist');

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `vite build` into DIST, unless E2E_DIST names an existing build. Run once, by globalSetup. */
export async function buildApp(): Promise<void> {
  if (process.env.E2E_DIST) {
    await stat(join(DIST, 'index.html'));
    return;
  }
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--outDir', DIST, '--emptyOutDir', '--logLevel', 'warn'];
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    // NODE_ENV=production: vitest sets NODE_ENV=test, and a build under it is a development build.
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    child.on('error', fail);
    child.on('close', done);
  });
  if (code !== 0) throw new Error(`e2e: vite build failed (exit ${code}):\n${Buffer.concat(output).toString()}`);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234/ or, with a base, http://127.0.0.1:41234/some/path/ */
  url: string;
  origin: string;
  /** Paths asked for, in order. */
  served: string[];
  close(): Promise<void>;
}

/** Serve `dir` at `base` on 127.0.0.1, on a free port. Anything outside `base` is a 404. */
export async function serveStatic(dir: string, base = '/'): Promise<StaticServer> {
  const root = resolve(dir);
  const served: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    served.push(path);
    const notFound = (): void => void res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !path.startsWith(base)) return notFound();
    let file = resolve(root, `.${sep}${path.slice(base.length)}`);
    if (file !== root && !file.startsWith(root + sep)) return notFound();
    void stat(file)
      .then(async (st) => {
        if (st.isDirectory()) {
          file = join(file, 'index.html');
          st = await stat(file);
        }
        res.writeHead(200, {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-length': st.size,
          'cache-control': 'no-store',
        });
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file).pipe(res);
      })
      .catch(notFound);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin + base,
    origin,
    served,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every URL the browser asked for: the page, its worker, everything. */
  requests: string[];
  /** Console errors (page and workers), uncaught exceptions, crashes: each as one line. */
  errors: string[];
  /** Requests whose origin is not `origin`. */
  offOrigin(origin: string): string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile (so a fresh OPFS), recording requests and errors. */
export async function launchBrowser(options: { serviceWorkers?: 'allow' | 'block' } = {}): Promise<BrowserSession> {
  const profile = await mkdtemp(join(tmpdir(), 'creatorops-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => void requests.push(r.url()));
  context.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  context.on('weberror', (e) => void errors.push(`uncaught: ${e.error().message}`));
  const watch = (page: Page): void => {
    page.on('crash', () => void errors.push(`page crashed: ${page.url()}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    requests,
    errors,
    offOrigin: (origin) => requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:')),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Wait until the status line says the engine is ready (or failed); return its text. */
export async function waitForEngine(page: Page, timeout = 60_000): Promise<string> {
  const status = page.locator('[role="status"]');
  await status.and(page.locator('[data-state="ready"], [data-state="failed"]')).waitFor({ timeout });
  return (await status.innerText()).replace(/\s+/g, ' ').trim();
}

/** Fill the Run form with `o` and press Run pipeline, as a user would; resolves at "Run complete". */
export async function runThroughForm(page: Page, o: { seed: number; events: number; days: number; invalidRate: number }): Promise<void> {
  await page.getByLabel('Seed', { exact: true }).fill(String(o.seed));
  await page.getByLabel('Events', { exact: true }).fill(String(o.events));
  await page.getByLabel('Days', { exact: true }).fill(String(o.days));
  await page.getByLabel('Invalid rate', { exact: true }).fill(String(o.invalidRate));
  await page.getByRole('button', { name: 'Run pipeline' }).click();
  await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 90_000 });
}

/**
 * The cells of the table in a region (DataTable), "null" cells as null; [] for "No rows". A table
 * that draws only the rows in view (spacer rows stand for the others) is scrolled through and read
 * row by row (by aria-rowindex), then scrolled back.
 */
export async function grid(region: Locator): Promise<(string | null)[][]> {
  return region.evaluate(async (el) => {
    const cells = (tr: Element) => [...tr.querySelectorAll('td')].map((td) => (td.querySelector('.null') ? null : (td.textContent ?? '').trim()));
    if (!el.querySelector('tbody tr.spacer')) return [...el.querySelectorAll('tbody tr')].filter((tr) => !tr.querySelector('td.empty')).map(cells);
    const scroller = (el.matches('.scroll') ? el : el.querySelector('.scroll')) as HTMLElement;
    const rows = new Map<number, (string | null)[]>();
    const start = scroller.scrollTop;
    for (let top = 0; ; top += Math.max(1, scroller.clientHeight - 40)) {
      scroller.scrollTop = top;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      for (const tr of el.querySelectorAll('tbody tr[data-row]')) rows.set(Number(tr.getAttribute('aria-rowindex')), cells(tr));
      if (top + scroller.clientHeight >= scroller.scrollHeight) break;
    }
    scroller.scrollTop = start;
    return [...rows].sort((a, b) => a[0] - b[0]).map(([, row]) => row);
  });
}

/** The SQL console's editor: CodeMirror's editable element, once its chunk has loaded (the textarea before it has the same name). */
export const sqlEditor = (page: Page): Locator => page.locator('.cm-content[aria-label="SQL statement"]');

/** Replace the SQL console's text with `text` as a user does: select all, then type it (one input, so no bracket is closed for it). */
export async function typeSql(page: Page, text: string): Promise<void> {
  await sqlEditor(page).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Escape'); // closes the completion list the typing opened
}

/** The SQL console's text, line by line from the editor (not its placeholder). */
export function sqlText(page: Page): Promise<string> {
  return sqlEditor(page).evaluate((el) =>
    [...el.querySelectorAll('.cm-line')]
      .map((line) => [...line.childNodes].map((n) => (n instanceof Element && n.classList.contains('cm-placeholder') ? '' : (n.textContent ?? ''))).join(''))
      .join('\n'),
  );
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser as PwBrowser, type BrowserContext as PwContext, type Page as PwPage } from 'playwright-core';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_ARGS } from './harness.ts';

/**
 * One page of the app in any of the three engines Debian ships, driven through the protocol each
 * speaks best here: Chromium through playwright-core (CDP), Firefox ESR through puppeteer-core
 * (WebDriver BiDi), WebKitGTK's MiniBrowser through WebKitWebDriver (classic W3C WebDriver, plain
 * fetch) under Xvfb. The journeys only need what all three share: load a URL, run a function in
 * the page, take a screenshot.
 */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export interface Tab {
  /** e.g. "Firefox 153.8.0esr, private window" */
  readonly label: string;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /** `fn` run in the page with JSON arguments; its (awaited) JSON result. */
  evaluate<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, ...args: A): Promise<R>;
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** a private window (Firefox), an incognito context (Chromium); WebKitGTK: MiniBrowser --private */
  private?: boolean;
}

export function openTab(engine: EngineName, options: OpenOptions = {}): Promise<Tab> {
  if (engine === 'chromium') return openChromium(options);
  if (engine === 'firefox') return openFirefox(options);
  return openWebKit(options);
}

/**
 * The expression a driver evaluates: `fn` applied to `args`, awaited by every driver. tsx (esbuild
 * with keepNames) wraps inner functions in calls to its `__name` helper, which the page lacks.
 */
const call = (fn: (...args: never[]) => unknown, args: unknown[]): string => `((__name) => (${fn.toString()})(...${JSON.stringify(args)}))((f) => f)`;

async function openChromium({ private: incognito = false }: OpenOptions): Promise<Tab> {
  let context: PwContext;
  let browser: PwBrowser | undefined;
  const profile = await mkdtemp(join(tmpdir(), 'creatorops-chromium-'));
  if (incognito) {
    // A context of a launched browser is Chromium's incognito profile: nothing of it reaches the disk.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext();
  } else {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }
  const page: PwPage = context.pages()[0] ?? (await context.newPage());
  const version = (browser ?? context.browser())?.version() ?? '';
  return {
    label: `Chromium ${version}${incognito ? ', incognito' : ''}`,
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    evaluate: (fn, ...args) => page.evaluate(call(fn, args)),
    screenshot: async (file) => void (await page.screenshot({ path: file, fullPage: true })),
    async close() {
      await context.close();
      await browser?.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

async function openFirefox({ private: privately = false }: OpenOptions): Promise<Tab> {
  const profile = await mkdtemp(join(tmpdir(), 'creatorops-firefox-'));
  const browser: PpBrowser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    // Above the journey's own deadlines (journey.ts, at most 180 s), so that a page that waits in
    // vain says what for, rather than the protocol timing out first with no word of it.
    protocolTimeout: 240_000,
    extraPrefsFirefox: {
      // Every window private, as a user's private window: no OPFS, no service workers.
      'browser.privatebrowsing.autostart': privately,
      'network.proxy.type': 0,
    },
  });
  const page: PpPage = (await browser.pages())[0] ?? (await browser.newPage());
  await page.setViewport({ width: 1280, height: 900 });
  const version = (await browser.version()).replace(/^Firefox\//i, '');
  return {
    label: `Firefox ${version}${privately ? ', private window' : ''}`,
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    evaluate: (fn, ...args) => page.evaluate(call(fn, args)) as Promise<never>,
    screenshot: async (file) => void (await page.screenshot({ path: file as `${string}.png`, fullPage: true })),
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

async function openWebKit({ private: privately = false }: OpenOptions): Promise<Tab> {
  const display = await startXvfb();
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: display.name } });
  const base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    driver.kill();
    display.process.kill();
  };
  try {
    const session = await retry(() =>
      webdriver<{ sessionId: string; capabilities: { browserVersion: string } }>(base, 'POST', '/session', {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', ...(privately ? ['--private'] : [])] },
          },
        },
      }),
    );
    const at = `/session/${session.sessionId}`;
    await webdriver(base, 'POST', `${at}/timeouts`, { script: 300_000, pageLoad: 120_000 });
    await webdriver(base, 'POST', `${at}/window/rect`, { width: 1280, height: 900 });
    return {
      label: `WebKitGTK ${session.capabilities.browserVersion} (MiniBrowser)${privately ? ', private' : ''}`,
      goto: async (url) => void (await webdriver(base, 'POST', `${at}/url`, { url })),
      reload: async () => void (await webdriver(base, 'POST', `${at}/refresh`, {})),
      async evaluate(fn, ...args) {
        const script = `const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => ${call(fn, args)}).then((value) => done({ value }), (e) => done({ error: e instanceof Error ? e.name + ': ' + e.message : String(e) }));`;
        const out = await webdriver<{ value?: unknown; error?: string }>(base, 'POST', `${at}/execute/async`, { script, args: [] });
        if (out.error !== undefined) throw new Error(`in WebKit: ${out.error}`);
        return out.value as never;
      },
      async screenshot(file) {
        await writeFile(file, Buffer.from(await webdriver<string>(base, 'GET', `${at}/screenshot`), 'base64'));
      },
      async close() {
        await webdriver(base, 'DELETE', at).catch(() => undefined);
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function webdriver<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { value: T & { error?: string; message?: string } };
  if (!res.ok) throw new Error(`WebKitWebDriver ${method} ${path}: ${json.value?.error ?? res.status}: ${json.value?.message ?? ''}`);
  return json.value;
}

async function retry<T>(fn: () => Promise<T>, tries = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      // The driver is not listening yet.
      if (i >= tries || !(err instanceof TypeError)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** An X server of its own (WebKitGTK needs a display): Xvfb picks a free display number and says it. */
async function startXvfb(): Promise<{ name: string; process: ChildProcess }> {
  const child = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const name = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (b: Buffer) => resolve(`:${b.toString().trim()}`));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it gave a display`)));
  });
  return { name, process: child };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

import type { Tab } from './engines.ts';

/**
 * The steps of the shared journey, as functions run inside the page (each one self-contained: it is
 * sent as text). They act as a user does — labels, buttons, tabs — and read back what the page shows.
 */

/**
 * Wait until the engine is ready (or failed) — or, with `open`, only until the lakehouse is open and
 * the sections show (no engine needed for that); the status text and the features the banner names.
 */
export const whenStarted = (tab: Tab, until: 'ready' | 'open' = 'ready'): Promise<{ status: string; limitations: string[] }> =>
  tab.evaluate(async (enough) => {
    const deadline = Date.now() + 120_000;
    const status = (): Element | null => document.querySelector('[role="status"]');
    const done = (): boolean =>
      /^(ready|failed)$/.test(status()?.getAttribute('data-state') ?? '') || (enough === 'open' && document.querySelector('[role="tab"]') !== null);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`the engine did not start: ${status()?.textContent ?? 'no status line'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The banner asks the worker and the service worker's registration (after the load event).
    await new Promise((r) => setTimeout(r, 1000));
    return {
      status: (status()!.textContent ?? '').replace(/\s+/g, ' ').trim(),
      limitations: [...document.querySelectorAll('[data-testid="limitations"] li')].map((li) => li.getAttribute('data-feature') ?? ''),
    };
  }, until);

/** Fill the Run form, press Run pipeline, wait for "Run complete"; the summary's row counts as shown. */
export const runThroughForm = (tab: Tab, o: { seed: number; events: number; days: number; invalidRate: number }): Promise<Record<string, string>> =>
  tab.evaluate(async (options) => {
    const wait = async <T>(what: string, find: () => T | null | undefined, ms = 180_000): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = find();
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`waited in vain for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const button = (name: string): HTMLButtonElement | undefined =>
      [...document.querySelectorAll('button')].find((b) => (b.textContent ?? '').trim() === name && !b.disabled);
    (await wait('the Run tab', () => button('Run'))).click();
    for (const [label, value] of [
      ['Seed', options.seed],
      ['Events', options.events],
      ['Days', options.days],
      ['Invalid rate', options.invalidRate],
    ] as const) {
      const l = await wait(`the field ${label}`, () => [...document.querySelectorAll('label')].find((x) => (x.textContent ?? '').trim().startsWith(label)));
      const input = (l.control ?? l.querySelector('input')) as HTMLInputElement;
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    (await wait('Run pipeline', () => button('Run pipeline'))).click();
    await wait('Run complete', () => [...document.querySelectorAll('h2, h3')].find((h) => h.textContent?.trim() === 'Run complete'));
    const rows: Record<string, string> = {};
    for (const el of document.querySelectorAll('.result.ok [data-rows]')) rows[el.getAttribute('data-rows')!] = (el.textContent ?? '').trim();
    return rows;
  }, o);

/** Open a tab of the app (Run, Dashboard, Explorer, …) and wait for a selector in it. */
export const openSection = (tab: Tab, name: string, selector: string, count = 1): Promise<number> =>
  tab.evaluate(
    async (n, sel, min) => {
      const b = [...document.querySelectorAll('[role="tab"]')].find((x) => x.textContent?.trim() === n) as HTMLElement | undefined;
      if (!b) throw new Error(`no tab ${n}`);
      b.click();
      const deadline = Date.now() + 60_000;
      while (document.querySelectorAll(sel).length < min) {
        if (Date.now() > deadline) throw new Error(`${n}: found ${document.querySelectorAll(sel).length} of ${min} ${sel}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return document.querySelectorAll(sel).length;
    },
    name,
    selector,
    count,
  );

/** The cells of the first `columns` columns of each body row below `selector`. */
export const cells = (tab: Tab, selector: string, columns: number): Promise<string[][]> =>
  tab.evaluate(
    (sel, n) =>
      [...document.querySelectorAll(`${sel} tbody tr`)].map((r) => [...r.querySelectorAll('td')].slice(0, n).map((td) => (td.textContent ?? '').trim())),
    selector,
    columns,
  );

/**
 * Press a button that saves a file, and return the file as the page made it: its name and bytes
 * (base64). The Blob handed to the download link is kept; the link's click goes nowhere, so no
 * engine's download prompt gets in the way.
 */
export const saveThrough = (tab: Tab, buttonText: string): Promise<{ name: string; base64: string }> =>
  tab.evaluate(async (text) => {
    const saved: { blob?: Blob; name?: string } = {};
    const createObjectURL = URL.createObjectURL.bind(URL);
    const click = HTMLAnchorElement.prototype.click;
    URL.createObjectURL = (obj: Blob | MediaSource) => {
      if (obj instanceof Blob) saved.blob = obj;
      return createObjectURL(obj);
    };
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      if (this.download) saved.name = this.download;
      else click.call(this);
    };
    try {
      const button = [...document.querySelectorAll('button')].find((b) => (b.textContent ?? '').trim() === text);
      if (!button) throw new Error(`no button ${text}`);
      button.click();
      const deadline = Date.now() + 60_000;
      while (!saved.name || !saved.blob) {
        if (Date.now() > deadline) throw new Error(`${text}: nothing was saved`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      URL.createObjectURL = createObjectURL;
      HTMLAnchorElement.prototype.click = click;
    }
    const bytes = new Uint8Array(await saved.blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { name: saved.name, base64: btoa(binary) };
  }, buttonText);

/**
 * Hand a file to the file input labelled `labelText` as a user picking it would, and wait for the
 * panel's answer: `[data-testid=<result>]` (its text) or an alert (thrown).
 */
export const uploadThrough = (tab: Tab, labelText: string, file: { name: string; base64: string }, result: string): Promise<string> =>
  tab.evaluate(
    async (text, f, answer) => {
      const label = [...document.querySelectorAll('label')].find((l) => (l.textContent ?? '').trim().startsWith(text));
      const input = label?.querySelector('input[type="file"]') as HTMLInputElement | null | undefined;
      if (!input) throw new Error(`no file input labelled ${text}`);
      const binary = atob(f.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      const files = new DataTransfer();
      files.items.add(new File([bytes], f.name));
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      const deadline = Date.now() + 180_000;
      for (;;) {
        const done = document.querySelector(`[data-testid="${answer}"]`);
        if (done) return (done.textContent ?? '').replace(/\s+/g, ' ').trim();
        const alert = label!.closest('section')?.querySelector('[role="alert"]');
        if (alert) throw new Error(`${text}: ${alert.textContent}`);
        if (Date.now() > deadline) throw new Error(`${text}: no answer`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    labelText,
    file,
    result,
  );

import { transfer, type Remote } from 'comlink';
import { type Api, CONSOLE_FILE_EXTENSIONS, type ConsoleFile } from '../worker/protocol.ts';

/**
 * The files the SQL console queries, `file_<name>` each: tables in the worker for as long as it
 * runs, so kept here across tabs. Files come from the console's picker or from a drop anywhere on
 * the page (PageDrop); `added` is the last one, for the console to offer a query of it.
 */
export const consoleFiles = $state({ files: [] as ConsoleFile[], reading: '', error: '', added: '' });

/** `accept` for a file input of console files: `.csv,.parquet,…` */
export const CONSOLE_FILE_ACCEPT = CONSOLE_FILE_EXTENSIONS.map((e) => `.${e}`).join(',');

export function isConsoleFile(name: string): boolean {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  return name.includes('.') && (CONSOLE_FILE_EXTENSIONS as readonly string[]).includes(ext);
}

/** Each file a table of the console (CSV and JSON read in the worker, Parquet through parquet-wasm); a failure is shown, not thrown. */
export async function attachFiles(api: Remote<Api>, list: Iterable<File>): Promise<void> {
  consoleFiles.error = '';
  for (const file of list) {
    consoleFiles.reading = file.name;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const f = await api.consoleFile(file.name, transfer(bytes, [bytes.buffer]));
      consoleFiles.files = [...consoleFiles.files.filter((x) => x.view !== f.view), f];
      consoleFiles.added = f.view;
    } catch (err) {
      consoleFiles.error = (err instanceof Error ? err.message : String(err)).replace(/^reading the file: /, '');
    } finally {
      consoleFiles.reading = '';
    }
  }
}

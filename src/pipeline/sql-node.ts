import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's `sql/` folder, found from this file rather than from the working directory. */
const SQL_ROOT = new URL('../../sql/', import.meta.url);

/**
 * The SQL models of one layer, `sql/<layer>/*.sql`, keyed by file name without `.sql`, in
 * file-name order. Node only; the browser gets the same files through Vite's `import.meta.glob`.
 */
export function loadSql(layer: 'gold' | 'silver'): Record<string, string> {
  const dir = new URL(`${layer}/`, SQL_ROOT);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`sql: cannot list the ${layer} models in ${fileURLToPath(dir)}: ${message}`, { cause: err });
  }
  const out: Record<string, string> = {};
  for (const file of files.filter((f) => f.endsWith('.sql')).sort()) {
    out[file.slice(0, -'.sql'.length)] = readFileSync(new URL(file, dir), 'utf8');
  }
  return out;
}

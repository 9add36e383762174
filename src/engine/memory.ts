import type { Engine } from './types.ts';

/**
 * DuckDB-WASM's memory_limit, set when its instance starts (browser.ts, node.ts). It bounds what
 * DuckDB's buffer manager holds (tables of in-memory databases, hash tables, sorts), below the
 * 4 GiB a wasm32 memory can have; what it does not count (the glue's copies of Arrow buffers,
 * results) needs the rest. Past it a statement fails with DuckDB's "Out of Memory Error" and the
 * instance goes on. DuckDB's own default there is 80 % of the 3.9 GiB it is told it has.
 */
export const WASM_MEMORY_LIMIT = '3GiB';

/** SET memory_limit on the instance `engine` is a connection of (the setting is the instance's). */
export function setMemoryLimit(engine: Engine, limit: string): void {
  engine.run(`SET memory_limit = '${limit.replaceAll("'", "''")}'`);
}

/** The instance's memory_limit as DuckDB says it (`3.0 GiB`), or undefined when it cannot answer. */
export function memoryLimit(engine: Engine): string | undefined {
  try {
    return engine.rows<{ m: string }>("SELECT current_setting('memory_limit') AS m")[0]?.m;
  } catch {
    return undefined;
  }
}

/** The bytes DuckDB's buffer manager holds now (what memory_limit bounds). */
export function memoryUsed(engine: Engine): number {
  return Number(engine.rows<{ b: bigint | null }>('SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()')[0]?.b ?? 0);
}

/**
 * DuckDB's own first line when `err` (or a cause) is its out-of-memory error: past memory_limit
 * (`could not allocate block of size 256.0 KiB (30.3 MiB/30.5 MiB used)`) or, in wasm, memory that
 * could not grow (`Allocation failure`); as SQL reports it, or as JSON when Arrow data was being
 * loaded. Undefined for any other error.
 */
export function outOfMemory(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Object && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : '';
    const at = message.indexOf('Out of Memory Error:');
    if (at >= 0) return message.slice(at).split('\n')[0]!.trim();
    // Loading Arrow data reports DuckDB's error as JSON: {"exception_type":"Out of Memory","exception_message":"…"}
    const json = /\{"exception_type":"Out of Memory".*\}/s.exec(message)?.[0];
    if (json)
      return `Out of Memory Error: ${String((JSON.parse(json) as { exception_message?: unknown }).exception_message)
        .split('\n')[0]!
        .trim()}`;
  }
  return undefined;
}

import { errorCode } from '../errors.ts';
import { WorkerError } from './protocol.ts';

/**
 * A call of the api that says what the worker was doing when it fails. The error keeps its name
 * and code (the page tells errors apart by the code), and its message says everything the page
 * can show: what was being done, the causes, and the SQL of a failed query.
 */
export function withContext<A extends unknown[], R>(what: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw new WorkerError(`${what}: ${explain(err)}`, err instanceof Error ? err.name : 'Error', errorCode(err));
    }
  };
}

export function explain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    const sql = (e as { sql?: unknown }).sql;
    if (typeof sql === 'string' && sql !== '') parts.push(`SQL: ${sql.length > 300 ? `${sql.slice(0, 300)}…` : sql}`);
    // An error whose message says what its causes would (`complete`) ends the chain.
    if ((e as { complete?: unknown }).complete === true) break;
  }
  return parts.join(' — ');
}

/**
 * Comlink hands only an error's name, message and stack to the page, so the message has to say
 * everything: what the worker was doing, the causes, and the SQL of a failed query.
 */
export function withContext<A extends unknown[], R>(what: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw new Error(`${what}: ${explain(err)}`);
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
  }
  return parts.join(' — ');
}

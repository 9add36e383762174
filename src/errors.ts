/**
 * Errors a caller tells apart. Each class lives in the layer that raises it and has a stable
 * `code` and a `name` (both spelled out, as a build renames classes); callers decide by
 * `instanceof` or by `code`, never by the message, which is for people and may be reworded.
 * The name and code cross the worker boundary (src/worker/protocol.ts), so the page decides by
 * the code too. This module imports nothing: every layer may use it.
 *
 * A layer's messages start with its name (`delta: …`, `zip: …`); an error that wraps another
 * (`cause`) says the other's message in its own.
 */
export abstract class CodedError extends Error {
  /** e.g. `NOT_A_DELTA_TABLE`, which each class gives as its `static readonly code`; never changes once given */
  get code(): string {
    return (this.constructor as unknown as { code: string }).code;
  }
}

/** The code of `err` when it has one (ours, or Node's `ENOENT`…), else undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = err instanceof Object ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

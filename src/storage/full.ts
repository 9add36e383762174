import { CodedError } from '../errors.ts';

/**
 * A full disk looks different everywhere: Node says ENOSPC (or EDQUOT for a user quota), the
 * browser throws a DOMException named QuotaExceededError when the origin's quota is used up.
 */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Object && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'QuotaExceededError' || code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

export class StorageFullError extends CodedError {
  static readonly code = 'STORAGE_FULL';
  override name = 'StorageFullError';
  constructor(where: string, stage: 'bronze' | 'silver' | 'gold', cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const next =
      stage === 'bronze'
        ? 'the batch was not taken in, so free some space and send it again'
        : 'the batch is safe in bronze and the next run completes it, so free some space and run again';
    super(
      `storage is full at ${where} while writing ${stage} (${detail}): the run stopped with every table at its last committed version; ` +
        `${next} (vacuum deletes the files that no version needs any more)`,
      { cause },
    );
  }
}

import { CodedError } from '../errors.ts';
import type { Storage } from '../storage/types.ts';

/*
 * A test hook: a run stopped right after a chosen commit, as a crash would stop it there. `which`
 * is a table (`silver/events`: its first commit of the run) or a number n (the run's n-th commit,
 * counting from 1, whatever the table). Set by LAKEHOUSE_STOP_AFTER_COMMIT for the CLI, and by the
 * worker's `stopAfterCommit` for the page.
 */

const COMMIT = /^(.+)\/_delta_log\/\d{20}\.json$/;

/** The run was stopped on purpose after a commit (the test hook). */
export class StoppedAfterCommitError extends CodedError {
  static readonly code = 'STOPPED_AFTER_COMMIT';
  override name = 'StoppedAfterCommitError';
  constructor(
    readonly path: string,
    readonly n: number,
  ) {
    super(`the run was stopped after commit ${n} (${path}), as asked by the stop-after-commit test hook`);
  }
}

/** Whether `which` names a commit the hook can stop after: a whole number ≥ 1 or a table path. */
export function checkStopAfterCommit(which: string): string {
  if (/^\d+$/.test(which) ? Number(which) >= 1 : /^[a-z_]+\/[a-z_]+$/.test(which)) return which;
  throw new Error(`stop after commit: expected a commit number ≥ 1 or a table such as silver/events, got ${JSON.stringify(which)}`);
}

/**
 * `storage`, where the commit that `which` names calls `stop` once it is in place (the commit
 * stands; nothing after it happens). `stop` throws or ends the process.
 */
export function stopAfterCommit(storage: Storage, which: string, stop: (path: string, n: number) => never): Storage {
  checkStopAfterCommit(which);
  let commits = 0;
  let stopped = false;
  const wrapped: Storage = Object.create(storage) as Storage;
  wrapped.putIfAbsent = async (path, data) => {
    const put = await storage.putIfAbsent(path, data);
    const table = COMMIT.exec(path)?.[1];
    if (!put || table === undefined || stopped) return put;
    commits++;
    if (which === String(commits) || which === table) {
      stopped = true;
      stop(path, commits);
    }
    return put;
  };
  return wrapped;
}

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../engine/types.ts';
import { NodeStorage } from '../storage/node.ts';
import type { Storage } from '../storage/types.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { parseExpectations } from '../pipeline/expectations.ts';
import { loadSql } from '../pipeline/sql-node.ts';
import { stopAfterCommit } from '../pipeline/stop-after-commit.ts';
import { idleCheckerThreads, nodeCheckers } from './checkers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** The SQL models and contracts, read from the repository as the app bundles them. */
export function loadProjectFiles(): { goldSql: Record<string, string>; silverSql: Record<string, string>; expectationsText: string } {
  return { goldSql: loadSql('gold'), silverSql: loadSql('silver'), expectationsText: readFileSync(join(ROOT, 'contracts/expectations.yml'), 'utf8') };
}

export function nodeContext(engine: Engine, outDir: string, onProgress?: (p: Progress) => void): PipelineContext {
  const { goldSql, silverSql, expectationsText } = loadProjectFiles();
  return {
    engine,
    storage: withTestHook(new NodeStorage(resolve(outDir))),
    expectations: parseExpectations(expectationsText, 'contracts/expectations.yml'),
    goldSql,
    silverSql,
    onProgress,
    ...checkerThreads(),
  };
}

/**
 * LAKEHOUSE_STOP_AFTER_COMMIT (a test hook, see stop-after-commit.ts): the process kills itself
 * with SIGKILL right after that commit, as a crash there would.
 */
function withTestHook(storage: NodeStorage): Storage {
  const which = process.env.LAKEHOUSE_STOP_AFTER_COMMIT;
  if (!which) return storage;
  return stopAfterCommit(storage, which, () => {
    process.kill(process.pid, 'SIGKILL');
    throw new Error('SIGKILL did not end the process');
  });
}

/** Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: Progress) => void {
  let lastLine = 0;
  let lastStage = '';
  return (p) => {
    const now = Date.now();
    const stageChanged = p.stage !== lastStage;
    if (!stream.isTTY && !stageChanged && now - lastLine < 3000 && p.done !== p.total) return;
    lastLine = now;
    lastStage = p.stage;
    const of = p.total !== undefined ? ` / ${p.total.toLocaleString('en-US')}` : '';
    const rate = p.rowsPerSecond ? ` (${p.rowsPerSecond.toLocaleString('en-US')} rows/s)` : '';
    const what = p.stage === 'gold' ? `${p.done}${of} tables${p.message ? `, ${p.message}` : ''}` : `${p.done.toLocaleString('en-US')}${of} rows${rate}`;
    const line = `${p.stage.padEnd(6)} ${what}`;
    if (stream.isTTY) stream.write(`\r\x1b[K${line}`);
    else stream.write(line + '\n');
  };
}

/**
 * Checker threads for silver's line checks, when cores are idle (see idleCheckerThreads), or as
 * many as LAKEHOUSE_CHECK_THREADS says (0: none, the lines are checked on the main thread).
 */
function checkerThreads(): Pick<PipelineContext, 'checkers'> {
  const env = process.env.LAKEHOUSE_CHECK_THREADS;
  const threads = env !== undefined && env !== '' ? Number(env) : idleCheckerThreads();
  return Number.isInteger(threads) && threads > 0 ? { checkers: nodeCheckers(threads) } : {};
}

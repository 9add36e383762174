import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../engine/types.ts';
import type { Storage } from '../storage/types.ts';
import type { PipelineContext, Progress } from '../pipeline/context.ts';
import { parseExpectations } from '../pipeline/expectations.ts';
import { loadSql } from '../pipeline/sql-node.ts';
import { stopAfterCommit } from '../pipeline/stop-after-commit.ts';
import { idleCheckerThreads, nodeCheckers } from './checkers.ts';
import { openLocation } from './location.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** The SQL models and contracts, read from the repository as the app bundles them. */
export function loadProjectFiles(): { goldSql: Record<string, string>; silverSql: Record<string, string>; expectationsText: string } {
  return { goldSql: loadSql('gold'), silverSql: loadSql('silver'), expectationsText: readFileSync(join(ROOT, 'contracts/expectations.yml'), 'utf8') };
}

export function nodeContext(engine: Engine, outDir: string, onProgress?: (p: Progress) => void): PipelineContext {
  const { goldSql, silverSql, expectationsText } = loadProjectFiles();
  return {
    engine,
    storage: withTestHook(openLocation(outDir)),
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
function withTestHook(storage: Storage): Storage {
  const which = process.env.LAKEHOUSE_STOP_AFTER_COMMIT;
  if (!which) return storage;
  return stopAfterCommit(storage, which, () => {
    process.kill(process.pid, 'SIGKILL');
    throw new Error('SIGKILL did not end the process');
  });
}

/** Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, intervalMs = 3000): (p: Progress) => void {
  // Bronze and silver run side by side (silver checks lines while bronze writes them): one line
  // shows every stage under way, in pipeline order, so the lines never go back and forth.
  const ORDER: Progress['stage'][] = ['bronze', 'silver', 'gold'];
  const latest = new Map<Progress['stage'], Progress>();
  let lastLine = 0;
  const describe = (p: Progress): string => {
    const of = p.total !== undefined ? ` / ${p.total.toLocaleString('en-US')}` : '';
    const rate = p.rowsPerSecond ? ` (${p.rowsPerSecond.toLocaleString('en-US')} rows/s)` : '';
    return p.stage === 'gold'
      ? `gold ${p.done}${of} tables${p.message ? `, ${p.message}` : ''}`
      : `${p.stage} ${p.done.toLocaleString('en-US')}${of} rows${rate}`;
  };
  return (p) => {
    if (p.waiting) return;
    const finished = p.total !== undefined && p.done >= p.total;
    const first = !latest.has(p.stage);
    latest.set(p.stage, p);
    // a stage that is done stays on the line only until the next stage starts
    for (const stage of ORDER.slice(0, ORDER.indexOf(p.stage))) {
      const before = latest.get(stage);
      if (before && before.total !== undefined && before.done >= before.total) latest.delete(stage);
    }
    const now = Date.now();
    if (!stream.isTTY && !first && !finished && now - lastLine < intervalMs) return;
    lastLine = now;
    const line = ORDER.flatMap((stage) => (latest.has(stage) ? [describe(latest.get(stage)!)] : [])).join(' · ');
    if (stream.isTTY) stream.write(`\r\x1b[K${line}`);
    else stream.write(`${line}\n`);
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

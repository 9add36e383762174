import { proxy, transfer, type Remote } from 'comlink';
import {
  CancelledError,
  errorCode,
  RUN_DEFAULTS,
  type Api,
  type Lineage,
  type Progress,
  type RunOptions,
  type RunSummary,
  type TableSummary,
} from '../worker/protocol.ts';
import type { Async } from './async.ts';
import { runOptionsFromQuery } from './share.ts';

type Stage = Progress['stage'];

export interface StageProgress {
  done: number;
  total?: number;
  rowsPerSecond?: number;
  message?: string;
}

export interface RunState {
  phase: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  /** what is running: a generated batch or an uploaded file */
  what: string;
  progress: Partial<Record<Stage, StageProgress>>;
  summary?: RunSummary;
  error?: string;
  /** set while the run waits for another tab's run to finish */
  waiting?: string;
  /** a generated run's options (not an uploaded file's) */
  options?: RunOptions;
}

/**
 * What every view shares: the tables (from the logs) and the run in flight. `revision` goes up
 * whenever the lakehouse may have changed; views that show table data reload on it.
 */
/** Finishing a run that stopped early (a closed tab, a crash), as the page does when it opens. */
export interface RepairState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  /** what it is doing or did, in words */
  message: string;
}

export const lake = $state<{
  revision: number;
  tables: Async<TableSummary[]>;
  lineage: Async<Lineage>;
  opened: TableSummary[];
  run: RunState;
  repair: RepairState;
  form: RunOptions;
}>({
  revision: 0,
  tables: { state: 'pending' },
  /** what each table was computed from, and which are behind (from the logs, reloaded with the tables) */
  lineage: { state: 'pending' },
  repair: { phase: 'idle', message: '' },
  /** tables opened from a .zip or a folder (read-only, `opened/<name>`), newest last */
  opened: [],
  run: { phase: 'idle', what: '', progress: {} },
  /** the run form, kept while the user looks at other tabs; a shared link's query string fills it */
  form: typeof location === 'undefined' ? { ...RUN_DEFAULTS } : runOptionsFromQuery(location.search),
});

export function changed(): void {
  lake.revision++;
}

let askedToPersist = false;

/** Ask the browser to keep the lakehouse (once, on the first run: a user gesture makes it likelier). */
function persist(): void {
  if (askedToPersist) return;
  askedToPersist = true;
  void navigator.storage?.persist?.().then(changed, () => {});
}

async function track(what: string, start: (onProgress: (p: Progress) => void) => Promise<RunSummary>, options?: RunOptions): Promise<void> {
  if (lake.run.phase === 'running') return;
  persist();
  lake.run = { phase: 'running', what, progress: {}, options };
  const onProgress = proxy((p: Progress) => {
    lake.run.waiting = p.waiting;
    if (p.waiting) return;
    lake.run.progress[p.stage] = { done: p.done, total: p.total, rowsPerSecond: p.rowsPerSecond, message: p.message };
  });
  try {
    const summary = await start(onProgress);
    lake.run = { ...lake.run, phase: 'done', summary, waiting: undefined };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const cancelled = errorCode(err) === CancelledError.code;
    lake.run = { ...lake.run, phase: cancelled ? 'cancelled' : 'failed', error: message, waiting: undefined };
  } finally {
    changed();
  }
}

/**
 * When the lineage says a run stopped before it finished (a table behind its input), finish it
 * now, showing what it does; nothing when every table is up to date.
 */
export async function finishStoppedRun(api: Remote<Api>): Promise<void> {
  if (lake.repair.phase === 'running' || lake.run.phase === 'running') return;
  const lineage = await api.lineage().catch(() => undefined);
  if (!lineage?.behind.length) return;
  lake.repair = { phase: 'running', message: `Finishing the run that stopped early: ${lineage.behind.join(', ')} behind…` };
  const onProgress = proxy((p: Progress) => {
    if (p.waiting) return;
    const of = p.total !== undefined ? ` of ${p.total.toLocaleString('en-US')}` : '';
    lake.repair.message = `Finishing the run that stopped early — ${p.stage}: ${p.message ?? `${p.done.toLocaleString('en-US')}${of}`}`;
  });
  try {
    const r = await api.repair(onProgress);
    lake.repair = {
      phase: 'done',
      message: r.before.behind.length ? `Finished the run that stopped early: ${r.before.behind.join(', ')} brought up to date.` : '',
    };
  } catch (err) {
    lake.repair = { phase: 'failed', message: `Could not finish the run that stopped early: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    changed();
  }
}

export function runPipeline(api: Remote<Api>, options: RunOptions): Promise<void> {
  return track(`${options.events.toLocaleString('en-US')} generated events (seed ${options.seed})`, (onProgress) => api.run(options, onProgress), options);
}

export async function ingestFile(api: Remote<Api>, file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  return track(`the file ${file.name}`, (onProgress) => api.ingest(file.name, transfer(bytes, [bytes.buffer]), onProgress));
}

export async function cancelRun(api: Remote<Api>): Promise<void> {
  await api.cancel();
}

export async function resetLakehouse(api: Remote<Api>): Promise<void> {
  await api.reset();
  lake.run = { phase: 'idle', what: '', progress: {} };
  changed();
}

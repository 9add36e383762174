import { checkLine, type Rejected } from './contract.ts';
import type { EarlyStage } from './schema.ts';
import { LINE_RUN, lineRuns } from './columns.ts';
import { TypedRows, typedRowsBuffers, type TypedRowsData } from './typed-rows.ts';

/**
 * The contract checks of silver (JSON parse, JSON Schema, typing) for one chunk of received lines,
 * as a function of plain data: it runs on another thread (a Web Worker in the page, a
 * worker_thread under Node) while the pipeline's own thread writes bronze, or in line. Results come
 * back in the same order the chunks went out, so the outcome is the same either way.
 */

export interface CheckRequest {
  lines: string[];
  /** the line number of lines[0]; the others follow */
  firstLine: number;
  ingestedAt: bigint;
  batchId: string;
  /** keep each typed row's raw text too (an expectation reads `raw`) */
  rawColumn: boolean;
}

/** A line rejected at stage parse or schema. */
export interface EarlyReject {
  raw: string;
  eventId: string | null;
  stage: EarlyStage;
  reasons: string[];
  errors: string[];
}

export interface CheckResult {
  typed: TypedRowsData;
  rejects: EarlyReject[];
}

/** Checks chunks, possibly elsewhere; `check` answers in the order it was called. */
export interface LineCheckers {
  check(request: CheckRequest): Promise<CheckResult>;
}

export function checkChunk(req: CheckRequest): { result: CheckResult; transfer: ArrayBuffer[] } {
  const typed = new TypedRows(req.lines.length, req.rawColumn);
  const rejects: EarlyReject[] = [];
  checkInto(
    typed,
    req.lines,
    (i) => req.firstLine + i,
    () => req.ingestedAt,
    req.rawColumn,
    (text, _, r) => rejects.push({ raw: text, eventId: r.eventId, stage: r.stage, reasons: r.reasons, errors: r.errors }),
  );
  const data = typed.toData();
  return { result: { typed: data, rejects }, transfer: typedRowsBuffers(data) };
}

/**
 * Check `lines` in order (`lineNo(i)` is the number of the i-th, `ingestedAt(i)` when it came):
 * valid ones become rows of `typed`, the others go to `rejected`. Runs of lines are joined and
 * scanned in place by the fast path (scan-line.ts): reading a generated line on its own would
 * first copy it flat (template strings are ropes in V8), which costs more than the scan; one join
 * per run copies them all at once, and bronze's LineBuffer reuses the joins. What the fast path
 * does not vouch for goes through checkLine.
 */
export function checkInto(
  typed: TypedRows,
  lines: readonly string[],
  lineNo: (i: number) => number,
  ingestedAt: (i: number) => bigint,
  keepRaw: boolean,
  rejected: (text: string, i: number, r: Rejected) => void,
): void {
  const runs = lineRuns(lines);
  for (let start = 0; start < lines.length; start += LINE_RUN) {
    const end = Math.min(lines.length, start + LINE_RUN);
    const run = runs[start / LINE_RUN]!;
    let at = 0;
    for (let i = start; i < end; i++) {
      const text = lines[i]!;
      const to = at + text.length;
      const line = lineNo(i);
      if (!typed.pushLine(run, at, to, line, ingestedAt(i), keepRaw ? text : undefined)) {
        const checked = checkLine(text, line);
        if (checked.ok) typed.push(checked.event, line, ingestedAt(i), keepRaw ? text : undefined);
        else rejected(text, i, checked);
      }
      at = to;
    }
  }
}

/** Message of a checker thread's protocol: a request with an id, answered with the same id. */
export type CheckMessage = { id: number; request: CheckRequest };
export type CheckReply = { id: number; result?: CheckResult; error?: string };

/** The body of a checker thread: one reply per message, with its buffers transferred. */
export function answer(message: CheckMessage): { reply: CheckReply; transfer: ArrayBuffer[] } {
  try {
    const { result, transfer } = checkChunk(message.request);
    return { reply: { id: message.id, result }, transfer };
  } catch (err) {
    return { reply: { id: message.id, error: err instanceof Error ? err.message : String(err) }, transfer: [] };
  }
}

/**
 * A pool over threads that speak CheckMessage/CheckReply: requests go round-robin, replies are
 * matched by id. `post` sends to thread i.
 */
export class CheckerPool implements LineCheckers {
  private nextId = 0;
  private turn = 0;
  private readonly waiting = new Map<number, { resolve: (r: CheckResult) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly threads: number,
    private readonly post: (thread: number, message: CheckMessage) => void,
  ) {}

  check(request: CheckRequest): Promise<CheckResult> {
    const id = this.nextId++;
    const thread = this.turn++ % this.threads;
    return new Promise<CheckResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post(thread, { id, request });
    });
  }

  /** Hand a thread's reply to its caller. */
  receive(reply: CheckReply): void {
    const w = this.waiting.get(reply.id);
    if (!w) return;
    this.waiting.delete(reply.id);
    if (reply.result) w.resolve(reply.result);
    else w.reject(new Error(`silver: checking lines failed on a checker thread: ${reply.error ?? 'no result'}`));
  }

  /** Every waiting caller fails (a thread died). */
  failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  get busy(): number {
    return this.waiting.size;
  }
}

import { stat } from 'node:fs/promises';
import { describeLineage, readLineage, type Lineage } from '../pipeline/lineage.ts';
import { repairLakehouse } from '../pipeline/repair.ts';
import type { Engine } from '../engine/types.ts';
import { parseArgs, stringOption, UsageError } from './args.ts';
import { nodeContext, progressPrinter } from './context.ts';
import { openLocation } from './location.ts';
import { formatRepair } from './run.ts';

const OUT = 'out/delta';

/**
 * `status [--out DIR] [--repair] [--json]`: per silver and gold table, its version, the version of
 * its input it was computed from, and whether it is up to date; with --repair, what a stopped run
 * left undone is finished first.
 */
export async function statusCommand(argv: string[], openEngine: () => Promise<Engine>, out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, ['out'], ['repair', 'json']);
  if (args.positional.length) throw new UsageError(`status takes no positional arguments (got ${args.positional.join(' ')})`);
  const dir = stringOption(args, 'out') ?? OUT;
  const json = args.options.has('json');
  const remote = /^[a-z][a-z0-9+]*:\/\//i.test(dir);
  if (!remote && !(await stat(dir).catch(() => undefined))?.isDirectory()) throw new Error(`there is no lakehouse at ${dir} (no such folder)`);
  if (args.options.has('repair')) {
    const ctx = nodeContext(await openEngine(), dir, progressPrinter());
    const r = await repairLakehouse(ctx);
    if (json) {
      out.write(`${JSON.stringify({ repaired: r.before.behind, silver: r.silver.map((b) => b.bronzeVersion), gold: r.gold, lineage: r.after })}\n`);
      return;
    }
    if (r.before.behind.length) out.write(`${formatRepair(r).join('\n')}\n\n`);
    out.write(formatStatus(r.after, dir));
    return;
  }
  const lineage = await readLineage(openLocation(dir));
  out.write(json ? `${JSON.stringify(lineage)}\n` : formatStatus(lineage, dir));
}

export function formatStatus(l: Lineage, dir: string): string {
  const lines = [`${dir}: bronze/events last batch v${l.bronzeBatch}, silver/events v${l.silverData}`, ...describeLineage(l)];
  lines.push(
    l.behind.length
      ? `${l.behind.length} table${l.behind.length === 1 ? ' is' : 's are'} behind (${l.behind.join(', ')}): the last run stopped early; \`status --repair\` (or the next run) finishes it`
      : 'every table is up to date',
  );
  return `${lines.join('\n')}\n`;
}

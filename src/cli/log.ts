import { loadHistory } from '../delta/snapshot.ts';
import { describeInputs } from '../pipeline/lineage.ts';
import { parseArgs, UsageError } from './args.ts';
import { openLocation } from './location.ts';

export async function logCommand(argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, [], ['json']);
  const [dir, ...rest] = args.positional;
  if (!dir || rest.length) throw new UsageError('usage: log TABLE_DIR [--json]');
  const history = await loadHistory(openLocation(dir), '');
  // Gold commits name the inputs they were computed from (pipeline/gold.ts); other tables' logs show no such column.
  const withInputs = history.some((h) => describeInputs(h.operationParameters) !== undefined);
  const rows = history.map((h) => ({
    version: h.version,
    timestamp: new Date(h.timestamp).toISOString(),
    operation: h.operation,
    files_added: h.filesAdded,
    files_removed: h.filesRemoved,
    rows_added: h.rowsAdded,
    rows_removed: h.rowsRemoved,
    ...(withInputs ? { computed_from: describeInputs(h.operationParameters) ?? null } : {}),
  }));
  if (args.options.has('json')) {
    for (const r of rows) out.write(`${JSON.stringify(r)}\n`);
    return;
  }
  out.write(formatTable(rows));
}

export function formatTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cols = Object.keys(rows[0]!);
  const cells = [cols, ...rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '?' : String(r[c]))))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return `${cells
    .map((row) =>
      row
        .map((c, i) => (i === 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

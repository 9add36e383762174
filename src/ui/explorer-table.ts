import type { TableSummary } from '../worker/protocol.ts';

/**
 * The table the Explorer shows: `chosen` (from the address) when there is such a table, else
 * silver/events, else the lakehouse's first table, else the newest opened one ('' when none).
 */
export function explorerTable(chosen: string, tables: TableSummary[], opened: TableSummary[]): string {
  if ([...tables, ...opened].some((t) => t.path === chosen)) return chosen;
  return tables.find((t) => t.path === 'silver/events')?.path ?? tables[0]?.path ?? opened[opened.length - 1]?.path ?? '';
}

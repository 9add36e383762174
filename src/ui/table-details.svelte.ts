import type { Remote } from 'comlink';
import type { Api, TableDetails, TableSummary } from '../worker/protocol.ts';

/**
 * Each table's details (columns, versions), read from its log once per version: the console's
 * schema tree shows them and its editor completes their columns. A string is why they could not be read.
 */
const details = $state<Record<string, TableDetails | string>>({});

const reading = new Set<string>();

const key = (t: TableSummary): string => `${t.path}@${t.version}`;

export function detailsOf(t: TableSummary): TableDetails | string | undefined {
  return details[key(t)];
}

export async function loadDetails(api: Remote<Api>, t: TableSummary): Promise<void> {
  const k = key(t);
  if (typeof details[k] === 'object' || reading.has(k)) return;
  reading.add(k);
  try {
    details[k] = await api.table(t.path);
  } catch (err) {
    details[k] = err instanceof Error ? err.message : String(err);
  } finally {
    reading.delete(k);
  }
}

/**
 * The SQL console's history, kept in this browser (localStorage): the statements run, newest
 * first, each once; at most `limit`. Storage that refuses (private windows, quota) only means no history.
 */
const KEY = 'creatorops-lakehouse:sql-history';

export function loadHistory(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): string[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

/** `sql` added to the front of `history` (moved there when it was in it already), saved; the new history. */
export function remember(
  history: readonly string[],
  sql: string,
  storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage,
  limit = 50,
): string[] {
  const text = sql.trim();
  if (text === '') return [...history];
  const next = [text, ...history.filter((h) => h !== text)].slice(0, limit);
  try {
    storage?.setItem(KEY, JSON.stringify(next));
  } catch {
    // no room or no storage: the history lives as long as the page
  }
  return next;
}

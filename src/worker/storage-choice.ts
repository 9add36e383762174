import { hasWebLocks } from '../storage/locks.ts';
import { MemoryStorage } from '../storage/memory.ts';
import { OpfsStorage } from '../storage/opfs.ts';
import type { Storage } from '../storage/types.ts';
import type { Limitation } from './protocol.ts';

export interface ChosenStorage {
  storage: Storage;
  persistent: boolean;
  limitations: Limitation[];
}

export const IN_MEMORY = 'memory (this tab only)';

const PROBE = '.storage-probe.tmp';

/**
 * The lakehouse's storage in this browser: OPFS when it opens and a file written there reads back;
 * otherwise the same tables in memory (private windows, engines without OPFS). Each API that is
 * missing costs only what depends on it, and says so.
 */
export async function chooseStorage(root: string): Promise<ChosenStorage> {
  const limitations: Limitation[] = [];
  if (!hasWebLocks()) {
    limitations.push({
      feature: 'web-locks',
      reason: 'this browser has no Web Locks (navigator.locks)',
      effect: 'Runs are not coordinated between tabs: use the lakehouse in one tab at a time.',
    });
  }
  try {
    const storage = await OpfsStorage.open(root);
    await probe(storage);
    if (!('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
      limitations.push({
        feature: 'sync-access',
        reason: 'this browser has no synchronous access handles (createSyncAccessHandle) in workers',
        effect: 'Files are written with createWritable instead, a little more slowly; the tables are kept as usual.',
      });
    }
    return { storage, persistent: true, limitations };
  } catch (err) {
    limitations.unshift({
      feature: 'opfs',
      reason: reasonOf(err),
      effect:
        'The tables are kept in memory: they vanish when this tab is closed or reloaded. To keep them, download tables as Parquet or export the lakehouse as a .zip (Explorer), or open the page in a normal window of a browser with a private file system.',
    });
    return { storage: new MemoryStorage(IN_MEMORY), persistent: false, limitations };
  }
}

/** A small file written, read back and deleted: a private window may open OPFS and refuse writes. */
async function probe(storage: OpfsStorage): Promise<void> {
  const bytes = new TextEncoder().encode('probe');
  await storage.write(PROBE, bytes);
  const back = await storage.read(PROBE);
  await storage.delete(PROBE);
  if (back.byteLength !== bytes.byteLength) throw new Error(`the private file system read back ${back.byteLength} of ${bytes.byteLength} bytes`);
}

function reasonOf(err: unknown): string {
  if (typeof navigator === 'undefined' || typeof navigator.storage?.getDirectory !== 'function') {
    return 'this browser gives the page no private file system (navigator.storage.getDirectory is missing)';
  }
  const e = err instanceof Error ? err : undefined;
  const cause = e?.cause instanceof Error ? e.cause : e;
  return `the private file system refused: ${cause ? `${cause.name}: ${cause.message}` : String(err)}`;
}

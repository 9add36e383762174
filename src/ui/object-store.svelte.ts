import type { StoreListing } from '../worker/protocol.ts';

/**
 * The object-storage panel's form and connection, kept while the user looks at other tabs (the
 * worker holds the connection itself; this is what the page shows of it).
 */
export const objectStore = $state<{
  kind: 's3' | 'azure';
  s3: { endpoint: string; region: string; bucket: string; prefix: string; accessKeyId: string; secretAccessKey: string };
  azure: { containerUrl: string; prefix: string; accountName: string; accountKey: string };
  keep: boolean;
  /** the tables of the connected store; undefined when none is connected */
  listing: StoreListing | undefined;
  /** the paths of the tables opened from it, closed when it is disconnected */
  openedHere: string[];
}>({
  kind: 's3',
  s3: { endpoint: '', region: 'us-east-1', bucket: '', prefix: '', accessKeyId: '', secretAccessKey: '' },
  azure: { containerUrl: '', prefix: '', accountName: '', accountKey: '' },
  keep: false,
  listing: undefined,
  openedHere: [],
});

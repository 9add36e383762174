import { AzureClient, type AzureConfig } from './azure.ts';
import { ObjectStorage, StorageConfigError } from './object.ts';
import { S3Client } from './s3.ts';

/**
 * A bucket or container as the page names it, in a form: an S3-compatible store by its endpoint
 * and an access key, or an Azure container by its URL (with a SAS token, or an account key).
 * The CLI names the same stores by `s3://` and `az://` with credentials from the environment
 * (src/cli/location.ts); both end in the same clients. Requests go to the endpoint given, and
 * nowhere else.
 */
export type Connection = S3Connection | AzureConnection;

export interface S3Connection {
  kind: 's3';
  /** e.g. https://s3.eu-west-1.amazonaws.com, http://127.0.0.1:9000 (requests are path-style: endpoint/bucket/key) */
  endpoint: string;
  region: string;
  bucket: string;
  /** the folder of the bucket the lakehouse is in ('' = its root) */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AzureConnection {
  kind: 'azure';
  /** the container's URL, e.g. https://acct.blob.core.windows.net/lakehouse?sv=…&sig=… (a SAS), or without a query and with `accountKey` */
  containerUrl: string;
  prefix: string;
  /** the storage account's name; read from the URL when not given */
  accountName?: string;
  /** a Shared Key (base64) when the URL carries no SAS token */
  accountKey?: string;
}

const bad = (message: string) => new StorageConfigError(`storage: ${message}`);

function httpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad(`the ${what} ${JSON.stringify(text)} is not a URL: write it as https://host[:port][/path]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`the ${what} ${url.protocol}// is not http or https`);
  if (url.username || url.password) throw bad(`the ${what} carries a user name or password: give the credentials in their own fields`);
  return url;
}

const cleanPrefix = (prefix: string): string => {
  const p = prefix.trim().replace(/^\/+|\/+$/g, '');
  if (p.split('/').some((s) => s === '..' || s === '.')) throw bad(`the prefix ${JSON.stringify(prefix)} may not contain . or .. segments`);
  return p;
};

/** The Azure account, endpoint, container and credentials of a container URL. */
export function azureConfig(c: AzureConnection): AzureConfig {
  const url = httpUrl(c.containerUrl, 'container URL');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const container = segments.at(-1);
  if (!container) throw bad(`the container URL ${url.origin}${url.pathname} names no container: it ends …/CONTAINER`);
  // Azurite and other emulators put the account in the path (http://127.0.0.1:10000/devstoreaccount1/container).
  const fromPath = segments.length >= 2 ? segments.at(-2) : undefined;
  const fromHost = /^([a-z0-9]+)\.blob\./i.exec(url.hostname)?.[1];
  const account = c.accountName?.trim() || fromHost || fromPath;
  const sas = url.search.replace(/^\?/, '');
  const key = c.accountKey?.trim();
  if (!sas && !key) throw bad(`the container URL ${url.origin}${url.pathname} carries no SAS token (?sv=…&sig=…): give one, or the account key`);
  if (key && !account) throw bad('an account key needs the account name: it is not in the URL, so give it');
  if (sas && !new URLSearchParams(sas).has('sig')) throw bad('the SAS token in the container URL has no signature (sig=…)');
  const endpoint = `${url.origin}${segments
    .slice(0, -1)
    .map((s) => `/${encodeURIComponent(s)}`)
    .join('')}`;
  return { account: account ?? '', container, endpoint, auth: key ? { key } : { sas } };
}

/** The connection's files as Storage below its prefix. */
export function connectionStorage(c: Connection): ObjectStorage {
  const prefix = cleanPrefix(c.prefix);
  if (c.kind === 's3') {
    const endpoint = httpUrl(c.endpoint, 'endpoint URL');
    if (endpoint.search || endpoint.hash) throw bad('the endpoint URL has a query or a fragment: give just https://host[:port]');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(c.bucket.trim()))
      throw bad(`${JSON.stringify(c.bucket)} is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens`);
    if (!c.region.trim()) throw bad('the region is empty: give the bucket’s region (us-east-1 for most emulators)');
    if (!c.accessKeyId.trim() || !c.secretAccessKey) throw bad('an S3 connection needs an access key id and its secret');
    const client = new S3Client(
      {
        bucket: c.bucket.trim(),
        region: c.region.trim(),
        accessKeyId: c.accessKeyId.trim(),
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken?.trim() || undefined,
        endpoint: `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`,
      },
      prefix,
    );
    return new ObjectStorage(client, prefix);
  }
  return new ObjectStorage(new AzureClient(azureConfig(c), prefix), prefix);
}

/** The origin every request of the connection goes to (and the only one). */
export function connectionOrigin(c: Connection): string {
  return c.kind === 's3' ? httpUrl(c.endpoint, 'endpoint URL').origin : httpUrl(c.containerUrl, 'container URL').origin;
}

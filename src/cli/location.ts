import { resolve } from 'node:path';
import { azureStorage } from '../storage/azure.ts';
import { NodeStorage } from '../storage/node.ts';
import { s3Storage } from '../storage/s3.ts';
import type { Storage } from '../storage/types.ts';
import { UsageError } from './args.ts';

/**
 * Where a command's table or lakehouse is: a folder, or an object store with credentials from
 * the ecosystem's own variables —
 * `s3://bucket/prefix` (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL),
 * `az://container/prefix` (AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with a
 * key or SAS token), `abfss://container@account.dfs.core.windows.net/prefix` (the account from
 * the address, through its Blob endpoint).
 */
export function openLocation(where: string, env: Record<string, string | undefined> = process.env): Storage {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)\/?(.*)$/i.exec(where);
  if (!m) return new NodeStorage(resolve(where));
  const [, scheme, host, rest] = m as unknown as [string, string, string, string];
  const prefix = decodeURIComponent(rest).replace(/\/+$/, '');
  switch (scheme!.toLowerCase()) {
    case 's3':
    case 's3a':
      if (!host) throw new UsageError(`${where} names no bucket: write s3://BUCKET/PREFIX`);
      return s3Storage(host, prefix, env);
    case 'az':
    case 'azure':
      if (!host) throw new UsageError(`${where} names no container: write az://CONTAINER/PREFIX`);
      return azureStorage(host, prefix, env);
    case 'abfs':
    case 'abfss':
    case 'wasb':
    case 'wasbs': {
      const at = /^([^@]+)@([^.]+)\.(dfs|blob)\.core\.windows\.net$/i.exec(host);
      if (!at) throw new UsageError(`${where} is not CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX`);
      return azureStorage(at[1]!, prefix, env, at[2]!);
    }
    case 'file':
      return new NodeStorage(resolve(decodeURIComponent(new URL(where).pathname)));
    default:
      throw new UsageError(`${where}: the scheme ${scheme}:// is not one this CLI reads (a folder, s3://, az://, abfss://)`);
  }
}

import {
  drained,
  encodeKey,
  failure,
  missingObject,
  ObjectStorage,
  rangeBody,
  rangeHeader,
  send,
  StorageConfigError,
  xmlElements,
  xmlText,
  type ByteRange,
  type ObjectClient,
} from './object.ts';

/**
 * Azure Blob Storage and ADLS Gen2 (through its Blob endpoint, which takes the same conditional
 * puts), over fetch. Shared Key requests are signed here with WebCrypto's HMAC (thirty lines,
 * where the official SDK would bring its pipeline into the page); a SAS token is simply appended.
 */
export interface AzureConfig {
  account: string;
  container: string;
  /** the blob service, e.g. https://acct.blob.core.windows.net or Azurite's http://127.0.0.1:10000/devstoreaccount1 */
  endpoint: string;
  /** an account key (base64) for Shared Key, or a SAS token (the query string, with or without `?`) */
  auth: { key: string } | { sas: string };
}

const VERSION = '2023-11-03';

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * The account, endpoint and credentials from the variables Azure's tools read:
 * AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT(_NAME) with AZURE_STORAGE_KEY /
 * AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN. `account` (from an abfss:// host) wins.
 */
export function azureConfigFromEnv(container: string, env: Record<string, string | undefined>, account?: string): AzureConfig {
  const conn = env.AZURE_STORAGE_CONNECTION_STRING;
  if (conn) {
    const parts = new Map(
      conn
        .split(';')
        .filter((p) => p.includes('='))
        .map((p) => {
          const at = p.indexOf('=');
          return [p.slice(0, at).trim().toLowerCase(), p.slice(at + 1).trim()] as const;
        }),
    );
    const dev = parts.get('usedevelopmentstorage') === 'true';
    const name = account ?? parts.get('accountname') ?? (dev ? DEV_ACCOUNT : undefined);
    if (!name) throw new StorageConfigError('AZURE_STORAGE_CONNECTION_STRING names no AccountName');
    const endpoint =
      parts.get('blobendpoint') ??
      (dev
        ? `http://127.0.0.1:10000/${DEV_ACCOUNT}`
        : `${parts.get('defaultendpointsprotocol') ?? 'https'}://${name}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`);
    const key = parts.get('accountkey') ?? (dev ? DEV_KEY : undefined);
    const sas = parts.get('sharedaccesssignature');
    if (!key && !sas) throw new StorageConfigError('AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature');
    return { account: name, container, endpoint, auth: key ? { key } : { sas: sas! } };
  }
  const name = account ?? env.AZURE_STORAGE_ACCOUNT_NAME ?? env.AZURE_STORAGE_ACCOUNT;
  const key = env.AZURE_STORAGE_ACCOUNT_KEY ?? env.AZURE_STORAGE_KEY;
  const sas = env.AZURE_STORAGE_SAS_TOKEN;
  if (!name || (!key && !sas)) {
    throw new StorageConfigError(
      `az://${container} needs credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN`,
    );
  }
  const endpoint = env.AZURE_STORAGE_BLOB_ENDPOINT ?? `https://${name}.blob.core.windows.net`;
  return { account: name, container, endpoint, auth: key ? { key } : { sas: sas! } };
}

export class AzureClient implements ObjectClient {
  readonly description: string;
  requests = 0;
  private readonly base: string;
  private signingKey?: Promise<CryptoKey>;

  constructor(
    private readonly config: AzureConfig,
    prefix = '',
  ) {
    this.description = `az://${config.container}${prefix ? `/${prefix.replace(/^\/+|\/+$/g, '')}` : ''}`;
    this.base = `${config.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(config.container)}`;
  }

  private where(key: string): string {
    return `az://${this.config.container}/${key}`;
  }

  private async send(
    key: string | undefined,
    method: string,
    options: { query?: Record<string, string>; body?: Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = new URL(key === undefined ? this.base : `${this.base}/${encodeKey(key)}`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': VERSION, ...options.headers };
    if ('sas' in this.config.auth) {
      for (const [k, v] of new URLSearchParams(this.config.auth.sas.replace(/^\?/, ''))) url.searchParams.set(k, v);
    } else {
      headers.authorization = `SharedKey ${this.config.account}:${await this.sign(method, url, headers, options.body?.byteLength ?? 0)}`;
    }
    this.requests++;
    return send(new Request(url, { method, headers, body: options.body as Uint8Array<ArrayBuffer> | undefined }));
  }

  /** Shared Key: the string to sign of the Blob service's documentation, HMAC-SHA256 with the account key. */
  private async sign(method: string, url: URL, headers: Record<string, string>, length: number): Promise<string> {
    const h = (name: string) => headers[name] ?? '';
    const canonicalHeaders = Object.keys(headers)
      .filter((k) => k.startsWith('x-ms-'))
      .sort()
      .map((k) => `${k}:${headers[k]!.trim()}\n`)
      .join('');
    const params = [...new Set([...url.searchParams.keys()])].sort().map((k) => `\n${k.toLowerCase()}:${url.searchParams.getAll(k).sort().join(',')}`);
    const resource = `/${this.config.account}${url.pathname}${params.join('')}`;
    const text =
      [method, '', '', length ? String(length) : '', '', h('content-type'), '', '', '', h('if-none-match'), '', ''].join('\n') +
      '\n' +
      canonicalHeaders +
      resource;
    this.signingKey ??= crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob((this.config.auth as { key: string }).key), (c) => c.charCodeAt(0)),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const key = await this.signingKey;
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
    return btoa(String.fromCharCode(...mac));
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    // x-ms-range rather than Range: it is an x-ms- header, so Shared Key signs it with the others.
    const res = await this.send(key, 'GET', range ? { headers: { 'x-ms-range': rangeHeader(range) } } : {});
    if (res.status === 404) return missingObject(res, this.where(key));
    if (!res.ok && res.status !== 416) throw await failure(res, `reading ${this.where(key)}`);
    return rangeBody(res, range);
  }

  async put(key: string, data: Uint8Array, ifAbsent: boolean): Promise<boolean> {
    const headers: Record<string, string> = { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream' };
    if (ifAbsent) headers['if-none-match'] = '*';
    const res = await this.send(key, 'PUT', { body: data, headers });
    // Azure answers a put onto an existing blob with If-None-Match: * by 409 BlobAlreadyExists (or 412).
    if (ifAbsent && (res.status === 409 || res.status === 412)) return drained(res, false);
    if (!res.ok) throw await failure(res, `writing ${this.where(key)}`);
    return drained(res, true);
  }

  async head(key: string): Promise<{ size: number; modificationTime: number } | undefined> {
    const res = await this.send(key, 'HEAD');
    if (res.status === 404) return undefined;
    if (!res.ok) throw await failure(res, `looking up ${this.where(key)}`);
    return { size: Number(res.headers.get('content-length') ?? 0), modificationTime: Date.parse(res.headers.get('last-modified') ?? '') || 0 };
  }

  async delete(key: string): Promise<void> {
    const res = await this.send(key, 'DELETE');
    if (!res.ok && res.status !== 404) throw await failure(res, `deleting ${this.where(key)}`);
    await res.body?.cancel();
  }

  async list(prefix: string): Promise<{ key: string; size: number; modificationTime: number }[]> {
    const out: { key: string; size: number; modificationTime: number }[] = [];
    let marker = '';
    do {
      const query: Record<string, string> = { restype: 'container', comp: 'list', prefix };
      if (marker) query.marker = marker;
      const res = await this.send(undefined, 'GET', { query });
      if (res.status === 404) await missingObject(res, this.where(''));
      if (!res.ok) throw await failure(res, `listing ${this.where(prefix)}`);
      const xml = await res.text();
      for (const b of xmlElements(xml, 'Blob')) {
        // An ADLS Gen2 account lists its folders as blobs too.
        if (xmlText(b, 'ResourceType') === 'directory') continue;
        out.push({
          key: xmlText(b, 'Name')!,
          size: Number(xmlText(b, 'Content-Length')),
          modificationTime: Date.parse(xmlText(b, 'Last-Modified') ?? '') || 0,
        });
      }
      marker = xmlText(xml, 'NextMarker') ?? '';
    } while (marker);
    return out;
  }

  /**
   * Set the Blob service's CORS rules, for the whole account (Set Blob Service Properties; tests
   * and emulators: a real account's owner sets them in the portal or with `az storage cors add`).
   */
  async setCors(rule: { origins: string[]; methods: string[]; headers: string[]; exposed: string[] }): Promise<void> {
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><Cors><CorsRule>' +
      `<AllowedOrigins>${rule.origins.join(',')}</AllowedOrigins><AllowedMethods>${rule.methods.join(',')}</AllowedMethods>` +
      `<AllowedHeaders>${rule.headers.join(',')}</AllowedHeaders><ExposedHeaders>${rule.exposed.join(',')}</ExposedHeaders>` +
      '<MaxAgeInSeconds>600</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>';
    const account = new AzureClient({ ...this.config, container: '' });
    const res = await account.send(undefined, 'PUT', {
      query: { restype: 'service', comp: 'properties' },
      body: new TextEncoder().encode(xml),
      headers: { 'content-type': 'application/xml' },
    });
    if (!res.ok) throw await failure(res, `setting the CORS rules of ${this.config.endpoint}`);
    await res.body?.cancel();
  }

  /** Create the container (tests and emulators; a real one is made by its owner). */
  async createContainer(): Promise<void> {
    const res = await this.send(undefined, 'PUT', { query: { restype: 'container' } });
    if (!res.ok && res.status !== 409) throw await failure(res, `creating ${this.where('')}`);
    await res.body?.cancel();
  }
}

/** `az://container/prefix` (or abfss://container@account.dfs.core.windows.net/prefix) as Storage. */
export function azureStorage(container: string, prefix: string, env: Record<string, string | undefined>, account?: string): ObjectStorage {
  return new ObjectStorage(new AzureClient(azureConfigFromEnv(container, env, account), prefix), prefix);
}

import { AwsClient } from 'aws4fetch';
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
 * S3 and S3-compatible stores (MinIO, moto, R2…), over fetch with aws4fetch's SigV4 signer: a
 * few kilobytes that run alike in Node and in the page, where the official SDK would add
 * hundreds. Requests are path-style (`endpoint/bucket/key`) on a custom endpoint, as emulators
 * and MinIO want, and virtual-hosted (`bucket.s3.region.amazonaws.com`) on AWS itself.
 */
export interface S3Config {
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** e.g. http://127.0.0.1:9000; default AWS's regional endpoint */
  endpoint?: string;
}

/** Credentials and endpoint from the variables the AWS tools read. */
export function s3ConfigFromEnv(bucket: string, env: Record<string, string | undefined>): S3Config {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new StorageConfigError(
      `s3://${bucket} needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a store other than AWS)`,
    );
  }
  return {
    bucket,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
  };
}

export class S3Client implements ObjectClient {
  readonly description: string;
  requests = 0;
  private readonly aws: AwsClient;
  private readonly base: string;

  constructor(
    private readonly config: S3Config,
    prefix = '',
  ) {
    this.description = `s3://${config.bucket}${prefix ? `/${prefix.replace(/^\/+|\/+$/g, '')}` : ''}`;
    this.aws = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      sessionToken: config.sessionToken,
      region: config.region,
      service: 's3',
      retries: 0,
    });
    this.base = config.endpoint
      ? `${config.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(config.bucket)}`
      : `https://${config.bucket}.s3.${config.region}.amazonaws.com`;
  }

  private async send(key: string, init: RequestInit & { query?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(`${this.base}/${encodeKey(key)}`);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    this.requests++;
    const { query: _, ...rest } = init;
    return send(await this.aws.sign(url.href, rest));
  }

  private where(key: string): string {
    return `s3://${this.config.bucket}/${key}`;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const res = await this.send(key, range ? { headers: { range: rangeHeader(range) } } : {});
    if (res.status === 404) return missingObject(res, this.where(key));
    if (!res.ok && res.status !== 416) throw await failure(res, `reading ${this.where(key)}`);
    return rangeBody(res, range);
  }

  async put(key: string, data: Uint8Array, ifAbsent: boolean): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (ifAbsent) headers['if-none-match'] = '*';
    const res = await this.send(key, { method: 'PUT', body: data as Uint8Array<ArrayBuffer>, headers });
    // 409: a conditional put that raced another one still in flight (S3 asks to retry; we lost).
    if (ifAbsent && (res.status === 412 || res.status === 409)) return drained(res, false);
    if (!res.ok) throw await failure(res, `writing ${this.where(key)}`);
    return drained(res, true);
  }

  async head(key: string): Promise<{ size: number; modificationTime: number } | undefined> {
    const res = await this.send(key, { method: 'HEAD' });
    if (res.status === 404) return undefined;
    if (!res.ok) throw await failure(res, `looking up ${this.where(key)}`);
    return { size: Number(res.headers.get('content-length') ?? 0), modificationTime: Date.parse(res.headers.get('last-modified') ?? '') || 0 };
  }

  async delete(key: string): Promise<void> {
    const res = await this.send(key, { method: 'DELETE' });
    if (!res.ok && res.status !== 404) throw await failure(res, `deleting ${this.where(key)}`);
    await res.body?.cancel();
  }

  async list(prefix: string): Promise<{ key: string; size: number; modificationTime: number }[]> {
    const out: { key: string; size: number; modificationTime: number }[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix };
      if (token) query['continuation-token'] = token;
      const res = await this.send('', { query });
      if (res.status === 404) await missingObject(res, this.where(''));
      if (!res.ok) throw await failure(res, `listing ${this.where(prefix)}`);
      const xml = await res.text();
      for (const c of xmlElements(xml, 'Contents')) {
        out.push({ key: xmlText(c, 'Key')!, size: Number(xmlText(c, 'Size')), modificationTime: Date.parse(xmlText(c, 'LastModified') ?? '') || 0 });
      }
      token = xmlText(xml, 'IsTruncated') === 'true' ? xmlText(xml, 'NextContinuationToken') : undefined;
    } while (token);
    return out;
  }

  /** Create the bucket (tests and emulators; a real one is made by its owner). */
  async createBucket(): Promise<void> {
    this.requests++;
    const res = await send(await this.aws.sign(this.base, { method: 'PUT' }));
    if (!res.ok && res.status !== 409) throw await failure(res, `creating s3://${this.config.bucket}`);
    await res.body?.cancel();
  }
}

/** `s3://bucket/prefix` as Storage, with credentials from `env`. */
export function s3Storage(bucket: string, prefix: string, env: Record<string, string | undefined>): ObjectStorage {
  return new ObjectStorage(new S3Client(s3ConfigFromEnv(bucket, env), prefix), prefix);
}

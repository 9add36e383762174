import { describe, expect, it } from 'vitest';
import { openLocation } from '../src/cli/location.ts';
import { azureConfigFromEnv } from '../src/storage/azure.ts';
import { encodeKey, xmlElements, xmlText, ObjectStorage } from '../src/storage/object.ts';
import { s3ConfigFromEnv } from '../src/storage/s3.ts';
import { NodeStorage } from '../src/storage/node.ts';

// The parts of the object-store ports that need no server (the rest: test/object-storage/).
const AWS = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' };
const KEY = 'a2V5';

describe('command-line locations', () => {
  it.each([
    ['s3://bucket/lake/house/', 's3://bucket/lake/house', AWS],
    ['s3a://bucket', 's3://bucket', AWS],
    ['az://container/lake', 'az://container/lake', { AZURE_STORAGE_ACCOUNT_NAME: 'acct', AZURE_STORAGE_ACCOUNT_KEY: KEY }],
    ['abfss://container@acct.dfs.core.windows.net/lake%20house', 'az://container/lake house', { AZURE_STORAGE_ACCOUNT_KEY: KEY }],
  ])('%s opens the object store %s', (where, description, env) => {
    const storage = openLocation(where, env);
    expect(storage).toBeInstanceOf(ObjectStorage);
    expect(storage.description).toBe(description);
  });

  it('a folder stays a folder', () => {
    expect(openLocation('out/delta', {})).toBeInstanceOf(NodeStorage);
  });

  it.each([
    ['s3://bucket/x', {}, 's3://bucket needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a store other than AWS)'],
    [
      'az://c/x',
      {},
      'az://c needs credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN',
    ],
    ['abfss://c@acct.example.com/x', {}, 'abfss://c@acct.example.com/x is not CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX'],
    ['gs://bucket/x', {}, 'gs://bucket/x: the scheme gs:// is not one this CLI reads (a folder, s3://, az://, abfss://)'],
    ['s3:///x', AWS, 's3:///x names no bucket: write s3://BUCKET/PREFIX'],
  ])('%s is refused with a sentence', (where, env, message) => {
    expect(() => openLocation(where, env)).toThrow(message);
  });
});

describe('credentials from the ecosystems’ variables', () => {
  it('S3: region and endpoint, with the defaults AWS tools use', () => {
    expect(s3ConfigFromEnv('b', AWS)).toEqual({
      bucket: 'b',
      region: 'us-east-1',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      sessionToken: undefined,
      endpoint: undefined,
    });
    expect(s3ConfigFromEnv('b', { ...AWS, AWS_DEFAULT_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_SESSION_TOKEN: 't' })).toMatchObject({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      sessionToken: 't',
    });
  });

  it('Azure: a connection string with a key, with a SAS, or for the development storage', () => {
    const conn = `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net`;
    expect(azureConfigFromEnv('c', { AZURE_STORAGE_CONNECTION_STRING: conn })).toEqual({
      account: 'acct',
      container: 'c',
      endpoint: 'https://acct.blob.core.windows.net',
      auth: { key: KEY },
    });
    expect(
      azureConfigFromEnv('c', {
        AZURE_STORAGE_CONNECTION_STRING: 'BlobEndpoint=http://127.0.0.1:1/acct;AccountName=acct;SharedAccessSignature=sv=2023&sig=x%2B',
      }),
    ).toEqual({
      account: 'acct',
      container: 'c',
      endpoint: 'http://127.0.0.1:1/acct',
      auth: { sas: 'sv=2023&sig=x%2B' },
    });
    expect(azureConfigFromEnv('c', { AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' })).toMatchObject({
      account: 'devstoreaccount1',
      endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
    });
    expect(azureConfigFromEnv('c', { AZURE_STORAGE_ACCOUNT: 'acct', AZURE_STORAGE_SAS_TOKEN: '?sv=1' })).toEqual({
      account: 'acct',
      container: 'c',
      endpoint: 'https://acct.blob.core.windows.net',
      auth: { sas: '?sv=1' },
    });
  });
});

describe('keys and listings', () => {
  it('encodes each segment as SigV4 and Azure expect', () => {
    expect(encodeKey("day=2024-01-01/part 0 ü(1)!'*.json")).toBe('day%3D2024-01-01/part%200%20%C3%BC%281%29%21%27%2A.json');
  });

  it('reads XML listings, entities decoded', () => {
    const xml =
      '<R><Contents><Key>a&amp;b &lt;c&gt; &#252;</Key><Size>3</Size></Contents><Contents><Key>d</Key></Contents><IsTruncated>false</IsTruncated></R>';
    expect(xmlElements(xml, 'Contents').map((c) => xmlText(c, 'Key'))).toEqual(['a&b <c> ü', 'd']);
    expect(xmlText(xml, 'Missing')).toBeUndefined();
  });
});

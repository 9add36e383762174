import { createHmac } from 'node:crypto';
import { describe, expect, inject, test } from 'vitest';
import { checkStorage } from '../../src/storage/contract.ts';
import { azureStorage } from '../../src/storage/azure.ts';
import { s3Storage } from '../../src/storage/s3.ts';

const env = inject('storageEnv');

// The contract every Storage keeps (src/storage/contract.ts), on the emulated stores.
describe('storage contract on object stores', () => {
  test('S3 (moto)', async () => {
    const storage = s3Storage('lakehouse', `contract-${crypto.randomUUID()}`, env);
    expect(await checkStorage(storage, 'c')).toEqual([]);
    expect(await storage.list('')).toEqual([]);
  });

  test('Azure Blob (Azurite)', async () => {
    const storage = azureStorage('lakehouse', `contract-${crypto.randomUUID()}`, env);
    expect(await checkStorage(storage, 'c')).toEqual([]);
    expect(await storage.list('')).toEqual([]);
  });
});

describe('Azure with a SAS token instead of the account key', () => {
  test('an account SAS (what the page is given) keeps the contract; a wrong signature is an error naming the store', async () => {
    const conn = new Map(
      env
        .AZURE_STORAGE_CONNECTION_STRING!.split(';')
        .filter(Boolean)
        .map((p) => p.split(/=(.*)/s, 2) as [string, string]),
    );
    const account = conn.get('AccountName')!;
    const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const fields = { sv: '2023-11-03', ss: 'b', srt: 'sco', sp: 'rwdlac', se: expiry, spr: 'https,http' };
    const toSign = [account, fields.sp, fields.ss, fields.srt, '', fields.se, '', fields.spr, fields.sv, '', ''].join('\n');
    const sig = createHmac('sha256', Buffer.from(conn.get('AccountKey')!, 'base64'))
      .update(toSign)
      .digest('base64');
    const sas = new URLSearchParams({ ...fields, sig }).toString();
    const sasEnv = { AZURE_STORAGE_ACCOUNT_NAME: account, AZURE_STORAGE_SAS_TOKEN: sas, AZURE_STORAGE_BLOB_ENDPOINT: conn.get('BlobEndpoint')! };
    const storage = azureStorage('lakehouse', `sas-${crypto.randomUUID()}`, sasEnv);
    expect(await checkStorage(storage, 'c')).toEqual([]);
    const forged = azureStorage('lakehouse', 'sas-forged', { ...sasEnv, AZURE_STORAGE_SAS_TOKEN: sas.replace(/sig=[^&]+/, 'sig=AAAA') });
    await expect(forged.read('x')).rejects.toThrow(
      'storage: reading az://lakehouse/sas-forged/x failed with HTTP 403 (AuthorizationFailure: Server failed to authenticate the request. ' +
        'Make sure the value of the Authorization header is formed correctly including the signature.)',
    );
  });
});

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

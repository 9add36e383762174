import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain .mjs script, without types
import { startServers } from '../../scripts/storage-servers.mjs';
import { AzureClient, azureConfigFromEnv } from '../../src/storage/azure.ts';
import { S3Client, s3ConfigFromEnv } from '../../src/storage/s3.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the variables that point the CLI at moto (S3) and Azurite (Blob), both with a bucket/container `lakehouse` */
    storageEnv: Record<string, string>;
  }
}

/** moto and Azurite on loopback for this run (scripts/storage-servers.mjs), each with a bucket `lakehouse`. */
export default async function setup(project: TestProject): Promise<() => void> {
  const { env, stop } = (await startServers()) as { env: Record<string, string>; stop: () => void };
  try {
    await new S3Client(s3ConfigFromEnv(BUCKET, env)).createBucket();
    await new AzureClient(azureConfigFromEnv(BUCKET, env)).createContainer();
  } catch (err) {
    stop();
    throw err;
  }
  project.provide('storageEnv', env);
  return stop;
}

export const BUCKET = 'lakehouse';

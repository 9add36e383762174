// The object stores the tests run against, on loopback: moto's S3 server (PyPI, pinned in
// scripts/storage/requirements.txt, installed into scripts/storage/.venv on first use) and
// Azurite's Blob service (npm dev dependency). Both honour conditional puts (If-None-Match: *).
//
//   npm run -s storage-servers          start both (each with a bucket `lakehouse`), print the variables that point the CLI at them, stop on Ctrl-C
//
// test/object-storage/global-setup.ts starts them the same way for the tests.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HERE = join(ROOT, 'scripts/storage');
const VENV = join(HERE, '.venv');
export const PYTHON = join(VENV, 'bin/python');

export const AZURITE_CONNECTION = (port) =>
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;

/** The pinned Python packages (moto's server, and delta-rs for the interop test) in scripts/storage/.venv. */
export function ensureVenv() {
  const requirements = join(HERE, 'requirements.txt');
  const stamp = join(VENV, '.requirements');
  if (existsSync(PYTHON) && existsSync(stamp) && readFileSync(stamp, 'utf8') === readFileSync(requirements, 'utf8')) return;
  console.error('storage: installing moto and deltalake (pinned) into scripts/storage/.venv (first use)…');
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`storage: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  };
  run('python3', ['-m', 'venv', VENV]);
  run(join(VENV, 'bin/pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stamp, readFileSync(requirements, 'utf8'));
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, child, name) {
  const started = Date.now();
  while (Date.now() - started < 30_000) {
    if (child.exitCode !== null) throw new Error(`storage: ${name} exited with ${child.exitCode} before it listened`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`storage: ${name} did not answer at ${url} within 30 s`);
}

/**
 * Starts moto and Azurite on free loopback ports. Returns the environment that points the CLI
 * at them and `stop()`.
 */
export async function startServers() {
  ensureVenv();
  const [s3Port, azurePort] = [await freePort(), await freePort()];
  const moto = spawn(join(VENV, 'bin/moto_server'), ['-H', '127.0.0.1', '-p', String(s3Port)], { stdio: 'ignore' });
  const azurite = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/azurite/dist/src/blob/main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(azurePort),
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
    ],
    { stdio: 'ignore' },
  );
  // In memory, nothing to save: SIGKILL (Azurite waits for open connections on SIGTERM).
  const stop = () => {
    for (const child of [moto, azurite]) if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    await waitFor(`http://127.0.0.1:${s3Port}/`, moto, 'moto');
    await waitFor(`http://127.0.0.1:${azurePort}/`, azurite, 'Azurite');
  } catch (err) {
    stop();
    throw err;
  }
  const env = {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
    AZURE_STORAGE_CONNECTION_STRING: AZURITE_CONNECTION(azurePort),
  };
  return { env, stop };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { env, stop } = await startServers();
  // Run through tsx (npm run storage-servers), which loads the TypeScript clients.
  const { S3Client, s3ConfigFromEnv } = await import('../src/storage/s3.ts');
  const { AzureClient, azureConfigFromEnv } = await import('../src/storage/azure.ts');
  await new S3Client(s3ConfigFromEnv('lakehouse', env)).createBucket();
  await new AzureClient(azureConfigFromEnv('lakehouse', env)).createContainer();
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}='${v}'`);
  console.error('storage: moto (S3) and Azurite (Blob) are running, each with a bucket `lakehouse` (s3://lakehouse/…, az://lakehouse/…); Ctrl-C stops them');
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stop();
      process.exit(0);
    });
  }
  setInterval(() => {}, 1 << 30);
}

// `npm test`: the browsers present (Chromium, Firefox ESR, WebKitGTK), type-check, lint and format check (Biome), every test
// (unit and end-to-end), then one plain closing line with the counts.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
/** `cmd` started now, its output (stderr, and stdout unless `quiet`) to `log`; resolves to its exit status. */
const background = (cmd, args, log, env = process.env, quiet = false) =>
  new Promise((done) => {
    const out = openSync(log, 'w');
    const child = spawn(cmd, args, { env, stdio: ['ignore', quiet ? 'ignore' : out, out] });
    child.on('error', () => done(1));
    child.on('close', (code) => done(code ?? 1));
    closeSync(out);
  });
const extra = process.argv.slice(2).filter((a) => a !== '--no-interop');

if (run(process.execPath, ['scripts/ensure-browsers.mjs']) !== 0) process.exit(1);
mkdirSync('.tmp', { recursive: true });
// The end-to-end tests' production build (what their globalSetup would make before any test
// starts), made beside the type-check and lint, which leave a core free, when every test runs;
// E2E_DIST names a build already made.
const buildDir = '.tmp/e2e-dist';
const buildLog = '.tmp/e2e-build.log';
const build =
  process.env.E2E_DIST === undefined && extra.length === 0
    ? background(
        process.execPath,
        [join('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', buildDir, '--emptyOutDir', '--logLevel', 'warn'],
        buildLog,
        {
          ...process.env,
          NODE_ENV: 'production',
        },
      )
    : undefined;
// The object-storage tests' Python venv (moto; a pip install on first use), which their
// globalSetup would otherwise make before any test starts, installed beside them too.
const storageLog = '.tmp/storage-setup.log';
const storage = build
  ? background(process.execPath, ['--input-type=module', '-e', "(await import('./scripts/storage-servers.mjs')).ensureVenv()"], storageLog)
  : undefined;
if (run('npm', ['run', '-s', 'typecheck']) !== 0) {
  console.error('type-check failed; tests not run');
  process.exit(1);
}
if (run('npx', ['biome', 'ci']) !== 0) {
  console.error('lint/format failed; tests not run (`npx biome check --write` fixes what it can)');
  process.exit(1);
}
if (build && (await build) !== 0) {
  process.stderr.write(readFileSync(buildLog, 'utf8'));
  console.error(`the production build for the end-to-end tests failed (${buildLog}); tests not run`);
  process.exit(1);
}
if (build) process.env.E2E_DIST = resolve(buildDir);
// A failure shows again, with its reason, when the object-storage tests' globalSetup tries.
if (storage && (await storage) !== 0) process.stderr.write(readFileSync(storageLog, 'utf8'));
// The interop suite's Python venv (pinned pyspark, delta-spark, delta-rs…: downloads and unpacking,
// about a minute on a bare machine) is installed beside the Node tests, at the lowest CPU priority,
// its output to a file (this process waits on vitest and drains no pipe meanwhile).
const interopWanted = !process.argv.includes('--no-interop');
const setupLog = '.tmp/interop-setup.log';
const setup = interopWanted ? background('nice', ['-n', '19', 'bash', 'interop/setup.sh'], setupLog, process.env, true) : Promise.resolve(0);
const results = '.tmp/vitest-results.json';
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...extra]);
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
// The interoperability suite (Spark and delta-rs as peers), after the Node tests; `--no-interop` skips it.
// It opens a Spark-processed lakehouse in the built app: a full run above has just built it for the
// e2e tests, so it is passed on; otherwise the suite builds its own.
let interop = 0;
if (interopWanted) {
  // run.sh sets up again only what this did not finish (a failure shows there, with its reason).
  const setupStatus = await setup;
  process.stderr.write(readFileSync(setupLog, 'utf8'));
  if (setupStatus !== 0) console.error(`interop: installing the Python peers beside the tests failed (status ${setupStatus}); interop/run.sh tries again`);
  const dist = resolve(process.env.E2E_DIST ?? '.tmp/e2e-dist');
  const built = extra.length === 0 && existsSync(join(dist, 'index.html'));
  interop = spawnSync('bash', ['interop/run.sh'], { stdio: 'inherit', env: built ? { ...process.env, E2E_DIST: dist } : process.env }).status ?? 1;
  console.log(`interop: ${interop === 0 ? 'passed' : 'failed'}`);
}
process.exit(status || interop);

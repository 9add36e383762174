// `npm test`: the browsers present (Chromium, Firefox ESR, WebKitGTK), type-check, lint and format check (Biome), every test
// (unit and end-to-end), then one plain closing line with the counts.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
const extra = process.argv.slice(2).filter((a) => a !== '--no-interop');

if (run(process.execPath, ['scripts/ensure-browsers.mjs']) !== 0) process.exit(1);
if (run('npm', ['run', '-s', 'typecheck']) !== 0) {
  console.error('type-check failed; tests not run');
  process.exit(1);
}
if (run('npx', ['biome', 'ci']) !== 0) {
  console.error('lint/format failed; tests not run (`npx biome check --write` fixes what it can)');
  process.exit(1);
}
mkdirSync('.tmp', { recursive: true });
// The interoperability suite (Spark and delta-rs as peers) runs beside the Node tests, niced: the
// browser tests leave about 0.4 of CI's two cores idle while they wait on pages, and Spark takes
// it (one after the other, the whole CI took 29.9 min). Its output goes to a file, printed once the Node tests are done; `--no-interop` leaves it out. It builds the app it
// opens for itself, as the e2e tests' build is being made at the same time.
const interopLog = '.tmp/interop.log';
const interop = process.argv.includes('--no-interop') ? undefined : startInterop(interopLog);
const results = '.tmp/vitest-results.json';
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...extra]);
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
let interopStatus = 0;
if (interop) {
  interopStatus = await interop;
  console.log(`\n--- interop (Spark, delta-rs), from ${interopLog}:`);
  process.stdout.write(readFileSync(interopLog));
  console.log(`interop: ${interopStatus === 0 ? 'passed' : 'failed'}`);
}
process.exit(status || interopStatus);

function startInterop(log) {
  const out = openSync(log, 'w');
  const child = spawn('nice', ['-n', '10', 'bash', 'interop/run.sh'], { stdio: ['ignore', out, out] });
  closeSync(out);
  return new Promise((done) => {
    child.on('error', () => done(1));
    child.on('exit', (code) => done(code ?? 1));
  });
}

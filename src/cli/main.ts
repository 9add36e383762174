import { DeltaError } from '../delta/errors.ts';
import { openNodeEngine } from '../engine/node.ts';
import type { Engine } from '../engine/types.ts';
import { initParquet } from '../parquet/node.ts';
import { UsageError } from './args.ts';
import { appendCommand } from './append.ts';
import { copyCommand } from './copy.ts';
import { logCommand } from './log.ts';
import { optimizeCommand, vacuumCommand } from './maintenance.ts';
import { readCommand } from './read.ts';
import { ingestCommand, OUT_DIR, runCommand, type BatchRunner } from './run.ts';
import { runBatchOnSpark, sparkPython } from './spark.ts';
import { statusCommand } from './status.ts';
import { DEFAULT_TARGET_FILE_SIZE } from '../delta/optimize.ts';
import { DEFAULT_RETENTION_HOURS } from '../delta/vacuum.ts';
import { RUN_DEFAULTS } from '../pipeline/run-options.ts';

const USAGE = `CreatorOps Lakehouse command line

  run [--events N] [--seed S] [--days D] [--invalid-rate R] [--out DIR] [--engine wasm|native|spark]
                                                      generate one batch of events; bronze -> silver -> gold into DIR
                                                      defaults: --events ${RUN_DEFAULTS.events} --seed ${RUN_DEFAULTS.seed} --days ${RUN_DEFAULTS.days} --invalid-rate ${RUN_DEFAULTS.invalidRate}
                                                      --out ${OUT_DIR} --engine wasm; the same seed gives the same events,
                                                      so a second run with it adds only duplicates: give a new --seed
  ingest FILE.jsonl [--out DIR] [--engine wasm|native|spark]
                                                      your own events as a batch, through silver and gold (default --out ${OUT_DIR});
                                                      try examples/events.jsonl; the contract is contracts/event_schema.json
                                                      (--engine native: native DuckDB, from the dev dependency @duckdb/node-api;
                                                      --engine spark: silver and gold on PySpark + delta-spark in local mode,
                                                      installed by \`bash spark/setup.sh\`; see docs/scale-out.md)

  status [--out DIR] [--repair] [--json]              per table: its version, what it was computed from, whether it is up to date;
                                                      --repair finishes what a stopped run left undone (run and ingest do it first too)

  read TABLE_DIR [--version N] [--out FILE.parquet]   rows of a Delta table (JSON lines, or one Parquet file); default: the latest version
  log TABLE_DIR [--json]                              a Delta table's history
  append TABLE_DIR FILE.parquet|FILE.jsonl            add the rows of a file to any Delta table as one commit; prints the version
                                                      (refused, with nothing written, when the table's protocol or a constraint forbids it)

  optimize DIR [--target-size-mb N]                   compact small files (dataChange false); DIR is a table or a lakehouse root
                                                      (default --target-size-mb ${DEFAULT_TARGET_FILE_SIZE / 2 ** 20})
  vacuum DIR [--retention-hours H] [--dry-run] [--force]
                                                      delete files no version within the retention needs (default --retention-hours ${DEFAULT_RETENTION_HOURS}, the table's own when it sets one)
                                                      (append, optimize and vacuum first check every table's protocol: a writer
                                                      feature this writer does not implement leaves all of them untouched)

  push DIR URL                                        copy a lakehouse (or a table) to an object store with its history
  pull URL DIR                                        and back; what the target has already is kept, a diverged history refused

Every DIR and TABLE_DIR may also be an object store:
  s3://BUCKET/PREFIX      AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL (S3-compatible stores)
  az://CONTAINER/PREFIX   AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN
  abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX
Commits there are conditional puts (If-None-Match: *); a store that ignores them is refused.
`;

/**
 * `--engine wasm` (DuckDB-WASM, the default: what the browser runs), `--engine native` or
 * `--engine spark` (bronze written here, silver and gold by the Spark runner); the other arguments.
 */
async function engineOption(argv: string[]): Promise<{ engine: Engine; runner?: BatchRunner; args: string[] }> {
  const at = argv.findIndex((a) => a === '--engine' || a.startsWith('--engine='));
  if (at < 0) return { engine: await openNodeEngine(), args: argv };
  const inline = argv[at]!.startsWith('--engine=') ? argv[at]!.slice('--engine='.length) : undefined;
  const kind = inline ?? argv[at + 1];
  const args = argv.filter((_, i) => i !== at && (inline !== undefined || i !== at + 1));
  if (kind === 'wasm') return { engine: await openNodeEngine(), args };
  if (kind === 'native') {
    const { openNativeEngine } = await import('../engine/native.ts');
    return { engine: await openNativeEngine(), args };
  }
  if (kind === 'spark') {
    sparkPython(); // before anything is written: says how to install it when it is missing
    return { engine: await openNodeEngine(), runner: runBatchOnSpark, args };
  }
  throw new UsageError(`--engine must be wasm, native or spark, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  initParquet();
  switch (command) {
    case 'run':
    case 'ingest': {
      const { engine, runner, args } = await engineOption(rest);
      return (command === 'run' ? runCommand : ingestCommand)(args, engine, process.stdout, runner);
    }
    case 'read':
      return readCommand(rest, await openNodeEngine(), process.stdout);
    case 'log':
      return logCommand(rest, process.stdout);
    case 'status':
      return statusCommand(rest, openNodeEngine, process.stdout);
    case 'append':
      return appendCommand(rest, await openNodeEngine(), process.stdout);
    case 'optimize':
      return optimizeCommand(rest, process.stdout);
    case 'vacuum':
      return vacuumCommand(rest, process.stdout);
    case 'push':
    case 'pull':
      return copyCommand(command, rest, process.stdout);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

// A reader that stops early (`cli read … | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

// The event loop ran dry with the command still waiting: something it awaits can no longer answer
// (a worker thread that kept nothing alive). Say so and fail, rather than end as if it succeeded.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write(
    'error: the command stopped before it finished: it was waiting for something that can no longer answer (a bug in the CLI). ' +
      'Tables keep their last committed version; a run that stopped after bronze is finished by the next run\n',
  );
  exit(70);
});

main(process.argv.slice(2)).then(
  () => {
    finished = true;
    exit(0);
  },
  (err: unknown) => {
    // Every command is about a table: the Delta layer's errors need not say `delta:` here.
    const message = err instanceof DeltaError ? err.reason : err instanceof Error ? err.message : String(err);
    finished = true;
    process.stderr.write(`error: ${message}\n`);
    exit(err instanceof UsageError ? 2 : 1);
  },
);

/**
 * Leave once stdout and stderr have taken everything written to them. process.exit alone drops
 * what a pipe has not taken yet: `cli read` into a busy reader lost its last rows.
 * The exit itself stays explicit, since the engine's workers would keep the process alive.
 */
function exit(code: number): void {
  let open = 2;
  const flushed = (): void => {
    if (--open === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

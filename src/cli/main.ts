import { openNodeEngine } from '../engine/node.ts';
import { initParquet } from '../parquet/node.ts';
import { UsageError } from './args.ts';
import { logCommand } from './log.ts';
import { optimizeCommand, vacuumCommand } from './maintenance.ts';
import { readCommand } from './read.ts';
import { ingestCommand, runCommand } from './run.ts';

const USAGE = `CreatorOps Lakehouse command line

  run [--events N] [--seed S] [--days D] [--invalid-rate R] [--out DIR]
                                                      generate one batch of events; bronze -> silver -> gold into DIR (default out/delta)
  ingest FILE.jsonl [--out DIR]                       your own events as a batch, through silver and gold

  read TABLE_DIR [--version N] [--out FILE.parquet]   rows of a Delta table (JSON lines, or one Parquet file)
  log TABLE_DIR [--json]                              a Delta table's history

  optimize DIR [--target-size-mb N]                   compact small files (dataChange false); DIR is a table or a lakehouse root
  vacuum DIR [--retention-hours H] [--dry-run] [--force]
                                                      delete files no version within the retention needs (default 168 h)
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  initParquet();
  switch (command) {
    case 'run':
      return runCommand(rest, await openNodeEngine(), process.stdout);
    case 'ingest':
      return ingestCommand(rest, await openNodeEngine(), process.stdout);
    case 'read':
      return readCommand(rest, await openNodeEngine(), process.stdout);
    case 'log':
      return logCommand(rest, process.stdout);
    case 'optimize':
      return optimizeCommand(rest, process.stdout);
    case 'vacuum':
      return vacuumCommand(rest, process.stdout);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message.replace(/^delta: /, '')}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);

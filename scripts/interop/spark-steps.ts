/**
 * This project's side of the Spark runner's tests (interop/test_spark_contract.py,
 * interop/test_spark_runner.py), one command each:
 *
 * - `generate N SEED RATE`: the generator's lines (invalid share RATE), one JSON string a line;
 * - `check FILE`: contract.ts's checkLine on each line of FILE (one JSON string a line), one JSON
 *   result a line (the typed event, or stage, event_id, reasons and errors);
 * - `bronze DIR N SEED RATE`: a generated batch appended to DIR's bronze/events only, as the page or
 *   another writer leaves it for silver to take in later;
 * - `pending DIR`: every bronze version silver has not taken in, through silver, then gold — our
 *   pipeline on a lakehouse whose bronze another engine may have written.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nodeContext } from '../../src/cli/context.ts';
import { openNodeEngine } from '../../src/engine/node.ts';
import { initParquet } from '../../src/parquet/node.ts';
import { writeBronze } from '../../src/pipeline/bronze.ts';
import { checkLine } from '../../src/pipeline/contract.ts';
import { generateEvents } from '../../src/pipeline/generator/index.ts';
import { refreshGold } from '../../src/pipeline/gold.ts';
import { loadSilverEvents, processPendingBronze } from '../../src/pipeline/silver/index.ts';

/** Write to stdout and wait until it is out: process.exit would cut a pipe's pending output. */
const print = (text: string) => new Promise<void>((done) => process.stdout.write(text, () => done()));

const generate = (n: string, seed: string, rate: string) => generateEvents({ events: Number(n), seed: Number(seed), days: 60, invalidRate: Number(rate) });

async function main([command, ...args]: string[]): Promise<void> {
  initParquet();
  if (command === 'generate') {
    const lines: string[] = [];
    for (const chunk of generate(args[0]!, args[1]!, args[2]!)) lines.push(...chunk.map((l) => JSON.stringify(l)));
    await print(`${lines.join('\n')}\n`);
  } else if (command === 'check') {
    const lines = readFileSync(args[0]!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string);
    const out = lines.map((line, i) => {
      const r = checkLine(line, i + 1);
      return JSON.stringify(
        r.ok
          ? { ok: { ...r.event, occurred_at_us: String(r.event.occurred_at_us) } }
          : { stage: r.stage, eventId: r.eventId, reasons: r.reasons, errors: r.errors },
      );
    });
    await print(`${out.join('\n')}\n`);
  } else if (command === 'bronze') {
    const ctx = nodeContext(await openNodeEngine(), resolve(args[0]!));
    const r = await writeBronze(ctx, generate(args[1]!, args[2]!, args[3]!), 'generator', Number(args[1]));
    await print(`${JSON.stringify(r)}\n`);
  } else if (command === 'pending') {
    const ctx = nodeContext(await openNodeEngine(), resolve(args[0]!));
    await loadSilverEvents(ctx);
    const silver = await processPendingBronze(ctx);
    const gold = await refreshGold(ctx);
    await print(`${JSON.stringify({ silver, gold })}\n`);
  } else {
    throw new Error('usage: spark-steps.ts generate N SEED RATE | check FILE | bronze DIR N SEED RATE | pending DIR');
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

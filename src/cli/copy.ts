import { copyLakehouse } from '../delta/copy.ts';
import { parseArgs, UsageError } from './args.ts';
import { openLocation } from './location.ts';

/** `push DIR URL` / `pull URL DIR`: a lakehouse (or one table) copied with its history. */
export async function copyCommand(command: 'push' | 'pull', argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const args = parseArgs(argv, []);
  const [source, target, ...rest] = args.positional;
  if (!source || !target || rest.length) {
    throw new UsageError(
      command === 'push' ? 'usage: push DIR s3://BUCKET/PREFIX|az://CONTAINER/PREFIX' : 'usage: pull s3://BUCKET/PREFIX|az://CONTAINER/PREFIX DIR',
    );
  }
  const started = performance.now();
  const copied = await copyLakehouse(openLocation(source), openLocation(target), source);
  const seconds = (performance.now() - started) / 1000;
  const lines = copied.map(
    (c) =>
      `${(c.table || source).padEnd(30)} version ${c.version}  ${c.commits} commit${c.commits === 1 ? '' : 's'}, ${c.files} file${c.files === 1 ? '' : 's'} copied`,
  );
  const bytes = copied.reduce((n, c) => n + c.bytes, 0);
  lines.push(
    `${copied.length} table${copied.length === 1 ? '' : 's'} from ${source} to ${target}: ${(bytes / 2 ** 20).toFixed(1)} MB in ${seconds.toFixed(1)} s`,
  );
  out.write(`${lines.join('\n')}\n`);
}

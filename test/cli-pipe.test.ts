import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const CLI = [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/cli/main.ts')];

let table: string;
let rows: number;
beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'cli-pipe-'));
  await promisify(execFile)(process.execPath, [...CLI, 'run', '--events', '4000', '--seed', '11', '--out', out], { cwd: ROOT });
  table = join(out, 'silver/events');
  // the rows the log says the table holds: what a whole read must print
  const { stdout } = await promisify(execFile)(process.execPath, [...CLI, 'log', table, '--json'], { cwd: ROOT });
  rows = 0;
  for (const line of stdout.split('\n').filter(Boolean)) {
    const commit = JSON.parse(line) as { rows_added: number; rows_removed: number };
    rows += commit.rows_added - commit.rows_removed;
  }
}, 120_000);

/** `cli read` into a reader that pauses 5 ms after each chunk: the command finishes writing long before the reader has read it all. */
function readSlowly(): Promise<{ lines: number; code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...CLI, 'read', table], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      text += d;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 5);
    });
    child.on('error', fail);
    child.on('close', (code) => done({ lines: text.split('\n').filter(Boolean).length, code, stderr }));
  });
}

describe('cli output through a pipe', () => {
  it('a slow reader gets every row: the command leaves only once its output is taken', async () => {
    expect(rows).toBeGreaterThan(3000);
    const { lines, code, stderr } = await readSlowly();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines).toBe(rows);
  }, 120_000);

  it('a reader that stops early (`| head`) ends it quietly with status 0', async () => {
    const result = await new Promise<{ code: number | null; stderr: string; first: string }>((done) => {
      const child = spawn(process.execPath, [...CLI, 'read', table], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let first = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.once('data', (d: Buffer) => {
        first = d.toString().split('\n')[0]!;
        child.stdout.destroy();
      });
      child.on('close', (code) => done({ code, stderr, first }));
    });
    expect(JSON.parse(result.first)).toHaveProperty('event_id');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  }, 120_000);
});

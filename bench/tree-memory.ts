import { readdirSync, readFileSync } from 'node:fs';

/**
 * The peak memory of a process and every process below it (Linux /proc): the sum of their
 * proportional set sizes (Pss from smaps_rollup, so pages shared between them count once), sampled
 * every `everyMs`. For `cli run --engine spark`, where the work is in a JVM and Python workers the
 * CLI starts, which the CLI's own peak RSS does not see. Null where /proc is missing.
 */
export function sampleTreeMemory(rootPid: number, everyMs = 500): { stop(): { peakBytes: number | null; peakJvmBytes: number | null } } {
  let peak: number | null = null;
  let peakJvm: number | null = null;
  const sample = () => {
    const tree = descendants(rootPid);
    if (tree.length === 0) return;
    let sum = 0;
    let jvm = 0;
    for (const pid of tree) {
      const pss = pssBytes(pid);
      sum += pss;
      if (command(pid).includes('java')) jvm += pss;
    }
    peak = Math.max(peak ?? 0, sum);
    if (jvm > 0) peakJvm = Math.max(peakJvm ?? 0, jvm);
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakBytes: peak, peakJvmBytes: peakJvm };
    },
  };
}

function descendants(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const stat = read(`/proc/${e}/stat`);
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out.filter((pid) => read(`/proc/${pid}/stat`) !== '');
}

function pssBytes(pid: number): number {
  const kb = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`));
  return kb ? Number(kb[1]) * 1024 : 0;
}

const command = (pid: number) => read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

import { CodedError } from '../errors.ts';

/** `--name value` options and positional arguments, checked against what a command accepts. */
export interface Parsed {
  positional: string[];
  options: Map<string, string | true>;
}

/** A command line the CLI does not take (exit code 2). */
export class UsageError extends CodedError {
  static readonly code = 'USAGE';
  override name = 'UsageError';
}

export function parseArgs(argv: string[], valued: string[], flags: string[] = []): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flags.includes(name)) {
      options.set(name, true);
    } else if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name} (accepted: ${[...valued, ...flags].map((o) => `--${o}`).join(', ') || 'none'})`);
    }
  }
  return { positional, options };
}

export function intOption(p: Parsed, name: string, fallback: number, min = 0): number {
  const raw = p.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${String(raw)}`);
  return n;
}

export function numberOption(p: Parsed, name: string, fallback: number, min: number, max: number): number {
  const raw = p.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${String(raw)}`);
  return n;
}

export function stringOption(p: Parsed, name: string): string | undefined {
  const raw = p.options.get(name);
  return raw === true ? undefined : raw;
}

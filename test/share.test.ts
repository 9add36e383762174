import { describe, expect, it } from 'vitest';
import { readRunQuery, runLink, runOptionsFromQuery } from '../src/ui/share.ts';
import { RUN_DEFAULTS } from '../src/pipeline/run-options.ts';

describe('a shared run link', () => {
  it('reads the run it names over the defaults', () => {
    expect(readRunQuery('?seed=7&events=3000')).toEqual({ options: { ...RUN_DEFAULTS, seed: 7, events: 3000 }, named: true, corrections: [] });
    expect(readRunQuery('?tab=x')).toEqual({ options: { ...RUN_DEFAULTS }, named: false, corrections: [] });
  });

  it('says which values it corrected, and to what', () => {
    const shared = readRunQuery('?seed=abc&events=3000&days=0&invalid=');
    expect(shared.options).toEqual({ ...RUN_DEFAULTS, events: 3000 });
    expect(shared.corrections).toEqual([
      'seed must be a whole number ≥ 0, got "abc": 42 is used',
      'days must be a whole number ≥ 1, got "0": 60 is used',
      'invalid must be a number from 0 to 1, got "": 0.01 is used',
    ]);
    expect(runOptionsFromQuery('?seed=abc')).toEqual({ ...RUN_DEFAULTS });
  });

  it('round-trips through a link', () => {
    const href = runLink('http://localhost/?x=1#dashboard', { events: 3000, seed: 7, days: 30, invalidRate: 0.02 });
    expect(href).toBe('http://localhost/?x=1&seed=7&events=3000&days=30&invalid=0.02#dashboard');
    expect(readRunQuery(new URL(href).search).options).toEqual({ events: 3000, seed: 7, days: 30, invalidRate: 0.02 });
  });
});

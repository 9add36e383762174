import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/types.ts';
import type { Storage } from '../../src/storage/types.ts';
import { MemoryStorage } from '../../src/storage/memory.ts';
import type { PipelineContext } from '../../src/pipeline/context.ts';
import { parseExpectations, type Expectation } from '../../src/pipeline/expectations.ts';
import { loadSql } from '../../src/pipeline/sql-node.ts';

const ROOT = join(import.meta.dirname, '../..');

export const goldSql = (): Record<string, string> => loadSql('gold');
export const silverSql = (): Record<string, string> => loadSql('silver');

export function shippedExpectations(): Expectation[] {
  return parseExpectations(readFileSync(join(ROOT, 'contracts/expectations.yml'), 'utf8'));
}

export function pipelineContext(engine: Engine, storage: Storage = new MemoryStorage(), extra: Partial<PipelineContext> = {}): PipelineContext {
  return { engine, storage, expectations: shippedExpectations(), goldSql: goldSql(), silverSql: silverSql(), ...extra };
}

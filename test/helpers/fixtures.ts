import { join } from 'node:path';

/** The reference Delta tables written by Spark and delta-rs (see test/fixtures/delta/README.md). */
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'delta');

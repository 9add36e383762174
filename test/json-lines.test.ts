import { beforeAll, expect, it } from 'vitest';
import { jsonLines } from '../src/delta/export.ts';
import type { Engine } from '../src/engine/types.ts';
import { testEngine } from './helpers/engine.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

it('prints -0.0 as -0.0 at top level and nested (Spark keeps the sign; JSON.stringify would drop it)', () => {
  engine.run(`CREATE OR REPLACE TABLE neg AS SELECT '-0.0'::DOUBLE AS d, '-0.0'::FLOAT AS f, {'x': '-0.0'::DOUBLE} AS s, ['-0.0'::DOUBLE, 0.0] AS a`);
  const schema = {
    type: 'struct' as const,
    fields: [
      { name: 'd', type: 'double', nullable: true, metadata: {} },
      { name: 'f', type: 'float', nullable: true, metadata: {} },
      { name: 's', type: { type: 'struct' as const, fields: [{ name: 'x', type: 'double', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
      { name: 'a', type: { type: 'array' as const, elementType: 'double', containsNull: true }, nullable: true, metadata: {} },
    ],
  };
  expect([...jsonLines(engine, 'neg', schema)]).toEqual(['{"d":-0.0,"f":-0.0,"s":{"x":-0.0},"a":[-0.0,0]}']);
});

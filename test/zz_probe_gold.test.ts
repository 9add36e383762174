import { test } from 'vitest';
import { openNodeEngine } from '../src/engine/node.ts';
test('probe', async () => {
  const e = await openNodeEngine();
  const r = e.rows(`select DATE '2024-01-02' as d, TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' as t, 3::BIGINT as b, median(x) as m, avg(x) as a, sum(x) as s, (TIMESTAMPTZ '2024-01-02 03:04:05+00')::TIMESTAMP + interval 7 day as t2, date_diff('microsecond', TIMESTAMPTZ '2024-01-02 03:04:05+00', TIMESTAMPTZ '2024-01-03 03:04:05+00') as dd from (values (1::BIGINT),(2::BIGINT)) v(x)`);
  console.log(r);
  const t = e.query(`select DATE '2024-01-02' as d, TIMESTAMPTZ '2024-01-02 03:04:05+00' as t, (TIMESTAMPTZ '2024-01-02 03:04:05+00')::TIMESTAMP::DATE as d2, sum(x) as s, avg(x) as a, count(*) as c from (values (1::BIGINT),(2::BIGINT)) v(x)`);
  console.log(t.schema.fields.map(f => `${f.name}: ${f.type}`));
  try { e.rows(`select (TIMESTAMPTZ '2024-01-02 03:04:05+00')::DATE`) } catch (err) { console.log('ERR', (err as Error).message) }
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../src/delta/export.ts';
import { scanIntoEngine } from '../src/delta/scan.ts';
import { loadSnapshot } from '../src/delta/snapshot.ts';
import { isSupportedWidening } from '../src/delta/widening.ts';
import type { Engine } from '../src/engine/types.ts';
import { ThriftReader, ThriftWriter } from '../src/parquet/thrift.ts';
import { NodeStorage } from '../src/storage/node.ts';
import { testEngine } from './helpers/engine.ts';
import { FIXTURES } from './helpers/fixtures.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await testEngine();
});

async function lines(name: string, version?: number): Promise<string[]> {
  const storage = new NodeStorage(join(FIXTURES, name, 'delta'));
  const snap = await loadSnapshot(storage, '', version);
  await scanIntoEngine(engine, storage, snap, 'types');
  return [...jsonLines(engine, 'types', snap.schema)].sort();
}

describe('every type Spark writes, as JSON lines', () => {
  // Nested values print as top-level ones do: 64-bit integers and decimals with every digit,
  // timestamps in one ISO form (INT96 ones too, up to 9999), binary as base64, NaN as text,
  // floats in the fewest digits that read back as the same float, maps as objects.
  it('all-types at version 2 (top level and nested, edge values, nulls at every level)', async () => {
    expect(await lines('all-types', 2)).toEqual(ALL_TYPES);
  });

  it('a DELETE at version 3 leaves the other rows', async () => {
    expect((await lines('all-types', 3)).map((l) => (JSON.parse(l) as { i: number | null }).i)).toEqual([-2147483648, 1, 2147483647, null]);
  });

  it('type widening: narrow values before, the same values widened after (as Spark reads them)', async () => {
    expect(await lines('type-widening', 0)).toEqual(WIDENING_V0);
    expect(await lines('type-widening')).toEqual(WIDENING_LATEST);
  });
});

describe('type changes this reader converts', () => {
  it.each([
    ['byte', 'short', true],
    ['short', 'integer', true],
    ['integer', 'long', true],
    ['byte', 'long', true],
    ['long', 'integer', false],
    ['float', 'double', true],
    ['integer', 'double', true],
    ['long', 'double', false],
    ['date', 'timestamp_ntz', true],
    ['date', 'timestamp', false],
    ['decimal(5,2)', 'decimal(10,4)', true],
    ['decimal(5,2)', 'decimal(6,4)', false],
    ['decimal(10,2)', 'decimal(10,1)', false],
    ['integer', 'decimal(10,0)', true],
    ['integer', 'decimal(12,2)', true],
    ['integer', 'decimal(11,2)', false],
    ['byte', 'decimal(4,1)', false],
    ['long', 'decimal(20,0)', true],
    ['long', 'decimal(22,1)', true],
    ['long', 'decimal(19,0)', false],
    ['string', 'binary', false],
  ])('%s to %s: %s', (from, to, ok) => {
    expect(isSupportedWidening(from, to)).toBe(ok);
  });
});

describe('the Thrift compact codec of Parquet footers', () => {
  it('writes back the footers Spark wrote, byte for byte', () => {
    const dir = join(FIXTURES, 'all-types', 'delta');
    const files = readdirSync(dir).filter((n) => n.endsWith('.parquet'));
    expect(files).toHaveLength(5);
    for (const name of files) {
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      const length = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
      const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
      const writer = new ThriftWriter();
      writer.struct(new ThriftReader(footer).struct());
      expect(Buffer.from(writer.result()).equals(Buffer.from(footer)), name).toBe(true);
    }
  });
});

const ALL_TYPES = [
  '{"b":-128,"s":-32768,"i":-2147483648,"l":-9223372036854775808,"f":"Infinity","d":"-Infinity","dec_small":-999.99,"dec38":-99999999999999999999999999999999.999999,"str":"line\\nbreak\\ttab","bin":"AA==","bool":false,"dt":"9999-12-31","ts":"9999-12-31T23:59:59.999999Z","ntz":"9999-12-31T23:59:59.999999","st":null,"arr_st":[{"x":-5,"y":""}],"arr_arr":[null],"m_st":{"z":null},"m_arr":{"-1":["1582-10-04","1582-10-15"]}}',
  '{"b":1,"s":1,"i":1,"l":1,"f":1.5,"d":2.25,"dec_small":1.23,"dec38":1.500000,"str":"plain","bin":"AP8Q","bool":true,"dt":"2024-02-29","ts":"2024-02-29T12:34:56.789012Z","ntz":"2024-02-29T12:34:56.789012","st":{"a":1,"inner":{"c":"in","dec":12345678901234567890123456789012.345678,"ts":"1900-01-01T00:00:00.000001Z","bin":"yv4="},"longs":[9223372036854775807,null,-9223372036854775808]},"arr_st":[{"x":1,"y":"one"},null,{"x":null,"y":null}],"arr_arr":[[1.5,"NaN"],null,[],["Infinity","-Infinity",null]],"m_st":{"k1":{"p":9007199254740993,"q":"AQ=="},"k2":null,"k3":{"p":null,"q":null}},"m_arr":{"1":["0001-01-01",null],"2":null,"3":[]}}',
  '{"b":127,"s":32767,"i":2147483647,"l":9223372036854775807,"f":"NaN","d":"NaN","dec_small":999.99,"dec38":99999999999999999999999999999999.999999,"str":"héllo wörld 日本語 🚀 \\"quoted\\" \\\\ back","bin":"3q2+7w==","bool":true,"dt":"0001-01-01","ts":"1900-01-01T00:00:00.000001Z","ntz":"0001-01-01T00:00:00.000001","st":{"a":-1,"inner":{"c":null,"dec":-99999999999999999999999999999999.999999,"ts":null,"bin":null},"longs":[]},"arr_st":null,"arr_arr":null,"m_st":{"ü":{"p":-9223372036854775808,"q":"/w=="}},"m_arr":null}',
  '{"b":2,"s":2,"i":2,"l":2,"f":0.1,"d":0.1,"dec_small":-0.01,"dec38":-0.000001,"str":"","bin":"","bool":false,"dt":"1969-12-31","ts":"1969-12-31T23:59:59.999999Z","ntz":"1969-12-31T23:59:59.999999","st":{"a":null,"inner":null,"longs":null},"arr_st":[],"arr_arr":[[]],"m_st":{},"m_arr":{}}',
  '{"b":null,"s":null,"i":null,"l":null,"f":null,"d":null,"dec_small":null,"dec38":null,"str":null,"bin":null,"bool":null,"dt":null,"ts":null,"ntz":null,"st":null,"arr_st":null,"arr_arr":null,"m_st":null,"m_arr":null}',
];

const WIDENING_V0 = [
  '{"b":-128,"s":-32768,"i":-2147483648,"f":1.1,"i2d":7,"d":"1969-12-31","dec":-123.45,"i2dec":2147483647,"l2dec":9223372036854775807,"st":{"n":12},"arr":[1,null],"m":{"k":0.5},"p":1}',
  '{"b":null,"s":null,"i":null,"f":"NaN","i2d":null,"d":null,"dec":null,"i2dec":null,"l2dec":null,"st":null,"arr":null,"m":null,"p":null}',
];

const WIDENING_LATEST = [
  '{"b":-128,"s":-32768,"i":-2147483648,"f":1.100000023841858,"i2d":7,"d":"1969-12-31T00:00:00.000000","dec":-123.4500,"i2dec":2147483647.00,"l2dec":9223372036854775807.0,"st":{"n":12},"arr":[1,null],"m":{"k":0.5},"p":1}',
  '{"b":-32768,"s":2147483647,"i":9223372036854775807,"f":1.1,"i2d":0.25,"d":"1969-12-31T23:59:59.999999","dec":123456.7891,"i2dec":1234567890.12,"l2dec":123456789012345678901.5,"st":{"n":100000},"arr":[5000000000],"m":{"k":0.1},"p":5000000000}',
  '{"b":null,"s":null,"i":null,"f":"NaN","i2d":null,"d":null,"dec":null,"i2dec":null,"l2dec":null,"st":null,"arr":null,"m":null,"p":null}',
];

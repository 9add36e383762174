import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import { describe } from './grid.ts';
import type { ColumnProfile, TableProfile } from './protocol.ts';

const BINS = 12;
const TOP = 6;
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_NS|TIMESTAMP_MS|TIMESTAMP_S)$/;

/** Profile every column of `relation` in a few queries over the in-memory table. */
export function profileTable(engine: Engine, relation: string): TableProfile {
  const from = quoteIdent(relation);
  const columns = describe(engine, relation);
  const kinds = columns.map((c) => (NUMERIC.test(c.type) ? 'numeric' : TEMPORAL.test(c.type) ? 'temporal' : 'categorical') as ColumnProfile['kind']);
  // Lists, structs and maps are compared by their text.
  const value = (i: number): string => {
    const q = quoteIdent(columns[i]!.name);
    return /[[\](]|^(STRUCT|MAP|UNION)/.test(columns[i]!.type) ? `${q}::VARCHAR` : q;
  };
  const scalar = (i: number): string =>
    kinds[i] === 'temporal' ? `epoch_ms(${quoteIdent(columns[i]!.name)}::TIMESTAMP)::DOUBLE` : `${quoteIdent(columns[i]!.name)}::DOUBLE`;
  const aggregates = columns.flatMap((_, i) => [
    `count(${value(i)}) AS n${i}`,
    `count(DISTINCT ${value(i)}) AS d${i}`,
    `min(${value(i)})::VARCHAR AS lo${i}`,
    `max(${value(i)})::VARCHAR AS hi${i}`,
    ...(kinds[i] === 'categorical' ? [] : [`min(${scalar(i)}) AS a${i}`, `max(${scalar(i)}) AS b${i}`]),
  ]);
  const stats = engine.rows<Record<string, unknown>>(`SELECT count(*) AS total${aggregates.length ? `, ${aggregates.join(', ')}` : ''} FROM ${from}`)[0]!;
  const rows = Number(stats.total);

  const out = columns.map((c, i): ColumnProfile => {
    const nonNull = Number(stats[`n${i}`]);
    const distinct = Number(stats[`d${i}`]);
    const base = {
      name: c.name,
      type: c.type,
      kind: kinds[i]!,
      nulls: rows - nonNull,
      distinct,
      min: (stats[`lo${i}`] as string | null) ?? null,
      max: (stats[`hi${i}`] as string | null) ?? null,
    };
    if (nonNull === 0) return { ...base, histogram: [] };
    if (kinds[i] === 'categorical') {
      if (distinct === nonNull && distinct > TOP) return { ...base, histogram: [] };
      const top = engine.rows<{ v: string; n: bigint }>(
        `SELECT ${value(i)}::VARCHAR AS v, count(*) AS n FROM ${from} WHERE ${value(i)} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT ${TOP}`,
      );
      const histogram = top.map((t) => ({ label: t.v, count: Number(t.n) }));
      const shown = histogram.reduce((s, h) => s + h.count, 0);
      if (shown < nonNull) histogram.push({ label: `${(distinct - top.length).toLocaleString('en-US')} other values`, count: nonNull - shown });
      return { ...base, histogram };
    }
    const lo = Number(stats[`a${i}`]);
    const hi = Number(stats[`b${i}`]);
    const integral = kinds[i] === 'temporal' || /INT/.test(c.type);
    const bins = lo === hi ? 1 : integral ? Math.min(BINS, hi - lo + 1) : BINS;
    const width = (hi - lo) / bins || 1;
    const counts = engine.rows<{ b: number; n: bigint }>(
      `SELECT least(floor((${scalar(i)} - ${lo}) / ${width}), ${bins - 1})::INTEGER AS b, count(*) AS n FROM ${from} WHERE ${value(i)} IS NOT NULL GROUP BY b`,
    );
    const byBin = new Map(counts.map((r) => [r.b, Number(r.n)]));
    const label = (x: number): string => (kinds[i] === 'temporal' ? formatTime(x, hi - lo) : formatNumber(x));
    const histogram = Array.from({ length: bins }, (_, b) => ({
      label: bins === 1 ? label(lo) : `${label(lo + b * width)} – ${label(b === bins - 1 ? hi : lo + (b + 1) * width)}`,
      count: byBin.get(b) ?? 0,
    }));
    return { ...base, histogram };
  });
  return { rows, columns: out };
}

function formatNumber(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return x.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

/** A time as a date when the range spans days, with minutes when it spans less. */
function formatTime(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  return spanMs >= 3 * 86_400_000 ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')}Z`;
}

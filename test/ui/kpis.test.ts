import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { GOLD_TABLES } from '../../src/pipeline/tables.ts';
import { kpiExplanations } from '../../src/ui/kpis.ts';

describe('KPI explanations from docs/kpis.md', () => {
  test('the first line under each heading, as plain text', () => {
    const md =
      '# Gold\n\nIntro.\n\n## engagement_bands\n\nHow long `sessions` **last**.\n\n- more\n\n## `dropoff_rate`\n\nWho gives up.\n\n## unknown\n\nSkipped.\n';
    expect(kpiExplanations(md)).toEqual({ engagement_bands: 'How long sessions last.', dropoff_rate: 'Who gives up.' });
  });

  test('the shipped document explains every gold table in one line', () => {
    const explained = kpiExplanations(readFileSync(new URL('../../docs/kpis.md', import.meta.url), 'utf8'));
    expect(Object.keys(explained).sort()).toEqual([...GOLD_TABLES].sort());
    for (const text of Object.values(explained)) expect(text.length).toBeGreaterThan(20);
  });
});

import kpiDoc from '../../docs/kpis.md?raw';
import { GOLD_TABLES } from '../pipeline/tables.ts';

export type Kpi = (typeof GOLD_TABLES)[number];

/** Headings for the dashboard; the explanations come from docs/kpis.md. */
export const KPI_TITLES: Record<Kpi, string> = {
  writing_velocity_daily: 'Writing velocity',
  revision_churn_daily: 'Revision churn',
  engagement_bands: 'Engagement bands',
  dropoff_rate: 'Reader dropoff per work',
  stage_bottlenecks: 'Stage bottlenecks',
  post_release_engagement: 'Post-release engagement',
};

/**
 * The first line under each `## <kpi>` heading of a Markdown text: the one-line explanation the
 * dashboard shows. KPIs without a heading are left out.
 */
export function kpiExplanations(markdown: string): Partial<Record<Kpi, string>> {
  const out: Partial<Record<Kpi, string>> = {};
  const lines = markdown.split(/\r?\n/);
  lines.forEach((line, i) => {
    const m = /^##\s+`?([a-z_]+)`?\s*$/.exec(line);
    if (!m || !(GOLD_TABLES as readonly string[]).includes(m[1]!)) return;
    const first = lines.slice(i + 1).find((l) => l.trim() !== '');
    if (first !== undefined && !first.startsWith('#')) out[m[1] as Kpi] = plain(first.trim());
  });
  return out;
}

/** Markdown emphasis and code marks dropped: the page shows text, never HTML. */
function plain(text: string): string {
  return text
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*([^*]*)\*\*/g, '$1')
    .replace(/\*([^*]*)\*/g, '$1');
}

export const KPI_EXPLANATIONS = kpiExplanations(kpiDoc);

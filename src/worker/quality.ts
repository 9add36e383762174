import { quoteIdent } from '../engine/duckdb.ts';
import type { Engine } from '../engine/types.ts';
import type { HistoryEntry } from '../delta/snapshot.ts';
import { REJECT_STAGES } from '../pipeline/schema.ts';
import type { BatchQuality, QualityReport } from './protocol.ts';

const SAMPLES = 200;

/**
 * `rejects` and `quality` are the in-memory tables of silver/rejects and silver/quality (either
 * may be missing before the first run); the batches' sources come from bronze's history (its
 * commitInfo).
 */
export async function qualityReport(
  engine: Engine,
  bronzeHistory: () => Promise<HistoryEntry[]>,
  rejects: string | undefined,
  quality: string | undefined,
): Promise<QualityReport> {
  const report: QualityReport = { rejects: 0, byStage: REJECT_STAGES.map((stage) => ({ stage, rows: 0 })), byRule: [], samples: [], batches: [] };
  if (rejects) {
    const r = quoteIdent(rejects);
    for (const row of engine.rows<{ stage: string; n: bigint }>(`SELECT stage, count(*) AS n FROM ${r} GROUP BY stage`)) {
      const entry = report.byStage.find((s) => s.stage === row.stage);
      if (entry) entry.rows = Number(row.n);
      else report.byStage.push({ stage: row.stage, rows: Number(row.n) });
      report.rejects += Number(row.n);
    }
    report.byRule = engine
      .rows<{ stage: string; rule: string; n: bigint }>(
        `SELECT stage, rule, count(*) AS n FROM (SELECT stage, unnest(reasons) AS rule FROM ${r}) GROUP BY stage, rule ORDER BY n DESC, stage, rule`,
      )
      .map((x) => ({ stage: x.stage, rule: x.rule, rows: Number(x.n) }));
    const samples = engine.query(
      `SELECT raw, event_id, stage, reasons, errors, batch_id, rejected_at::VARCHAR AS rejected_at
       FROM (SELECT *, row_number() OVER () AS position FROM ${r})
       ORDER BY rejected_at DESC, position LIMIT ${SAMPLES}`,
    );
    for (const row of samples) {
      const o = row as unknown as Record<string, unknown>;
      report.samples.push({
        raw: String(o.raw ?? ''),
        eventId: (o.event_id as string | null) ?? null,
        stage: String(o.stage),
        reasons: listOf(o.reasons),
        errors: listOf(o.errors),
        batchId: String(o.batch_id),
        rejectedAt: String(o.rejected_at),
      });
    }
  }

  const bronze = new Map<string, { source: string | null; version: number; ingestedAt: number; records: number | null }>();
  const history = await bronzeHistory();
  for (const h of history) {
    const batchId = h.operationParameters.batchId;
    if (typeof batchId === 'string') {
      const source = h.operationParameters.source;
      bronze.set(batchId, { source: typeof source === 'string' ? source : null, version: h.version, ingestedAt: h.timestamp, records: h.rowsAdded });
    }
  }
  if (quality) {
    const rows = engine.rows<{ batch_id: string; expectation: string; action: string; passed: bigint; failed: bigint }>(
      `SELECT batch_id, expectation, action, passed, failed FROM (SELECT *, row_number() OVER () AS position FROM ${quoteIdent(quality)}) ORDER BY position`,
    );
    const batches = new Map<string, BatchQuality>();
    for (const row of rows) {
      let batch = batches.get(row.batch_id);
      if (!batch) {
        const b = bronze.get(row.batch_id);
        batch = {
          batchId: row.batch_id,
          source: b?.source ?? null,
          bronzeVersion: b?.version ?? null,
          ingestedAt: b?.ingestedAt ?? null,
          records: b?.records ?? null,
          expectations: [],
          stoppedBy: null,
        };
        batches.set(row.batch_id, batch);
      }
      const e = { name: row.expectation, action: row.action, passed: Number(row.passed), failed: Number(row.failed) };
      batch.expectations.push(e);
      if (e.action === 'fail' && e.failed > 0) batch.stoppedBy ??= e.name;
    }
    report.batches = [...batches.values()].sort((a, b) => (b.bronzeVersion ?? -1) - (a.bronzeVersion ?? -1));
  }
  return report;
}

function listOf(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return [...(v as Iterable<unknown>)].map((x) => String(x));
}

import type { AuditEntry, DailyCounts, InspectionQuery, InspectionRecord, Verdict } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { type Db, nowIso } from './database.ts';

export interface NewInspection {
  imageId: number | null;
  sourcePath: string;
  modelVersionId: number | null;
  verdict: Verdict;
  score: number | null;
  rawScore?: number | null;
  regions: unknown[];
  thresholds: unknown;
  timings: unknown;
  error: string | null;
  operator: string;
  classProbabilities?: Record<string, number> | null;
}

interface InspectionRow {
  id: number; sha256: string | null; source_path: string; model_version_id: number | null; verdict: Verdict;
  score: number | null; raw_score: number | null; regions: string; timings: string; thresholds: string; error: string | null; operator: string; created_at: string;
  class_probabilities: string | null;
}

const toRecord = (r: InspectionRow): InspectionRecord => ({
  id: r.id,
  imageSha256: r.sha256,
  sourcePath: r.source_path,
  modelVersionId: r.model_version_id,
  verdict: r.verdict,
  score: r.score,
  rawScore: r.raw_score,
  classProbabilities: r.class_probabilities ? JSON.parse(r.class_probabilities) as Record<string, number> : null,
  regions: JSON.parse(r.regions) as InspectionRecord['regions'],
  timings: JSON.parse(r.timings) as Record<string, unknown>,
  heatmapSha256: ((JSON.parse(r.timings) as { heatmapSha256?: string }).heatmapSha256) ?? null,
  thresholds: JSON.parse(r.thresholds) as Record<string, unknown>,
  error: r.error,
  operator: r.operator,
  createdAt: r.created_at,
});

export class HistoryRepository {
  constructor(private readonly db: Db) {}

  record(i: NewInspection): number {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO inspections (image_id, source_path, model_version_id, verdict, score, raw_score, regions, thresholds, timings, error, operator, created_at, class_probabilities)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(i.imageId, i.sourcePath, i.modelVersionId, i.verdict, i.score, i.rawScore ?? null, JSON.stringify(i.regions), JSON.stringify(i.thresholds), JSON.stringify(i.timings), i.error, i.operator, nowIso(), i.classProbabilities ? JSON.stringify(i.classProbabilities) : null);
    return Number(lastInsertRowid);
  }

  get(id: number): InspectionRecord {
    const row = this.db.prepare('SELECT ins.*, img.sha256 FROM inspections ins LEFT JOIN images img ON img.id = ins.image_id WHERE ins.id = ?').get(id) as InspectionRow | undefined;
    if (!row) throw new ArgusError('not_found', `No inspection ${id}`, { key: 'noInspection', params: { id } });
    return toRecord(row);
  }

  /** Inspections recorded after `afterId`, oldest first (what a result sink has not sent yet). */
  since(afterId: number, limit: number): InspectionRecord[] {
    const rows = this.db
      .prepare('SELECT ins.*, img.sha256 FROM inspections ins LEFT JOIN images img ON img.id = ins.image_id WHERE ins.id > ? ORDER BY ins.id LIMIT ?')
      .all(afterId, limit) as InspectionRow[];
    return rows.map(toRecord);
  }

  /** The id of the latest inspection (0 when there is none). */
  latestId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM inspections').get() as { id: number }).id;
  }

  list(q: InspectionQuery): { items: InspectionRecord[]; total: number } {
    const { where, params } = filterOf(q);
    const { total } = this.db.prepare(`SELECT count(*) AS total FROM inspections ins WHERE ${where}`).get(params) as { total: number };
    const rows = this.db
      .prepare(
        `SELECT ins.*, img.sha256 FROM inspections ins LEFT JOIN images img ON img.id = ins.image_id
         WHERE ${where} ORDER BY ins.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: q.limit ?? 100, offset: q.offset ?? 0 }) as InspectionRow[];
    return { total, items: rows.map(toRecord) };
  }

  /** Inspections per day (UTC) and verdict, oldest day first, for the daily counts and NG-rate chart. */
  dailyCounts(q: Omit<InspectionQuery, 'offset' | 'limit'>): DailyCounts[] {
    const { where, params } = filterOf(q);
    const rows = this.db.prepare(
      `SELECT substr(ins.created_at, 1, 10) AS day, ins.verdict AS verdict, count(*) AS n FROM inspections ins
       WHERE ${where} GROUP BY day, ins.verdict ORDER BY day`,
    ).all(params) as { day: string; verdict: keyof Omit<DailyCounts, 'day'>; n: number }[];
    const days = new Map<string, DailyCounts>();
    for (const r of rows) {
      const entry = days.get(r.day) ?? { day: r.day, OK: 0, NG: 0, REVIEW: 0, ERROR: 0 };
      entry[r.verdict] = r.n;
      days.set(r.day, entry);
    }
    return [...days.values()];
  }

  audit(actor: string, action: string, target: string, details: unknown = {}): void {
    this.db.prepare('INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)').run(nowIso(), actor, action, target, JSON.stringify(details));
  }

  auditLog(offset = 0, limit = 100): AuditEntry[] {
    const rows = this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as (Omit<AuditEntry, 'details'> & { details: string })[];
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }
}

/** The WHERE clause (over `inspections ins`) and its parameters for a history filter: the list and the daily counts share it. */
function filterOf(q: Omit<InspectionQuery, 'offset' | 'limit'>): { where: string; params: Record<string, string | number | null> } {
  return {
    where: `(@verdict IS NULL OR ins.verdict = @verdict) AND (@model IS NULL OR ins.model_version_id = @model)
      AND (@operator IS NULL OR ins.operator = @operator) AND (@from IS NULL OR ins.created_at >= @from) AND (@to IS NULL OR ins.created_at < @to)`,
    params: { verdict: q.verdict ?? null, model: q.modelVersionId ?? null, operator: q.operator ?? null, from: q.from ?? null, to: q.to ?? null },
  };
}

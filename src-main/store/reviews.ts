import type { ReviewOpinion, ReviewQueueItem } from '../contract/contract.ts';
import { type Db, nowIso } from './database.ts';

/**
 * Operators' opinions of results and QA engineers' resolutions, one row per inspection. The
 * review queue is every unresolved result the line disputed or the model sent to REVIEW.
 */
export class ReviewRepository {
  constructor(private readonly db: Db) {}

  setOpinion(inspectionId: number, opinion: ReviewOpinion, correctLabel: string | null, note: string, reviewer: string): void {
    this.db.prepare(
      `INSERT INTO inspection_reviews (inspection_id, opinion, correct_label, note, reviewer, reviewed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (inspection_id) DO UPDATE SET opinion = excluded.opinion, correct_label = excluded.correct_label, note = excluded.note,
         reviewer = excluded.reviewer, reviewed_at = excluded.reviewed_at`,
    ).run(inspectionId, opinion, correctLabel, note, reviewer, nowIso());
  }

  resolve(inspectionId: number, resolution: 'added' | 'dismissed', datasetId: number | null, by: string): void {
    this.db.prepare(
      `INSERT INTO inspection_reviews (inspection_id, resolution, dataset_id, resolved_by, resolved_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (inspection_id) DO UPDATE SET resolution = excluded.resolution, dataset_id = excluded.dataset_id, resolved_by = excluded.resolved_by, resolved_at = excluded.resolved_at`,
    ).run(inspectionId, resolution, datasetId, by, nowIso());
  }

  opinionOf(inspectionId: number): { opinion: ReviewOpinion | null; correctLabel: string | null; resolution: string | null } | undefined {
    const row = this.db.prepare('SELECT opinion, correct_label, resolution FROM inspection_reviews WHERE inspection_id = ?').get(inspectionId) as
      { opinion: ReviewOpinion | null; correct_label: string | null; resolution: string | null } | undefined;
    return row && { opinion: row.opinion, correctLabel: row.correct_label, resolution: row.resolution };
  }

  /** Unresolved disputed or REVIEW results of a project's models (all projects without one), newest first. */
  queue(projectId: number | null, limit: number): ReviewQueueItem[] {
    const rows = this.db.prepare(
      `SELECT ins.id, ins.source_path, ins.verdict, ins.score, ins.model_version_id, ins.created_at, img.sha256, r.opinion, r.correct_label, r.note
       FROM inspections ins JOIN images img ON img.id = ins.image_id
         LEFT JOIN inspection_reviews r ON r.inspection_id = ins.id
         LEFT JOIN model_versions m ON m.id = ins.model_version_id
       WHERE (r.opinion = 'disputed' OR (ins.verdict = 'REVIEW' AND r.opinion IS NULL)) AND r.resolution IS NULL
         AND (@projectId IS NULL OR m.project_id = @projectId)
       ORDER BY ins.id DESC LIMIT @limit`,
    ).all({ projectId, limit }) as { id: number; source_path: string; verdict: ReviewQueueItem['verdict']; score: number | null; model_version_id: number | null; created_at: string; sha256: string; opinion: ReviewOpinion | null; correct_label: string | null; note: string | null }[];
    return rows.map((r) => ({
      inspectionId: r.id, file: r.source_path, verdict: r.verdict, score: r.score, modelId: r.model_version_id, createdAt: r.created_at, imageSha256: r.sha256,
      opinion: r.opinion, correctLabel: r.correct_label, note: r.note ?? '',
    }));
  }

  /** Confirmations and disputes of every model version's results. */
  agreement(): Record<number, { confirmed: number; disputed: number }> {
    const rows = this.db.prepare(
      `SELECT ins.model_version_id AS model, sum(r.opinion = 'confirmed') AS confirmed, sum(r.opinion = 'disputed') AS disputed
       FROM inspection_reviews r JOIN inspections ins ON ins.id = r.inspection_id WHERE ins.model_version_id IS NOT NULL AND r.opinion IS NOT NULL
       GROUP BY ins.model_version_id`,
    ).all() as { model: number; confirmed: number; disputed: number }[];
    return Object.fromEntries(rows.map((r) => [r.model, { confirmed: r.confirmed, disputed: r.disputed }]));
  }
}

import { type Db, nowIso } from './database.ts';

export type AnnotationShape = 'box' | 'polygon' | 'mask' | 'good';

export interface NewAnnotation {
  projectId: number;
  imageId: number;
  classId: number | null;
  shape: AnnotationShape;
  geometry: unknown;
  author: string;
  /** Identifies an imported annotation within its image, so re-importing adds nothing. */
  importKey?: string;
}

export class AnnotationRepository {
  constructor(private readonly db: Db) {}

  /** Returns false when an annotation with the same import key already exists. */
  add(a: NewAnnotation): boolean {
    const now = nowIso();
    const result = this.db
      .prepare(
        `INSERT INTO annotations (project_id, image_id, class_id, shape, geometry, author, import_key, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, image_id, import_key) WHERE import_key IS NOT NULL DO NOTHING`,
      )
      .run(a.projectId, a.imageId, a.classId, a.shape, a.geometry === null ? null : JSON.stringify(a.geometry), a.author, a.importKey ?? null, now, now);
    return result.changes > 0;
  }

  count(projectId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM annotations WHERE project_id = ?').get(projectId) as { n: number }).n;
  }
}

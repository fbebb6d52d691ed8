import { type Db, nowIso } from './database.ts';

/** 'good' and 'class' label the whole image (defect-free, or of one class); the others a region of it. */
export type AnnotationShape = 'box' | 'polygon' | 'mask' | 'good' | 'class';

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

export interface StoredAnnotation {
  id: number;
  shape: AnnotationShape;
  geometry: unknown;
  classIndex: number | null;
  author: string;
  updatedAt: string;
}

export class AnnotationRepository {
  constructor(private readonly db: Db) {}

  /** Returns false when an annotation with the same import key already exists. */
  add(a: NewAnnotation): boolean {
    return this.insert(a) !== null;
  }

  /** Inserts and returns the new id (null when the import key already exists). */
  insert(a: NewAnnotation): number | null {
    const now = nowIso();
    const result = this.db
      .prepare(
        `INSERT INTO annotations (project_id, image_id, class_id, shape, geometry, author, import_key, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, image_id, import_key) WHERE import_key IS NOT NULL DO NOTHING`,
      )
      .run(a.projectId, a.imageId, a.classId, a.shape, a.geometry === null ? null : JSON.stringify(a.geometry), a.author, a.importKey ?? null, now, now);
    return result.changes > 0 ? Number(result.lastInsertRowid) : null;
  }

  /** The image's annotations in the project, oldest first. */
  forImage(projectId: number, imageId: number): StoredAnnotation[] {
    const rows = this.db.prepare(
      `SELECT a.id, a.shape, a.geometry, a.author, a.updated_at, c.class_index FROM annotations a LEFT JOIN defect_classes c ON c.id = a.class_id
       WHERE a.project_id = ? AND a.image_id = ? ORDER BY a.id`,
    ).all(projectId, imageId) as { id: number; shape: AnnotationShape; geometry: string | null; author: string; updated_at: string; class_index: number | null }[];
    return rows.map((r) => ({ id: r.id, shape: r.shape, geometry: r.geometry === null ? null : JSON.parse(r.geometry), classIndex: r.class_index, author: r.author, updatedAt: r.updated_at }));
  }

  /** Changes a stored annotation's class and geometry (only when they differ); false if it is not the image's. */
  update(projectId: number, imageId: number, id: number, classId: number | null, geometry: unknown, author: string): boolean {
    const text = geometry === null ? null : JSON.stringify(geometry);
    const row = this.db.prepare('SELECT class_id, geometry FROM annotations WHERE id = ? AND project_id = ? AND image_id = ?').get(id, projectId, imageId) as { class_id: number | null; geometry: string | null } | undefined;
    if (!row) return false;
    if (row.class_id !== classId || row.geometry !== text) {
      this.db.prepare('UPDATE annotations SET class_id = ?, geometry = ?, author = ?, updated_at = ? WHERE id = ?').run(classId, text, author, nowIso(), id);
    }
    return true;
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id);
  }

  count(projectId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM annotations WHERE project_id = ?').get(projectId) as { n: number }).n;
  }
}

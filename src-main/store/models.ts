import type { ModelStatus, ModelVersionSummary } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { type Db, nowIso } from './database.ts';

export type ModelFile = ModelVersion['files'][number];

/** A model version as the API shows it. */
export type ModelVersion = ModelVersionSummary;

export type NewModelVersion = Omit<ModelVersion, 'id' | 'parentId' | 'status' | 'createdAt' | 'promotedAt'> & { parentId?: number | null };

interface Row {
  id: number; project_id: number; parent_id: number | null; name: string; mode: ModelVersion['mode']; classes: string; snapshot_id: number | null;
  config: string; metrics: string; thresholds: string; status: ModelStatus; created_at: string; promoted_at: string | null;
}

export class ModelRepository {
  constructor(private readonly db: Db) {}

  /** Registers a candidate version; its files must already be in the blob store. */
  create(v: NewModelVersion): ModelVersion {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO model_versions (project_id, parent_id, name, mode, classes, snapshot_id, config, metrics, thresholds, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'candidate', ?)`,
      )
      .run(v.projectId, v.parentId ?? null, v.name, v.mode, JSON.stringify(v.classes), v.snapshotId, JSON.stringify(v.config), JSON.stringify(v.metrics), JSON.stringify(v.thresholds), nowIso());
    const id = Number(lastInsertRowid);
    const insertFile = this.db.prepare('INSERT INTO model_files (model_version_id, role, path, sha256, bytes) VALUES (?, ?, ?, ?, ?)');
    for (const f of v.files) insertFile.run(id, f.role, `blobs/${f.sha256.slice(0, 2)}/${f.sha256}`, f.sha256, f.bytes);
    return this.get(id);
  }

  get(id: number): ModelVersion {
    const row = this.db.prepare('SELECT * FROM model_versions WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new ArgusError('not_found', `No model version ${id}`, { key: 'noModel', params: { id } });
    return this.toVersion(row);
  }

  list(projectId?: number): ModelVersion[] {
    const rows = this.db
      .prepare('SELECT * FROM model_versions WHERE @projectId IS NULL OR project_id = @projectId ORDER BY id DESC')
      .all({ projectId: projectId ?? null }) as Row[];
    return rows.map((r) => this.toVersion(r));
  }

  /** The production version of a project, or of the only project that has one. */
  production(projectId?: number): ModelVersion {
    const rows = this.db
      .prepare("SELECT * FROM model_versions WHERE status = 'production' AND (@projectId IS NULL OR project_id = @projectId)")
      .all({ projectId: projectId ?? null }) as Row[];
    if (rows.length === 0) throw new ArgusError('not_found', 'No model version is in production yet: promote one first (argus model promote <id>)', { key: 'noProduction' });
    if (rows.length > 1) throw new ArgusError('conflict', 'Several projects have a production model; name the project or the model id');
    return this.toVersion(rows[0]);
  }

  /** Makes the version the project's production model; the previous one is retired. */
  promote(id: number): ModelVersion {
    const version = this.get(id);
    if (version.status === 'production') return version;
    this.db.transaction(() => {
      this.db.prepare("UPDATE model_versions SET status = 'retired' WHERE project_id = ? AND status = 'production'").run(version.projectId);
      this.db.prepare("UPDATE model_versions SET status = 'production', promoted_at = ? WHERE id = ?").run(nowIso(), id);
    })();
    return this.get(id);
  }

  /**
   * Returns production to the version that held it before the current one (the most recently
   * promoted of the retired versions); the current one is retired.
   */
  rollback(projectId: number): { from: ModelVersion; to: ModelVersion } {
    const current = this.production(projectId);
    const previous = this.db
      .prepare("SELECT id FROM model_versions WHERE project_id = ? AND status = 'retired' AND promoted_at IS NOT NULL ORDER BY promoted_at DESC, id DESC LIMIT 1")
      .get(projectId) as { id: number } | undefined;
    if (!previous) throw new ArgusError('not_found', `Model ${current.id} is the first production model of its project; there is nothing to roll back to`, { key: 'nothingToRollBack', params: { id: current.id } });
    this.db.transaction(() => {
      this.db.prepare("UPDATE model_versions SET status = 'retired' WHERE id = ?").run(current.id);
      this.db.prepare("UPDATE model_versions SET status = 'production', promoted_at = ? WHERE id = ?").run(nowIso(), previous.id);
    })();
    return { from: this.get(current.id), to: this.get(previous.id) };
  }

  updateThresholds(id: number, thresholds: Record<string, unknown>): ModelVersion {
    this.db.prepare('UPDATE model_versions SET thresholds = ? WHERE id = ?').run(JSON.stringify(thresholds), id);
    return this.get(id);
  }

  updateMetrics(id: number, metrics: Record<string, unknown>): ModelVersion {
    this.db.prepare('UPDATE model_versions SET metrics = ? WHERE id = ?').run(JSON.stringify(metrics), id);
    return this.get(id);
  }

  private toVersion(row: Row): ModelVersion {
    const files = this.db.prepare('SELECT role, sha256, bytes FROM model_files WHERE model_version_id = ? ORDER BY role').all(row.id) as ModelFile[];
    return {
      id: row.id,
      projectId: row.project_id,
      parentId: row.parent_id,
      name: row.name,
      mode: row.mode,
      classes: JSON.parse(row.classes) as string[],
      snapshotId: row.snapshot_id,
      config: JSON.parse(row.config) as Record<string, unknown>,
      metrics: JSON.parse(row.metrics) as Record<string, unknown>,
      thresholds: JSON.parse(row.thresholds) as ModelVersion['thresholds'],
      status: row.status,
      createdAt: row.created_at,
      promotedAt: row.promoted_at,
      files,
    };
  }
}

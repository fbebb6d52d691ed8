import { ArgusError } from '../contract/errors.ts';
import { type Db, nowIso } from './database.ts';

export type TrainingRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TrainingRun {
  id: number;
  projectId: number;
  mode: string;
  parentModelId: number | null;
  snapshotId: number | null;
  resultModelId: number | null;
  config: Record<string, unknown>;
  status: TrainingRunStatus;
  progress: number;
  checkpointPath: string | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

interface Row {
  id: number; project_id: number; mode: string; parent_model_id: number | null; snapshot_id: number | null; result_model_id: number | null;
  config: string; status: TrainingRunStatus; progress: number; checkpoint_path: string | null; error: string | null; started_at: string; finished_at: string | null;
}

const toRun = (r: Row): TrainingRun => ({
  id: r.id, projectId: r.project_id, mode: r.mode, parentModelId: r.parent_model_id, snapshotId: r.snapshot_id, resultModelId: r.result_model_id,
  config: JSON.parse(r.config) as Record<string, unknown>, status: r.status, progress: r.progress, checkpointPath: r.checkpoint_path,
  error: r.error, startedAt: r.started_at, finishedAt: r.finished_at,
});

/** Training runs: what was asked for, where its checkpoint is, how it ended (a killed run stays "running"). */
export class TrainingRunRepository {
  constructor(private readonly db: Db) {}

  create(run: { projectId: number; mode: string; parentModelId: number | null; snapshotId: number | null; config: Record<string, unknown> }): TrainingRun {
    const { lastInsertRowid } = this.db
      .prepare(`INSERT INTO training_runs (project_id, mode, parent_model_id, snapshot_id, config, status, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?)`)
      .run(run.projectId, run.mode, run.parentModelId, run.snapshotId, JSON.stringify(run.config), nowIso());
    return this.get(Number(lastInsertRowid));
  }

  get(id: number): TrainingRun {
    const row = this.db.prepare('SELECT * FROM training_runs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new ArgusError('not_found', `No training run with id ${id}`, { key: 'noRun', params: { id } });
    return toRun(row);
  }

  list(): TrainingRun[] {
    return (this.db.prepare('SELECT * FROM training_runs ORDER BY id DESC').all() as Row[]).map(toRun);
  }

  setCheckpoint(id: number, path: string, progress: number): void {
    this.db.prepare('UPDATE training_runs SET checkpoint_path = ?, progress = ? WHERE id = ?').run(path, progress, id);
  }

  setConfig(id: number, config: Record<string, unknown>): void {
    this.db.prepare('UPDATE training_runs SET config = ? WHERE id = ?').run(JSON.stringify(config), id);
  }

  resumed(id: number): void {
    this.db.prepare(`UPDATE training_runs SET status = 'running', error = NULL, finished_at = NULL WHERE id = ?`).run(id);
  }

  finish(id: number, status: Exclude<TrainingRunStatus, 'queued' | 'running'>, result: { modelId?: number; error?: string } = {}): void {
    this.db
      .prepare('UPDATE training_runs SET status = ?, result_model_id = ?, error = ?, finished_at = ?, progress = CASE WHEN ? = \'succeeded\' THEN 1 ELSE progress END WHERE id = ?')
      .run(status, result.modelId ?? null, result.error ?? null, nowIso(), status, id);
  }
}

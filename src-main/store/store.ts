import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AnnotationRepository } from './annotations.ts';
import { BlobStore } from './blob-store.ts';
import { type Db, openDatabase, schemaVersion } from './database.ts';
import { DatasetRepository } from './datasets.ts';
import { HistoryRepository } from './history.ts';
import { ReviewRepository } from './reviews.ts';
import { ProcessedFiles } from './ledger.ts';
import { ModelRepository } from './models.ts';
import { ProjectRepository } from './projects.ts';
import { SettingsRepository } from './settings.ts';
import { TrainingRunRepository } from './training-runs.ts';

/** Browser uploads waiting for an inspection are removed by gc after a day. */
const STAGED_UPLOAD_LIFETIME_MS = 24 * 3600_000;

/**
 * Everything Argus keeps lives in one data directory:
 *   argus.db      SQLite (WAL) with projects, datasets, annotations, models, history, audit log
 *   blobs/        content-addressed files (images, masks, model files) keyed by SHA-256
 *   thumbnails/   JPEG thumbnails keyed by the SHA-256 of their image
 *   training/     checkpoints of training runs (run-<id>/), removed when a run ends
 */
export class Store {
  readonly dataDir: string;
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly thumbnails: BlobStore;
  readonly projects: ProjectRepository;
  readonly datasets: DatasetRepository;
  readonly annotations: AnnotationRepository;
  readonly history: HistoryRepository;
  readonly reviews: ReviewRepository;
  readonly models: ModelRepository;
  readonly settings: SettingsRepository;
  readonly processed: ProcessedFiles;
  readonly trainingRuns: TrainingRunRepository;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    mkdirSync(dataDir, { recursive: true });
    this.db = openDatabase(join(dataDir, 'argus.db'));
    this.blobs = new BlobStore(join(dataDir, 'blobs'));
    this.thumbnails = new BlobStore(join(dataDir, 'thumbnails'));
    this.projects = new ProjectRepository(this.db);
    this.datasets = new DatasetRepository(this.db);
    this.annotations = new AnnotationRepository(this.db);
    this.history = new HistoryRepository(this.db);
    this.reviews = new ReviewRepository(this.db);
    this.models = new ModelRepository(this.db);
    this.settings = new SettingsRepository(this.db);
    this.processed = new ProcessedFiles(this.db);
    this.trainingRuns = new TrainingRunRepository(this.db);
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /**
   * Every file digest the database still points at: images, masks (also inside immutable dataset
   * snapshots), model files, inspection heatmaps, settings (the backbone weights). Any 64-hex
   * string in those columns counts, so nothing referenced is ever taken for garbage.
   */
  referencedBlobs(): Set<string> {
    const digests = new Set<string>();
    const scan = (sql: string): void => {
      for (const row of this.db.prepare(sql).all() as { v: string | null }[]) {
        for (const match of row.v?.matchAll(/[0-9a-f]{64}/g) ?? []) digests.add(match[0]);
      }
    };
    scan('SELECT sha256 AS v FROM images');
    scan('SELECT geometry AS v FROM annotations');
    scan('SELECT annotations AS v FROM snapshot_items');
    scan('SELECT sha256 AS v FROM model_files');
    scan('SELECT timings AS v FROM inspections');
    scan('SELECT value AS v FROM settings');
    return digests;
  }

  /** Removes stored files (and thumbnails) nothing refers to any more, older than the grace period. */
  collectGarbage(options: { graceMs?: number; dryRun?: boolean } = {}): { files: number; bytes: number } {
    const referenced = this.referencedBlobs();
    const grace = options.graceMs ?? 3600_000;
    const blobs = this.blobs.collectGarbage(referenced, grace, options.dryRun);
    const thumbnails = this.thumbnails.collectGarbage(referenced, grace, options.dryRun);
    const staged = this.collectStagedUploads(Math.max(grace, STAGED_UPLOAD_LIFETIME_MS), options.dryRun);
    return { files: blobs.files + thumbnails.files + staged.files, bytes: blobs.bytes + thumbnails.bytes + staged.bytes };
  }

  /** Browser uploads that no inspection took (uploads/staged/), once older than `ageMs`. */
  private collectStagedUploads(ageMs: number, dryRun = false, now = Date.now()): { files: number; bytes: number } {
    const folder = join(this.dataDir, 'uploads', 'staged');
    let files = 0;
    let bytes = 0;
    if (!existsSync(folder)) return { files, bytes };
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      const stat = statSync(path);
      if (!stat.isFile() || now - stat.mtimeMs < ageMs) continue;
      files++;
      bytes += stat.size;
      if (!dryRun) rmSync(path, { force: true });
    }
    return { files, bytes };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}

import { createHash } from 'node:crypto';
import type { DatasetImage, DatasetImagePage, DatasetImageQuery, DatasetSummary, ImageLabel, ImportFormat, Split } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { type Db, nowIso } from './database.ts';
import type { DatasetSample } from '../contract/dataset-sample.ts';

export interface ImageRecord {
  sha256: string;
  originalName: string;
  format: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
  bytes: number;
  source: string;
}

export type { DatasetSample } from '../contract/dataset-sample.ts';

interface DatasetRow {
  id: number; project_id: number; project_name: string; name: string; source_path: string; format: ImportFormat; created_at: string;
}

export class DatasetRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the image row unless an image with the same content exists; returns its id and whether it was new. */
  upsertImage(image: ImageRecord): { id: number; added: boolean } {
    const existing = this.db.prepare('SELECT id FROM images WHERE sha256 = ?').get(image.sha256) as { id: number } | undefined;
    if (existing) return { id: existing.id, added: false };
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO images (sha256, original_name, format, width, height, channels, bit_depth, bytes, source, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(image.sha256, image.originalName, image.format, image.width, image.height, image.channels, image.bitDepth, image.bytes, image.source, nowIso());
    return { id: Number(lastInsertRowid), added: true };
  }

  getOrCreate(projectId: number, name: string, sourcePath: string, format: ImportFormat): number {
    const row = this.db.prepare('SELECT id FROM datasets WHERE project_id = ? AND name = ?').get(projectId, name) as { id: number } | undefined;
    if (row) return row.id;
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO datasets (project_id, name, source_path, format, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(projectId, name, sourcePath, format, nowIso());
    return Number(lastInsertRowid);
  }

  /**
   * Adds the image to the dataset; true when it was not there yet. An image already there keeps
   * its split (splits never change) and label, and gains the group when it had none (a dataset
   * imported before its source named groups).
   */
  addImage(datasetId: number, imageId: number, file: string, split: Split, label: ImageLabel, group: string | null = null): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO dataset_images (dataset_id, image_id, file, split, label, group_name, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (dataset_id, image_id) DO NOTHING`,
      )
      .run(datasetId, imageId, file, split, label, group, nowIso());
    if (result.changes === 0 && group !== null) {
      this.db.prepare('UPDATE dataset_images SET group_name = ? WHERE dataset_id = ? AND image_id = ? AND group_name IS NULL').run(group, datasetId, imageId);
    }
    return result.changes > 0;
  }

  list(projectId?: number): DatasetSummary[] {
    const rows = this.db
      .prepare(
        `SELECT d.*, p.name AS project_name FROM datasets d JOIN projects p ON p.id = d.project_id
         WHERE @projectId IS NULL OR d.project_id = @projectId ORDER BY d.created_at DESC, d.id DESC`,
      )
      .all({ projectId: projectId ?? null }) as DatasetRow[];
    return rows.map((row) => this.toSummary(row));
  }

  get(id: number): DatasetSummary {
    const row = this.db
      .prepare('SELECT d.*, p.name AS project_name FROM datasets d JOIN projects p ON p.id = d.project_id WHERE d.id = ?')
      .get(id) as DatasetRow | undefined;
    if (!row) throw new ArgusError('not_found', `No dataset with id ${id}`, { key: 'noDataset', params: { id } });
    return this.toSummary(row);
  }

  findByName(name: string): DatasetSummary[] {
    return this.list().filter((d) => d.name === name);
  }

  images(query: DatasetImageQuery): DatasetImagePage {
    const dataset = this.get(query.datasetId);
    const defectAnnotation = `SELECT 1 FROM annotations a WHERE a.image_id = di.image_id AND a.project_id = @projectId AND a.shape != 'good'`;
    const where = `di.dataset_id = @datasetId AND (@split IS NULL OR di.split = @split) AND (@label IS NULL OR di.label = @label)
      AND (@classIndex IS NULL OR EXISTS (SELECT 1 FROM annotations a JOIN defect_classes c ON c.id = a.class_id
        WHERE a.image_id = di.image_id AND a.project_id = @projectId AND c.class_index = @classIndex))
      AND (@annotated IS NULL OR (@annotated = 1) = EXISTS (${defectAnnotation}))
      AND (@group IS NULL OR di.group_name = @group)`;
    const params = {
      datasetId: query.datasetId, split: query.split ?? null, label: query.label ?? null, projectId: dataset.projectId,
      classIndex: query.classIndex ?? null, annotated: query.annotated === undefined ? null : Number(query.annotated),
      group: query.group ?? null,
    };
    const { total } = this.db.prepare(`SELECT count(*) AS total FROM dataset_images di WHERE ${where}`).get(params) as { total: number };
    const rows = this.db
      .prepare(
        `SELECT i.id, i.sha256, i.width, i.height, di.file, di.split, di.label, di.group_name,
           (SELECT count(*) FROM annotations a WHERE a.image_id = i.id AND a.project_id = @projectId AND a.shape != 'good') AS annotation_count,
           (SELECT group_concat(DISTINCT c.name) FROM annotations a JOIN defect_classes c ON c.id = a.class_id
             WHERE a.image_id = i.id AND a.project_id = @projectId) AS class_names,
           (SELECT group_concat(name, char(31)) FROM (SELECT c.name FROM annotations a JOIN defect_classes c ON c.id = a.class_id
             WHERE a.image_id = i.id AND a.project_id = @projectId AND a.shape = 'class' ORDER BY a.id)) AS image_classes
         FROM dataset_images di JOIN images i ON i.id = di.image_id
         WHERE ${where} ORDER BY di.file LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: query.limit ?? 100, offset: query.offset ?? 0 }) as {
        id: number; sha256: string; width: number; height: number; file: string; split: Split; label: ImageLabel;
        group_name: string | null; annotation_count: number; class_names: string | null; image_classes: string | null;
      }[];
    const items: DatasetImage[] = rows.map((r) => ({
      imageId: r.id,
      sha256: r.sha256,
      file: r.file,
      split: r.split,
      label: r.label,
      group: r.group_name,
      width: r.width,
      height: r.height,
      classes: r.class_names ? r.class_names.split(',') : [],
      imageClasses: r.image_classes ? r.image_classes.split('\x1f') : [],
      annotationCount: r.annotation_count,
    }));
    return { items, total };
  }

  samples(datasetId: number, split?: Split): DatasetSample[] {
    const dataset = this.get(datasetId);
    const rows = this.db
      .prepare(
        `SELECT i.id, i.sha256, i.width, i.height, di.file, di.split, di.label, di.group_name FROM dataset_images di JOIN images i ON i.id = di.image_id
         WHERE di.dataset_id = @datasetId AND (@split IS NULL OR di.split = @split) ORDER BY di.file`,
      )
      .all({ datasetId, split: split ?? null }) as { id: number; sha256: string; width: number; height: number; file: string; split: Split; label: ImageLabel; group_name: string | null }[];
    const masks = this.db.prepare(
      `SELECT a.geometry, c.class_index, a.import_key IS NOT NULL AS imported FROM annotations a JOIN defect_classes c ON c.id = a.class_id
       WHERE a.project_id = ? AND a.image_id = ? AND a.shape = 'mask'`,
    );
    const imageClasses = this.db.prepare(
      `SELECT c.class_index FROM annotations a JOIN defect_classes c ON c.id = a.class_id
       WHERE a.project_id = ? AND a.image_id = ? AND a.shape = 'class' ORDER BY a.id`,
    );
    const shapes = this.db.prepare(
      `SELECT a.shape, a.geometry, c.class_index, a.import_key IS NOT NULL AS imported FROM annotations a JOIN defect_classes c ON c.id = a.class_id
       WHERE a.project_id = ? AND a.image_id = ? AND a.shape IN ('box', 'polygon') ORDER BY a.id`,
    );
    return rows.map((r) => {
      const drawn = shapes.all(dataset.projectId, r.id) as { shape: 'box' | 'polygon'; geometry: string; class_index: number; imported: number }[];
      return {
        imageId: r.id, sha256: r.sha256, file: r.file, width: r.width, height: r.height, split: r.split, label: r.label, group: r.group_name,
        boxes: drawn.filter((a) => a.shape === 'box').map((a) => ({ box: JSON.parse(a.geometry) as [number, number, number, number], classIndex: a.class_index, imported: !!a.imported })),
        polygons: drawn.filter((a) => a.shape === 'polygon').map((a) => ({ points: JSON.parse(a.geometry) as [number, number][], classIndex: a.class_index, imported: !!a.imported })),
        imageClasses: (imageClasses.all(dataset.projectId, r.id) as { class_index: number }[]).map((c) => c.class_index),
        masks: (masks.all(dataset.projectId, r.id) as { geometry: string; class_index: number; imported: number }[]).map((m) => {
          const g = JSON.parse(m.geometry) as { sha256: string; value: number };
          return { sha256: g.sha256, value: g.value, classIndex: m.class_index, imported: !!m.imported };
        }),
      };
    });
  }

  /** The image's entry in the dataset (its split and label), or undefined when it is not in it. */
  entry(datasetId: number, imageId: number): { split: Split; label: ImageLabel; width: number; height: number; sha256: string } | undefined {
    return this.db.prepare(
      'SELECT di.split, di.label, i.width, i.height, i.sha256 FROM dataset_images di JOIN images i ON i.id = di.image_id WHERE di.dataset_id = ? AND di.image_id = ?',
    ).get(datasetId, imageId) as { split: Split; label: ImageLabel; width: number; height: number; sha256: string } | undefined;
  }

  imageBySha256(sha256: string): { id: number; width: number; height: number } | undefined {
    return this.db.prepare('SELECT id, width, height FROM images WHERE sha256 = ?').get(sha256) as { id: number; width: number; height: number } | undefined;
  }

  setLabel(datasetId: number, imageId: number, label: ImageLabel): void {
    this.db.prepare('UPDATE dataset_images SET label = ? WHERE dataset_id = ? AND image_id = ?').run(label, datasetId, imageId);
  }

  /** The dataset a snapshot was taken of. */
  datasetOfSnapshot(snapshotId: number): number {
    const row = this.db.prepare('SELECT dataset_id FROM dataset_snapshots WHERE id = ?').get(snapshotId) as { dataset_id: number } | undefined;
    if (!row) throw new ArgusError('not_found', `No dataset snapshot ${snapshotId}`, { key: 'noSnapshot', params: { id: snapshotId } });
    return row.dataset_id;
  }

  /** Freezes the dataset as it is now (images, splits, labels, annotations) for a training run. */
  snapshot(datasetId: number): number {
    return this.db.transaction(() => {
      const dataset = this.get(datasetId);
      const items = this.db
        .prepare(
          `SELECT di.image_id, di.split, di.label,
             (SELECT json_group_array(json_object('shape', a.shape, 'class', a.class_id, 'geometry', json(a.geometry)))
                FROM annotations a WHERE a.image_id = di.image_id AND a.project_id = @projectId) AS annotations
           FROM dataset_images di WHERE di.dataset_id = @datasetId ORDER BY di.image_id`,
        )
        .all({ datasetId, projectId: dataset.projectId }) as { image_id: number; split: string; label: string; annotations: string }[];
      const digest = createHash('sha256');
      for (const item of items) digest.update(`${item.image_id}|${item.split}|${item.label}|${item.annotations}\n`);
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO dataset_snapshots (dataset_id, content_sha256, item_count, created_at) VALUES (?, ?, ?, ?)')
        .run(datasetId, digest.digest('hex'), items.length, nowIso());
      const snapshotId = Number(lastInsertRowid);
      const insert = this.db.prepare('INSERT INTO snapshot_items (snapshot_id, image_id, split, label, annotations) VALUES (?, ?, ?, ?, ?)');
      for (const item of items) insert.run(snapshotId, item.image_id, item.split, item.label, item.annotations);
      return snapshotId;
    })();
  }

  private toSummary(row: DatasetRow): DatasetSummary {
    const counts = this.db
      .prepare(
        `SELECT count(*) AS total,
           sum(split = 'train') AS train, sum(split = 'val') AS val, sum(split = 'test') AS test,
           sum(label = 'good') AS good, sum(label = 'defect') AS defect, sum(label = 'unlabeled') AS unlabeled
         FROM dataset_images WHERE dataset_id = ?`,
      )
      .get(row.id) as Record<string, number | null>;
    const n = (k: string): number => Number(counts[k] ?? 0);
    const groups = this.db
      .prepare('SELECT group_name AS name, count(*) AS images FROM dataset_images WHERE dataset_id = ? AND group_name IS NOT NULL GROUP BY group_name ORDER BY group_name')
      .all(row.id) as { name: string; images: number }[];
    return {
      id: row.id,
      projectId: row.project_id,
      projectName: row.project_name,
      name: row.name,
      sourcePath: row.source_path,
      format: row.format,
      createdAt: row.created_at,
      counts: { total: n('total'), train: n('train'), val: n('val'), test: n('test'), good: n('good'), defect: n('defect'), unlabeled: n('unlabeled') },
      groups,
    };
  }
}

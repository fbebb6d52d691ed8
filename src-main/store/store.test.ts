import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { openDatabase } from './database.ts';
import { latestSchemaVersion, migrations } from './migrations.ts';
import { Store } from './store.ts';

describe('store', () => {
  const dirs: { cleanup(): void }[] = [];
  const fresh = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  it('creates the schema in WAL mode with foreign keys, and reopens without migrating again', () => {
    const dir = fresh();
    const store = new Store(dir);
    expect(store.schemaVersion).toBe(latestSchemaVersion);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    store.projects.create({ name: 'line 1', classes: [{ name: 'scratch' }] });
    store.close();
    const again = new Store(dir);
    expect(again.projects.list().map((p) => p.name)).toEqual(['line 1']);
    again.close();
  });

  it('runs pending migrations in order and refuses a database from a newer version', () => {
    const file = join(fresh(), 'db.sqlite');
    const v1 = ['CREATE TABLE a (x INTEGER);'];
    openDatabase(file, v1).close();
    const db = openDatabase(file, [...v1, 'ALTER TABLE a ADD COLUMN y TEXT;']);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('PRAGMA table_info(a)').all().map((c) => (c as { name: string }).name)).toEqual(['x', 'y']);
    db.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDatabase(file, v1)).toThrow(/newer Argus \(schema 99/);
  });

  it('upgrades a version-3 database to detection models with every model, file and inspection kept', () => {
    const dir = fresh();
    const file = join(dir, 'argus.db');
    openDatabase(file, migrations.slice(0, 3)).close();
    const v3 = new Database(file);
    v3.pragma('foreign_keys = ON');
    v3.exec(`INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 'now');
      INSERT INTO model_versions (id, project_id, name, mode, classes, config, status, created_at) VALUES (1, 1, 'a', 'anomaly', '[]', '{}', 'production', 'now');
      INSERT INTO model_versions (id, project_id, parent_id, name, mode, classes, config, created_at) VALUES (2, 1, 1, 'b', 'segment', '[]', '{}', 'now');
      INSERT INTO model_files (model_version_id, role, path, sha256, bytes) VALUES (2, 'network.onnx', 'x', 'h', 1);
      INSERT INTO inspections (source_path, model_version_id, verdict, operator, created_at) VALUES ('a.png', 2, 'OK', 'op', 'now');`);
    expect(() => v3.prepare("INSERT INTO model_versions (project_id, name, mode, classes, config, created_at) VALUES (1, 'c', 'detect', '[]', '{}', 'now')").run()).toThrow(/CHECK/);
    v3.close();

    const store = new Store(dir);
    expect(store.schemaVersion).toBe(latestSchemaVersion);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.models.list().map((m) => [m.id, m.mode, m.parentId, m.status])).toEqual(expect.arrayContaining([[1, 'anomaly', null, 'production'], [2, 'segment', 1, 'candidate']]));
    expect(store.models.get(2).files.map((f) => f.role)).toEqual(['network.onnx']);
    store.db.prepare("INSERT INTO model_versions (project_id, name, mode, classes, config, created_at) VALUES (1, 'c', 'detect', '[]', '{}', 'now')").run();
    // References still hold: a second production model and a dangling inspection are refused.
    expect(() => store.db.prepare("UPDATE model_versions SET status = 'production' WHERE id = 2").run()).toThrow(/UNIQUE/);
    expect(() => store.db.prepare("INSERT INTO inspections (source_path, model_version_id, verdict, operator, created_at) VALUES ('b.png', 99, 'OK', 'op', 'now')").run()).toThrow(/FOREIGN KEY/);
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    store.close();
  });

  it('keeps dataset splits fixed, snapshots immutable and the audit log append-only', () => {
    const store = new Store(fresh());
    const project = store.projects.create({ name: 'p' });
    const image = store.datasets.upsertImage({ sha256: 'a'.repeat(64), originalName: 'x.png', format: 'png', width: 2, height: 2, channels: 3, bitDepth: 8, bytes: 10, source: 't' });
    const datasetId = store.datasets.getOrCreate(project.id, 'd', '/d', 'folder');
    store.datasets.addImage(datasetId, image.id, 'x.png', 'train', 'good');
    expect(() => store.db.prepare("UPDATE dataset_images SET split = 'test'").run()).toThrow(/fixed once assigned/);
    expect(store.datasets.addImage(datasetId, image.id, 'x.png', 'test', 'good')).toBe(false);
    expect(store.datasets.images({ datasetId }).items[0].split).toBe('train');

    store.db.prepare("INSERT INTO dataset_snapshots (dataset_id, content_sha256, item_count, created_at) VALUES (?, 'h', 1, 'now')").run(datasetId);
    store.db.prepare("INSERT INTO snapshot_items (snapshot_id, image_id, split, label, annotations) VALUES (1, ?, 'train', 'good', '[]')").run(image.id);
    expect(() => store.db.prepare("UPDATE snapshot_items SET split = 'val'").run()).toThrow(/immutable/);
    expect(() => store.db.prepare('DELETE FROM snapshot_items').run()).toThrow(/immutable/);

    store.history.audit('qa', 'model.promote', 'model:1');
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(store.history.auditLog()[0]).toMatchObject({ actor: 'qa', action: 'model.promote', target: 'model:1' });
    store.close();
  });

  it('promotes and rolls back production models', () => {
    const store = new Store(fresh());
    const project = store.projects.create({ name: 'p' });
    const make = (name: string) => store.models.create({ projectId: project.id, name, mode: 'anomaly', classes: ['anomaly'], snapshotId: null, config: {}, metrics: {}, thresholds: { method: 'f1', image: { ng: 1, review: 0.5, goodMedian: 0 }, pixel: { threshold: 1, goodMedian: 0 } }, files: [] });
    const [a, b] = [make('a'), make('b')];
    expect(() => store.models.rollback(project.id)).toThrow(/No model version is in production/);
    store.models.promote(a.id);
    expect(() => store.models.rollback(project.id)).toThrow(/nothing to roll back to/);
    store.models.promote(b.id);
    expect(store.models.get(a.id).status).toBe('retired');
    const { from, to } = store.models.rollback(project.id);
    expect([from.id, from.status, to.id, to.status]).toEqual([b.id, 'retired', a.id, 'production']);
    expect(store.models.production(project.id).id).toBe(a.id);
    store.close();
  });

  it('allows only one production model per project', () => {
    const store = new Store(fresh());
    const project = store.projects.create({ name: 'p' });
    const insert = store.db.prepare("INSERT INTO model_versions (project_id, name, mode, classes, config, status, created_at) VALUES (?, ?, 'anomaly', '[]', '{}', ?, 'now')");
    insert.run(project.id, 'v1', 'production');
    expect(() => insert.run(project.id, 'v2', 'production')).toThrow(/UNIQUE/);
    store.close();
  });
});

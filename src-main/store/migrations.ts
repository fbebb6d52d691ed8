// Versioned schema. Each entry upgrades the database by one version; they run in order on open,
// inside one transaction each. Never edit a released migration: add a new one.
export const migrations: string[] = [
  /* 1 */ `
  CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
  );
  CREATE TABLE defect_classes (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    class_index INTEGER NOT NULL CHECK (class_index BETWEEN 1 AND 255),
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    UNIQUE (project_id, class_index),
    UNIQUE (project_id, name)
  );
  CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    bit_depth INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL
  );
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    source_path TEXT NOT NULL,
    format TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, name)
  );
  CREATE TABLE dataset_images (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id),
    file TEXT NOT NULL,
    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
    label TEXT NOT NULL CHECK (label IN ('good', 'defect', 'unlabeled')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (dataset_id, image_id)
  );
  CREATE INDEX dataset_images_split ON dataset_images(dataset_id, split);
  CREATE TRIGGER dataset_split_is_fixed BEFORE UPDATE OF split ON dataset_images
    WHEN OLD.split IS NOT NEW.split
    BEGIN SELECT RAISE(ABORT, 'the split of a dataset image is fixed once assigned'); END;

  -- One row per labelled region, or one 'good' row for a whole-image defect-free label.
  -- geometry: box [x1,y1,x2,y2] | polygon [[x,y],...] | mask {"sha256","value"} | good null.
  CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id),
    class_id INTEGER REFERENCES defect_classes(id),
    shape TEXT NOT NULL CHECK (shape IN ('box', 'polygon', 'mask', 'good')),
    geometry TEXT,
    author TEXT NOT NULL,
    import_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((shape = 'good') = (class_id IS NULL))
  );
  CREATE INDEX annotations_image ON annotations(project_id, image_id);
  CREATE UNIQUE INDEX annotations_import_key ON annotations(project_id, image_id, import_key)
    WHERE import_key IS NOT NULL;

  CREATE TABLE dataset_snapshots (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    content_sha256 TEXT NOT NULL,
    item_count INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE snapshot_items (
    snapshot_id INTEGER NOT NULL REFERENCES dataset_snapshots(id),
    image_id INTEGER NOT NULL REFERENCES images(id),
    split TEXT NOT NULL,
    label TEXT NOT NULL,
    annotations TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, image_id)
  );
  CREATE TRIGGER snapshot_items_immutable_u BEFORE UPDATE ON snapshot_items
    BEGIN SELECT RAISE(ABORT, 'dataset snapshots are immutable'); END;
  CREATE TRIGGER snapshot_items_immutable_d BEFORE DELETE ON snapshot_items
    BEGIN SELECT RAISE(ABORT, 'dataset snapshots are immutable'); END;
  CREATE TRIGGER dataset_snapshots_immutable_u BEFORE UPDATE ON dataset_snapshots
    BEGIN SELECT RAISE(ABORT, 'dataset snapshots are immutable'); END;

  CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    parent_id INTEGER REFERENCES model_versions(id),
    name TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('classify', 'anomaly', 'segment')),
    classes TEXT NOT NULL,
    snapshot_id INTEGER REFERENCES dataset_snapshots(id),
    config TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    thresholds TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'production', 'retired')),
    created_at TEXT NOT NULL,
    promoted_at TEXT
  );
  CREATE UNIQUE INDEX one_production_model ON model_versions(project_id) WHERE status = 'production';
  CREATE TABLE model_files (
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (model_version_id, role)
  );

  CREATE TABLE training_runs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    mode TEXT NOT NULL,
    parent_model_id INTEGER REFERENCES model_versions(id),
    snapshot_id INTEGER REFERENCES dataset_snapshots(id),
    result_model_id INTEGER REFERENCES model_versions(id),
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    log TEXT NOT NULL DEFAULT '',
    checkpoint_path TEXT,
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
  );

  CREATE TABLE inspections (
    id INTEGER PRIMARY KEY,
    image_id INTEGER REFERENCES images(id),
    source_path TEXT NOT NULL,
    model_version_id INTEGER REFERENCES model_versions(id),
    verdict TEXT NOT NULL CHECK (verdict IN ('OK', 'NG', 'REVIEW', 'ERROR')),
    score REAL,
    regions TEXT NOT NULL DEFAULT '[]',
    thresholds TEXT NOT NULL DEFAULT '{}',
    timings TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    operator TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX inspections_time ON inspections(created_at);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  /* 2 */ `
  -- Files a hot folder or a batch run has inspected (scope = the watched folder or the batch's
  -- output folder), committed with the result, so a restart neither re-inspects nor skips any.
  -- sinks_done: the result's outputs (log line, sidecar, move, results.jsonl) were written.
  CREATE TABLE processed_files (
    scope TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    inspection_id INTEGER REFERENCES inspections(id),
    verdict TEXT NOT NULL,
    sinks_done INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (scope, path)
  );
  -- The raw anomaly score beside the normalised one, so a result can be reported again exactly.
  ALTER TABLE inspections ADD COLUMN raw_score REAL;
  `,
  /* 3 */ `
  -- Where an image was taken (a camera position, station or line), as the dataset source names it.
  ALTER TABLE dataset_images ADD COLUMN group_name TEXT;
  `,
  /* 4 */ `
  -- Detection models. SQLite cannot change a CHECK constraint in place: the table is rebuilt
  -- (SQLite's documented procedure; this migration runs with foreign keys off and checked after).
  CREATE TABLE model_versions_v4 (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    parent_id INTEGER REFERENCES model_versions(id),
    name TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('classify', 'anomaly', 'segment', 'detect')),
    classes TEXT NOT NULL,
    snapshot_id INTEGER REFERENCES dataset_snapshots(id),
    config TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    thresholds TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'production', 'retired')),
    created_at TEXT NOT NULL,
    promoted_at TEXT
  );
  INSERT INTO model_versions_v4 SELECT * FROM model_versions;
  DROP TABLE model_versions;
  ALTER TABLE model_versions_v4 RENAME TO model_versions;
  CREATE UNIQUE INDEX one_production_model ON model_versions(project_id) WHERE status = 'production';
  `,
  /* 5 */ `
  -- Whole-image class labels ('class', for classification), rebuilt as in 4.
  CREATE TABLE annotations_v5 (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id),
    class_id INTEGER REFERENCES defect_classes(id),
    shape TEXT NOT NULL CHECK (shape IN ('box', 'polygon', 'mask', 'good', 'class')),
    geometry TEXT,
    author TEXT NOT NULL,
    import_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((shape = 'good') = (class_id IS NULL))
  );
  INSERT INTO annotations_v5 SELECT * FROM annotations;
  DROP TABLE annotations;
  ALTER TABLE annotations_v5 RENAME TO annotations;
  CREATE INDEX annotations_image ON annotations(project_id, image_id);
  CREATE UNIQUE INDEX annotations_import_key ON annotations(project_id, image_id, import_key)
    WHERE import_key IS NOT NULL;
  `,
  /* 6 */ `
  -- What the line says about a result (an operator confirms or disputes it), and what a QA
  -- engineer did with it (added the image to a dataset, or dismissed it).
  CREATE TABLE inspection_reviews (
    inspection_id INTEGER PRIMARY KEY REFERENCES inspections(id),
    opinion TEXT CHECK (opinion IN ('confirmed', 'disputed')),
    correct_label TEXT,
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT,
    reviewed_at TEXT,
    resolution TEXT CHECK (resolution IN ('added', 'dismissed')),
    dataset_id INTEGER REFERENCES datasets(id),
    resolved_by TEXT,
    resolved_at TEXT
  );
  CREATE INDEX inspection_reviews_open ON inspection_reviews(resolution, opinion);
  `,
  /* 7 */ `
  -- A classifier's probability per class, JSON by class name.
  ALTER TABLE inspections ADD COLUMN class_probabilities TEXT;
  `,
];

export const latestSchemaVersion = migrations.length;

/** Migrations that rebuild a table other tables refer to: they run with foreign keys off, then checked. */
export const REBUILDS_TABLES = new Set([4, 5]);

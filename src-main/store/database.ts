import Database from 'better-sqlite3';
import { ArgusError } from '../contract/errors.ts';
import { latestSchemaVersion, migrations, REBUILDS_TABLES } from './migrations.ts';

export type Db = Database.Database;

/** Opens (creating if needed) the SQLite file and brings its schema up to date. */
export function openDatabase(file: string, schema: string[] = migrations): Db {
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new ArgusError('storage', `Cannot open the database ${file}: ${(error as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // FULL: a committed transaction (an inspection and its processed-file mark) survives a power
    // cut; NORMAL in WAL mode may roll the last commits back.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db, schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Db, schema: string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > schema.length) {
    throw new ArgusError(
      'unsupported',
      `This data directory was written by a newer Argus (schema ${current}; this version knows up to ${schema.length}). ` +
        'Update Argus, or open another data directory.',
    );
  }
  for (let version = current + 1; version <= schema.length; version++) {
    // A table rebuild drops a table others refer to: foreign keys are off for it (the pragma is
    // ignored inside a transaction) and every reference is checked before it commits.
    const rebuild = schema === migrations && REBUILDS_TABLES.has(version);
    if (rebuild) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(schema[version - 1]);
        if (rebuild) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length) throw new ArgusError('storage', `Schema upgrade ${version} would break ${broken.length} references; the database is left as it was`);
        }
        db.pragma(`user_version = ${version}`);
      })();
    } finally {
      if (rebuild) db.pragma('foreign_keys = ON');
    }
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export { latestSchemaVersion };

export const nowIso = (): string => new Date().toISOString();

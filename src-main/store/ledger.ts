import type { Verdict } from '../contract/contract.ts';
import { type Db, nowIso } from './database.ts';

export interface FileState {
  size: number;
  mtimeMs: number;
}

export interface PendingSinks {
  path: string;
  inspectionId: number;
}

/**
 * Which files a hot folder or batch run (its scope) has inspected. `markDone` runs inside the
 * transaction that records the inspection, so the two are committed together or not at all;
 * `sinksDone` follows once the result's outputs are written, and `pendingSinks` lists results
 * whose outputs a crash interrupted.
 */
export class ProcessedFiles {
  constructor(private readonly db: Db) {}

  isDone(scope: string, path: string, state?: FileState): boolean {
    const row = this.db.prepare('SELECT size, mtime_ms FROM processed_files WHERE scope = ? AND path = ?').get(scope, path) as { size: number; mtime_ms: number } | undefined;
    return !!row && (!state || (row.size === state.size && row.mtime_ms === state.mtimeMs));
  }

  markDone(scope: string, path: string, state: FileState, inspectionId: number, verdict: Verdict): void {
    this.db
      .prepare(
        `INSERT INTO processed_files (scope, path, size, mtime_ms, inspection_id, verdict, sinks_done, processed_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)
         ON CONFLICT (scope, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, inspection_id = excluded.inspection_id,
           verdict = excluded.verdict, sinks_done = 0, processed_at = excluded.processed_at`,
      )
      .run(scope, path, state.size, state.mtimeMs, inspectionId, verdict, nowIso());
  }

  /** The inspection recorded for a path of a scope, if any. */
  find(scope: string, path: string): { inspectionId: number; verdict: Verdict } | undefined {
    const row = this.db.prepare('SELECT inspection_id, verdict FROM processed_files WHERE scope = ? AND path = ?').get(scope, path) as { inspection_id: number; verdict: Verdict } | undefined;
    return row && { inspectionId: row.inspection_id, verdict: row.verdict };
  }

  sinksDone(scope: string, path: string): void {
    this.db.prepare('UPDATE processed_files SET sinks_done = 1 WHERE scope = ? AND path = ?').run(scope, path);
  }

  pendingSinks(scope: string): PendingSinks[] {
    return (this.db.prepare('SELECT path, inspection_id FROM processed_files WHERE scope = ? AND sinks_done = 0 ORDER BY path').all(scope) as { path: string; inspection_id: number }[])
      .map((r) => ({ path: r.path, inspectionId: r.inspection_id }));
  }
}

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgusError } from '../contract/errors.ts';
import { writeFileAtomic } from '../platform/atomic-file.ts';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Content-addressed files: each blob lives at <root>/<aa>/<sha256>, so identical content is
 * stored once. Writes go to a temporary file, are flushed to disk and renamed into place, so a
 * crash never leaves a partial blob under its final name.
 */
export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ArgusError('invalid_argument', `Not a SHA-256 digest: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /** Stores the bytes (if not already there) and returns their SHA-256. */
  async put(bytes: Uint8Array, knownSha256?: string): Promise<string> {
    const sha256 = knownSha256 ?? sha256Hex(bytes);
    const target = this.pathOf(sha256);
    if (existsSync(target)) return sha256;
    await writeFileAtomic(target, bytes);
    return sha256;
  }

  async get(sha256: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ArgusError('not_found', `No stored file with SHA-256 ${sha256}`);
      }
      throw error;
    }
  }

  /**
   * Deletes stored files whose digest is not in `referenced` and that are older than `graceMs`
   * (a file written moments ago may belong to rows still being committed), and temporary files
   * a crashed writer left behind, as old. Opening the store never deletes anything: a temporary
   * file may be another process's write in progress. Returns what was (or, with `dryRun`, would
   * be) removed.
   */
  collectGarbage(referenced: ReadonlySet<string>, graceMs: number, dryRun = false, now = Date.now()): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const shard of readdirSync(this.root, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      for (const name of readdirSync(join(this.root, shard.name))) {
        const temporary = name.endsWith('.tmp');
        if (!temporary && (!/^[0-9a-f]{64}$/.test(name) || referenced.has(name))) continue;
        const path = join(this.root, shard.name, name);
        const stat = statSync(path);
        if (now - stat.mtimeMs < graceMs) continue;
        files++;
        bytes += stat.size;
        if (!dryRun) rmSync(path, { force: true });
      }
    }
    return { files, bytes };
  }
}

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerSession } from '../app/roles.ts';
import { ArgusService } from '../app/service.ts';
import { dispatch } from '../app/dispatch.ts';

const caller = new CallerSession();
import { tempDir, writeFile } from '../../test-support/fixtures.ts';

/** Whether this machine lets the test mount a small tmpfs (root with mount rights, as in CI). */
function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'argus-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe.skipIf(!canMount())('a full or read-only disk under the data directory', () => {
  const mounts: string[] = [];
  const dataset = tempDir();
  const mountTmpfs = (options: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'argus-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  };

  beforeAll(async () => {
    // 16 noisy 400×300 PNGs (about 360 KB each): far more than the 2 MB disk below holds.
    const samples: unknown[] = [];
    for (let i = 0; i < 16; i++) {
      const noise = randomBytes(400 * 300 * 3); // incompressible
      writeFile(join(dataset.path, `img${i}.png`), await sharp(noise, { raw: { width: 400, height: 300, channels: 3 } }).png().toBuffer());
      samples.push({ file: `img${i}.png`, split: 'train', label: 'good' });
    }
    writeFile(join(dataset.path, 'manifest.json'), JSON.stringify({ name: 'big', classes: { 1: 'x' }, samples }));
  });
  afterAll(() => {
    for (const dir of mounts) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        // already unmounted
      }
      rmSync(dir, { recursive: true, force: true });
    }
    dataset.cleanup();
  });

  it('disk full during an import: a clear error, nothing recorded, the database intact, usable again once space is freed', async () => {
    const data = mountTmpfs('size=2m');
    const service = new ArgusService({ dataDir: data });
    const job = await service.jobs.wait((await service.importDataset({ path: dataset.path })).id);
    expect(job.state).toBe('failed');
    expect(job.error).toEqual({ code: 'storage', message: 'The disk holding the data directory is full.', text: { key: 'diskFull' } });
    expect((await service.listDatasets({})).length).toBe(0);
    // While the disk is full, a write either fits in what is left or fails with a clear reason.
    const whileFull = await dispatch(service, caller, 'createProject', { name: 'while full' });
    if (!whileFull.ok) expect(whileFull.error).toEqual({ code: 'storage', message: 'The database cannot grow: the disk is full.' });
    // The import's files are referenced by nothing: removing them frees the disk, and all works again.
    rmSync(join(data, 'blobs'), { recursive: true, force: true });
    rmSync(join(data, 'thumbnails'), { recursive: true, force: true });
    expect(await dispatch(service, caller, 'createProject', { name: 'after freeing space' })).toMatchObject({ ok: true });
    await service.close();
    const db = new Database(join(data, 'argus.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n).toBe(0);
    db.close();
  });

  it('a read-only data directory: a clear error on opening, no crash', () => {
    const data = mountTmpfs('size=1m,ro');
    mkdirSync(data, { recursive: true });
    expect(() => new ArgusService({ dataDir: data })).toThrow(/Cannot open the database .*argus\.db|read-only/);
  });
});

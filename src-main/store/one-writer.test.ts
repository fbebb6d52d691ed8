import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { analyseFile } from '../inspection/inspect-files.ts';
import { readUserFileSync } from '../platform/user-file.ts';
import { tempDir, writeManifestDataset } from '../../test-support/fixtures.ts';

const REPO = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The CLI in a separate process: its exit code and output. */
async function argus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('one writer process per data directory', () => {
  const dir = tempDir();
  const data = join(dir.path, 'data');
  let service: ArgusService;
  beforeAll(() => {
    service = new ArgusService({ dataDir: data, actor: 'station' });
  });
  afterAll(async () => {
    await service.close();
    dir.cleanup();
  });

  it('refuses a second writer with a message naming the holder, and lets read-only commands through', async () => {
    const second = await argus('project', 'create', 'Line 9', '--data-dir', data);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Argus is already running on this data directory (pid ${process.pid}`);
    expect(await service.listProjects()).toEqual([]);
    const list = await argus('project', 'list', '--json', '--data-dir', data);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('keeps an import whole while other processes open the data directory', async () => {
    const source = join(dir.path, 'source');
    await writeManifestDataset(source, 60, 30, { width: 160, height: 120 });
    const job = await service.importDataset({ path: source });
    // What broke imports before: every process opening the store removed the blob store's temporary files.
    const readers = await Promise.all([1, 2, 3].map(() => argus('dataset', 'list', '--data-dir', data)));
    expect(readers.map((r) => r.code)).toEqual([0, 0, 0]);
    const done = await service.jobs.wait(job.id);
    expect(done.state, done.error?.message).toBe('succeeded');
    expect(service.collectGarbage({ dryRun: true, graceMs: 0 })).toEqual({ files: 0, bytes: 0 });
  });

  it('takes over a lock left by a process that died', async () => {
    const other = join(dir.path, 'other');
    mkdirSync(other);
    // A pid that is not running (the highest possible one), written as a crashed process leaves it.
    writeFileSync(join(other, 'argus.lock'), JSON.stringify({ pid: 4194303, host: hostname(), bootedAt: Date.now(), since: '2026-01-01T00:00:00Z' }));
    const created = await argus('project', 'create', 'Line 1', '--data-dir', other);
    expect(created.code, created.stderr).toBe(0);
    expect(existsSync(join(other, 'argus.lock'))).toBe(false);
  });
});

describe('files the user names are checked before they are read', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('refuses /dev/zero, a pipe and a folder at once with a clear error', async () => {
    const fifo = join(dir.path, 'weights.safetensors');
    execFileSync('mkfifo', [fifo]);
    expect(() => readUserFileSync('/dev/zero', 'weights file', 1 << 30)).toThrow(/\/dev\/zero is a character device, not a file/);
    expect(() => readUserFileSync(fifo, 'weights file', 1 << 30)).toThrow(/is a pipe \(FIFO\), not a file/);
    expect(() => readUserFileSync(dir.path, 'image', 1 << 20)).toThrow(/is a folder, not a file/);
    expect(() => readUserFileSync(join(dir.path, 'missing.png'), 'image', 1 << 20)).toThrow(/Cannot read image .*ENOENT/);
    writeFileSync(join(dir.path, 'big.png'), Buffer.alloc(2048));
    expect(() => readUserFileSync(join(dir.path, 'big.png'), 'image', 1024)).toThrow(/more than the/);

    // Through the CLI, as the user ran it: an error, not a hang.
    const data = join(dir.path, 'data');
    for (const path of ['/dev/zero', fifo, dir.path]) {
      const started = performance.now();
      const result = await argus('weights', 'import', path, '--data-dir', data);
      expect(result.code, path).toBe(1);
      expect(result.stderr).toMatch(/is (a character device|a pipe \(FIFO\)|a folder), not a file/);
      expect(performance.now() - started).toBeLessThan(30_000);
    }
    // A pipe among a folder's images gets an ERROR line of its own, not a stalled batch.
    const images = join(dir.path, 'images');
    mkdirSync(images);
    execFileSync('mkfifo', [join(images, 'camera.png')]);
    const model = { id: 1, thresholds: {}, config: {} } as never;
    const detector = { analyse: () => Promise.reject(new Error('not reached')) } as never;
    const { line } = await analyseFile(model, detector, join(images, 'camera.png'));
    expect(line.verdict).toBe('ERROR');
    expect(line.error).toMatch(/is a pipe \(FIFO\), not a file/);
    expect(readdirSync(images)).toEqual(['camera.png']);
  });
});

import { spawn } from 'node:child_process';
import fs, { readdirSync, readFileSync, utimesSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { Store } from '../store/store.ts';
import { hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile } from '../../test-support/fixtures.ts';

const REPO = join(import.meta.dirname, '../..');
const W = 128, H = 96;

/** Runs the CLI; with `killOn`, SIGKILLs it as soon as its stderr matches. */
function argus(args: string[], killOn?: RegExp): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killOn?.test(stderr)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function writeParts(dir: string, count: number): Promise<string[]> {
  const past = new Date(Date.now() - 60_000);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `part-${String(i).padStart(3, '0')}.png`;
    writeFile(join(dir, name), await pngOf(texture(W, H, 900 + i, i % 5 === 0 ? { x: 60, y: 40, r: 6 } : undefined), W, H));
    utimesSync(join(dir, name), past, past);
    names.push(name);
  }
  return names;
}

describe.skipIf(!hasShared)('crash safety of batch inspection and the hot folder (SIGKILL)', () => {
  const data = tempDir();
  const work = tempDir();

  beforeAll(async () => {
    const samples: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      writeFile(join(work.path, 'ds', `g${i}.png`), await pngOf(texture(W, H, i), W, H));
      samples.push({ file: `g${i}.png`, split: i < 4 ? 'train' : 'val', label: 'good' });
    }
    writeFile(join(work.path, 'ds', 'manifest.json'), JSON.stringify({ name: 'crash', classes: { 1: 'dent' }, samples }));
    const service = new ArgusService({ dataDir: data.path });
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const imported = await service.jobs.wait((await service.importDataset({ path: join(work.path, 'ds') })).id);
    const trained = await service.jobs.wait((await service.trainModel({
      mode: 'anomaly', datasetId: (imported.result as { datasetId: number }).datasetId, device: 'cpu', inputSize: [W, H], coresetSize: 200,
    })).id);
    await service.promoteModel({ modelId: (trained.result as { modelId: number }).modelId });
    await service.close();
  });
  afterAll(() => {
    data.cleanup();
    work.cleanup();
  });

  const historyOf = (dir: string): string[] => {
    const store = new Store(data.path);
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      return (store.db.prepare('SELECT source_path FROM inspections').all() as { source_path: string }[]).map((r) => r.source_path).filter((p) => p.startsWith(dir));
    } finally {
      store.close();
    }
  };

  it('a killed batch resumes: every file inspected once, every result line written once', async () => {
    const dir = join(work.path, 'batch');
    const names = await writeParts(dir, 30);
    const out = join(work.path, 'batch-out');
    const killed = await argus(['inspect', '--model', 'production', '--out', out, dir, '--data-dir', data.path], /inspecting [1-9]0%/);
    expect(killed.signal).toBe('SIGKILL');
    const partial = historyOf(dir).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(30);
    const resumed = await argus(['inspect', '--model', 'production', '--out', out, dir, '--data-dir', data.path]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const history = historyOf(dir);
    expect(history.length).toBe(30);
    expect(new Set(history).size).toBe(30);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).file as string);
    expect(new Set(lines)).toEqual(new Set(names.map((n) => join(dir, n))));
    expect(lines.length).toBe(30);
    expect(readdirSync(join(out, 'heatmaps'))).toHaveLength(30);
  });

  it('a killed hot folder restarts: every file inspected once and moved to its verdict folder', async () => {
    const dir = join(work.path, 'hot');
    const names = await writeParts(dir, 30);
    const args = ['watch', dir, '--once', '--sort', '--sidecar', '--log', join(work.path, 'hot.jsonl'), '--data-dir', data.path];
    const killed = await argus(args, /inspected [5-9]\b/);
    expect(killed.signal).toBe('SIGKILL');
    const restarted = await argus(args);
    expect(restarted.code, restarted.stderr).toBe(0);
    const history = historyOf(dir);
    expect(history.length).toBe(30);
    expect(new Set(history.map((p) => p.split('/').pop()))).toEqual(new Set(names));
    const sorted = ['OK', 'NG', 'REVIEW'].flatMap((v) => {
      try {
        return readdirSync(join(dir, v)).filter((f) => f.endsWith('.png'));
      } catch {
        return [];
      }
    });
    expect(sorted.sort()).toEqual(names);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toEqual([]);
    const logged = readFileSync(join(work.path, 'hot.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).file.split('/').pop());
    expect(new Set(logged)).toEqual(new Set(names));
  });

  it('flushes every file to disk before the commit or the mark that relies on it', async () => {
    const dir = join(work.path, 'ordered');
    await writeParts(dir, 3);
    const out = join(work.path, 'ordered-out');
    const events: string[] = [];
    // Intercept the file system where it flushes: FileHandle.sync (files) and fsyncSync (directories).
    const paths = new Map<number, string>();
    const original = { open: fsp.open, openSync: fs.openSync, fsyncSync: fs.fsyncSync };
    fsp.open = (async (path: string, ...rest: unknown[]) => {
      const handle = await (original.open as (...a: unknown[]) => Promise<fs.promises.FileHandle>)(path, ...rest);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        await sync();
        events.push(`sync ${String(path)}`);
      };
      return handle;
    }) as typeof fsp.open;
    fs.openSync = ((path: string, ...rest: unknown[]) => {
      const fd = (original.openSync as (...a: unknown[]) => number)(path, ...rest);
      paths.set(fd, String(path));
      return fd;
    }) as typeof fs.openSync;
    fs.fsyncSync = (fd: number) => {
      original.fsyncSync(fd);
      events.push(`sync ${paths.get(fd)}`);
    };
    syncBuiltinESMExports();
    const service = new ArgusService({ dataDir: data.path });
    const transaction = service.store.transaction.bind(service.store);
    service.store.transaction = <T>(fn: () => T): T => {
      const result = transaction(fn);
      events.push('commit');
      return result;
    };
    const sinksDone = service.store.processed.sinksDone.bind(service.store.processed);
    service.store.processed.sinksDone = (scope: string, path: string) => {
      events.push(`sinks done ${path}`);
      sinksDone(scope, path);
    };
    try {
      const job = await service.jobs.wait((await service.inspectFiles({ model: 'production', paths: [dir], outDir: out, device: 'cpu' })).id);
      expect(job.state, job.error?.message).toBe('succeeded');
    } finally {
      Object.assign(fs, { openSync: original.openSync, fsyncSync: original.fsyncSync });
      fsp.open = original.open;
      syncBuiltinESMExports();
      await service.close();
    }
    const records = historyOf(dir).length;
    expect(records).toBe(3);
    const blobsDir = join(data.path, 'blobs');
    let checked = 0;
    events.forEach((event, i) => {
      const before = events.slice(0, i);
      if (event === 'commit') {
        // Every blob file this inspection stores was flushed, and so was its shard folder (the rename).
        const lastCommit = before.lastIndexOf('commit');
        const since = before.slice(lastCommit + 1);
        const blobFiles = since.filter((e) => e.startsWith(`sync ${blobsDir}/`) && e.endsWith('.tmp'));
        for (const file of blobFiles) {
          const shard = file.slice('sync '.length).split('/').slice(0, -1).join('/');
          expect(since.indexOf(`sync ${shard}`), shard).toBeGreaterThan(since.indexOf(file));
        }
        checked++;
      }
      if (event.startsWith('sinks done ')) {
        const file = event.slice('sinks done '.length);
        const stem = file.split('/').pop()!.replace(/\.png$/, '');
        const lastCommit = before.lastIndexOf('commit');
        const since = before.slice(lastCommit + 1);
        expect(since.some((e) => e.startsWith(`sync ${join(out, 'heatmaps', stem)}.png.`)), `heatmap of ${stem}`).toBe(true);
        expect(since.includes(`sync ${join(out, 'heatmaps')}`), 'heatmap folder').toBe(true);
        expect(since.includes(`sync ${join(out, 'results.jsonl')}`), 'results line').toBe(true);
        checked++;
      }
    });
    expect(checked).toBeGreaterThanOrEqual(6);
    // The database commits with synchronous=FULL.
    const store = new Store(data.path);
    try {
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      store.close();
    }
  });
});

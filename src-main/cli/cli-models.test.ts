import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile, writeGoodParts } from '../../test-support/fixtures.ts';

const REPO = join(import.meta.dirname, '../..');
const argus = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, maxBuffer: 1 << 24 })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

describe.skipIf(!hasShared)('argus train / model / inspect / eval', () => {
  const data = tempDir();
  const work = tempDir();
  const W = 128, H = 96;
  let modelId: number;

  beforeAll(async () => {
    await writeGoodParts(join(work.path, 'ds'), { name: 'cli-line', width: W, height: H, train: 6, val: 2 });
    // The line's images: a clean part, a blemished one, and a broken file.
    writeFile(join(work.path, 'line', 'part-ok.png'), await pngOf(texture(W, H, 77), W, H));
    writeFile(join(work.path, 'line', 'part-dent.png'), await pngOf(texture(W, H, 78, { x: 70, y: 40, r: 7 }), W, H));
    writeFile(join(work.path, 'line', 'broken.jpg'), Buffer.from('not really a jpeg'));
  });
  afterAll(() => {
    data.cleanup();
    work.cleanup();
  });

  it('trains from a folder and prints the model id (with --json: id, metrics, seconds)', async () => {
    const trained = await argus('train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '200', '--json', '--data-dir', data.path);
    expect(trained.code, trained.stderr).toBe(0);
    const result = JSON.parse(trained.stdout);
    expect(result).toMatchObject({ id: 1, metrics: { validation: { good: 2, defective: 0 } } });
    expect(result.seconds).toBeGreaterThan(0);
    modelId = result.id;
    const plain = await argus('model', 'list', '--data-dir', data.path);
    expect(plain.stdout).toMatch(/^1\s+anomaly cli-line\s+anomaly\s+candidate\s+-\s/m);
  });

  it('refuses an ignored border that is not a whole number of pixels', async () => {
    const run = await argus('train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--border', '2.5', '--data-dir', data.path);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--border must be a positive integer, not "2.5"/);
  });

  it('inspects a folder with the production model: results.jsonl, 16-bit heatmaps, history, per-file errors', async () => {
    const notYet = await argus('inspect', '--model', 'production', '--out', join(work.path, 'out'), join(work.path, 'line'), '--data-dir', data.path);
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/No model version is in production yet/);
    expect((await argus('model', 'promote', String(modelId), '--data-dir', data.path)).stdout).toMatch(/is now in production/);

    const out = join(work.path, 'out');
    const run = await argus('inspect', '--model', 'production', '--out', out, join(work.path, 'line'), '--data-dir', data.path);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Inspected 3: .*1 errors/);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file.split('/').pop())).toEqual(['broken.jpg', 'part-dent.png', 'part-ok.png']);
    expect(lines[0]).toMatchObject({ verdict: 'ERROR', score: null, regions: [] });
    expect(lines[0].error).toMatch(/Not an image file/);
    const [dent, ok] = [lines[1], lines[2]];
    for (const line of [dent, ok]) {
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['file', 'score', 'verdict', 'regions', 'ms']));
      expect(line.score).toBeGreaterThanOrEqual(0);
      expect(line.score).toBeLessThanOrEqual(1);
    }
    expect(dent.verdict).toBe('NG');
    expect(dent.score).toBeGreaterThan(ok.score);
    expect(ok.verdict).toBe('OK');
    const [x1, y1, x2, y2] = dent.regions[0].box;
    expect(x1 <= 70 && 70 < x2 && y1 <= 40 && 40 < y2).toBe(true);
    expect(dent.regions[0]).toMatchObject({ class: 'anomaly', area: expect.any(Number), score: expect.any(Number), mean_score: expect.any(Number) });
    expect(dent.regions[0].mean_score).toBeLessThanOrEqual(dent.regions[0].score);
    expect(dent.regions[0].mean_score).toBeGreaterThanOrEqual(0.5);

    const heatmap = await sharp(join(out, 'heatmaps', 'part-dent.png')).metadata();
    expect(heatmap).toMatchObject({ width: W, height: H, depth: 'ushort', channels: 1 });

    const history = JSON.parse((await argus('history', 'export', '--format', 'json', '--data-dir', data.path)).stdout);
    expect(history.map((h: { verdict: string }) => h.verdict).sort()).toEqual(['ERROR', 'NG', 'OK']);
    expect(history.every((h: { modelVersionId: number }) => h.modelVersionId === modelId)).toBe(true);
  });

  it('evaluates a model on a split and refuses bad arguments', async () => {
    const evaluated = await argus('eval', '--model', String(modelId), '--dataset', 'cli-line', '--split', 'val', '--json', '--data-dir', data.path);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ modelId, split: 'val', images: 2, good: 2, defective: 0, false_reject_rate: 0 });
    const table = await argus('eval', '--model', String(modelId), '--dataset', 'cli-line', '--split', 'val', '--data-dir', data.path);
    expect(table.stdout).toMatch(/^false_reject_rate\s+0$/m);
    expect(table.stdout).not.toMatch(/object Object|image_scores/);
    expect((await argus('eval', '--model', '99', '--dataset', 'cli-line', '--data-dir', data.path)).stderr).toMatch(/No model version 99/);
    const unknownMode = await argus('train', '--mode', 'ocr', '--dataset', 'cli-line', '--data-dir', data.path);
    expect(unknownMode.code).toBe(2);
    expect(unknownMode.stderr).toMatch(/Mode ocr is not available; use --mode anomaly, --mode segment, --mode detect, --mode classify/);
    writeFileSync(join(work.path, 'fake.safetensors'), 'nope');
    expect((await argus('weights', 'import', join(work.path, 'fake.safetensors'), '--data-dir', data.path)).stderr).toMatch(/not a valid safetensors file/);
  });

  it('makes an int8 version with model optimize and lists it with its precision', async () => {
    const both = await argus('model', 'optimize', String(modelId), '--int8', '--fp16', '--data-dir', data.path);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/Choose one of --int8 or --fp16/);
    expect((await argus('model', 'optimize', String(modelId), '--int8', '--weight-bits', '9', '--data-dir', data.path)).stderr).toMatch(/--weight-bits must be 7 or 8/);
    const optimized = await argus('model', 'optimize', String(modelId), '--int8', '--method', 'minmax', '--device', 'cpu', '--json', '--data-dir', data.path);
    expect(optimized.code, optimized.stderr).toBe(0);
    const result = JSON.parse(optimized.stdout);
    // The val split has only good images: image AUROC cannot be measured for either version.
    expect(result).toMatchObject({ modelId: 2, guard: { split: 'val', parent: { image_auroc: null }, optimized: { image_auroc: null } } });
    const listed = await argus('model', 'list', '--data-dir', data.path);
    expect(listed.stdout).toMatch(/^2\s+anomaly cli-line int8\s+anomaly\s+candidate\s+-\s+\S+\s+int8( \(blocked\))?$/m);
    expect(listed.stdout).toMatch(/^1\s+anomaly cli-line\s+anomaly\s+production\s+-\s+\S+\s+fp32$/m);
  });
});

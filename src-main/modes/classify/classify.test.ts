import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blemishes, DETECT_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, writeDetectionDataset, writeFile } from '../../../test-support/fixtures.ts';
import { classWeightsFrom, imageClassOf } from './data.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';

const REPO = join(import.meta.dirname, '../../..');
const argus = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, maxBuffer: 1 << 24 })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

const sample = (label: DatasetSample['label'], classes: number[]): DatasetSample => ({
  imageId: 1, sha256: '', file: 'x.png', width: 10, height: 10, split: 'train', label, group: null, masks: [], polygons: [], imageClasses: [],
  boxes: classes.map((classIndex) => ({ box: [0, 0, 1, 1], classIndex, imported: true })),
});

describe('image classes for a classifier', () => {
  it('takes "good" first when there is a good class, and a defective image\'s most frequent region class', () => {
    expect(imageClassOf(sample('good', []), true)).toBe(0);
    expect(imageClassOf(sample('good', []), false)).toBeNull();
    expect(imageClassOf(sample('defect', [2, 3, 3]), true)).toBe(3);
    expect(imageClassOf(sample('defect', [2, 3, 3]), false)).toBe(2);
    expect(imageClassOf(sample('defect', []), true)).toBeNull();
    expect(imageClassOf(sample('unlabeled', []), true)).toBeNull();
  });

  it('weighs rare classes more, at most 10×', () => {
    expect(classWeightsFrom([400, 100, 1, 0])).toEqual([1, 2, 10, 1]);
  });
});

describe.skipIf(!hasShared)('argus train --mode classify', () => {
  const data = tempDir('argus-classify-');
  const work = tempDir('argus-classify-work-');
  beforeAll(async () => {
    await writeDetectionDataset(join(work.path, 'ds'));
    const { width: W, height: H } = DETECT_IMAGE;
    writeFile(join(work.path, 'line', 'part-blemish.png'), await pngOf(blemishes(W, H, 901, [{ x: 60, y: 48, r: 9 }]), W, H));
    writeFile(join(work.path, 'line', 'part-clean.png'), await pngOf(blemishes(W, H, 902, []), W, H));
  });
  afterAll(() => {
    data.cleanup();
    work.cleanup();
  });

  it('fine-tunes a classifier, evaluates it (accuracy, per class, confusion) and inspects with its class activation map', async () => {
    const trained = await argus('train', '--mode', 'classify', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu',
      '--epochs', '2', '--batch', '4', '--steps-per-epoch', '4', '--json', '--data-dir', data.path);
    expect(trained.code, trained.stderr).toBe(0);
    const model = JSON.parse(trained.stdout) as { id: number; metrics: { validation: { accuracy: number } } };
    expect(model.metrics.validation.accuracy).toBeGreaterThanOrEqual(0);
    const list = JSON.parse((await argus('model', 'list', '--json', '--data-dir', data.path)).stdout) as { id: number; mode: string; classes: string[]; config: { inputWidth: number; inputHeight: number } }[];
    expect(list[0]).toMatchObject({ mode: 'classify', classes: ['good', 'blemish'], config: { inputWidth: 128, inputHeight: 96 } });

    const evaluated = JSON.parse((await argus('eval', '--model', String(model.id), '--dataset', 'blemish-boxes', '--split', 'val', '--json', '--data-dir', data.path)).stdout);
    expect(evaluated.confusion.labels).toEqual(['good', 'blemish']);
    expect(evaluated.confusion.counts.flat().reduce((a: number, b: number) => a + b, 0)).toBe(8);
    expect(evaluated.accuracy).toBe((evaluated.confusion.counts[0][0] + evaluated.confusion.counts[1][1]) / 8);
    expect(Object.keys(evaluated.per_class)).toEqual(['good', 'blemish']);

    expect((await argus('model', 'promote', String(model.id), '--data-dir', data.path)).code).toBe(0);
    const out = join(work.path, 'out');
    const inspected = await argus('inspect', '--model', 'production', '--out', out, '--device', 'cpu', join(work.path, 'line'), '--data-dir', data.path);
    expect(inspected.code, inspected.stderr).toBe(0);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; score: number; raw_score: number; verdict: string; regions: { class: string }[] });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.raw_score).toBeGreaterThanOrEqual(0);
      expect(line.raw_score).toBeLessThanOrEqual(1);
      for (const region of line.regions) expect(region.class).toBe('blemish');
    }
  }, 300_000);
});

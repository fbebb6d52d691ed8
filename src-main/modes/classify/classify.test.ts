import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blemishes, DETECT_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, writeDetectionDataset, writeFile } from '../../../test-support/fixtures.ts';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../model/onnx-graph.ts';
import { classWeightsFrom, imageClassOf, imageClassSetOf, multiLabelTargets, positiveWeightsFrom } from './data.ts';
import { binaryCrossEntropy } from './network.ts';
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

  it('multi-label: every class an image carries (its class labels, else its regions\' classes), none for a good image', () => {
    expect(imageClassSetOf(sample('good', []))).toEqual([]);
    expect(imageClassSetOf(sample('defect', [3, 1, 3]))).toEqual([0, 2]);
    expect(imageClassSetOf({ ...sample('defect', [1]), imageClasses: [2, 4] })).toEqual([1, 3]);
    expect(imageClassSetOf(sample('defect', []))).toBeNull();
    expect(imageClassSetOf(sample('unlabeled', [1]))).toBeNull();
  });

  it('multi-label targets: smoothed labels times the positive weight, and their complement; rarer classes weigh more, between 1 and 10', () => {
    const [positive, negative] = multiLabelTargets([1], 3, 0.1, [1, 4, 1]);
    expect([...positive].map((v) => +v.toFixed(4))).toEqual([0.05, 3.8, 0.05]);
    expect([...negative].map((v) => +v.toFixed(4))).toEqual([0.95, 0.05, 0.95]);
    expect(positiveWeightsFrom([50, 10, 1, 0, 80], 101)).toEqual([Math.sqrt(51 / 50), Math.sqrt(91 / 10), 10, 1, 1]);
  });
});

describe('multi-label loss', () => {
  it('is the weighted binary cross-entropy of the sigmoid outputs, stable for large logits', async () => {
    const logits = [2.5, -1, 0, 40, -40, 0.3];
    const positive = [0.95, 0.05, 2, 1, 0, 0.5];
    const negative = [0.05, 0.95, 0, 0, 1, 0.5];
    const g = new GraphBuilder('bce');
    const [x, p, n] = ['x', 'p', 'n'].map((name) => g.input(name, 'float32', [2, 3]));
    g.output(binaryCrossEntropy(g, x, p, n), 'loss');
    const session = await ort.InferenceSession.create(g.toBytes());
    const feed = (v: number[]) => new ort.Tensor('float32', Float32Array.from(v), [2, 3]);
    const { loss } = await session.run({ x: feed(logits), p: feed(positive), n: feed(negative) });
    await session.release();
    const logSigmoid = (v: number) => -Math.log1p(Math.exp(-v));
    const expected = -logits.reduce((sum, v, i) => sum + positive[i] * logSigmoid(v) + negative[i] * logSigmoid(-v), 0) / 2;
    expect(Number.isFinite((loss.data as Float32Array)[0])).toBe(true);
    expect((loss.data as Float32Array)[0]).toBeCloseTo(expected, 4);
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

describe.skipIf(!hasShared)('argus train --mode classify --multi-label', () => {
  const data = tempDir('argus-multilabel-');
  const work = tempDir('argus-multilabel-work-');
  const { width: W, height: H } = DETECT_IMAGE;
  /** A part with dark blemishes and/or a bright streak across it. */
  const part = (seed: number, blemish: boolean, streak: boolean): Buffer => {
    const raw = blemishes(W, H, seed, blemish ? [{ x: 30 + (seed % 50), y: 30 + (seed % 30), r: 9 }] : []);
    if (streak) for (let y = 70; y < 76; y++) for (let x = 10; x < W - 10; x++) raw.fill(235, (y * W + x) * 3, (y * W + x) * 3 + 3);
    return raw;
  };
  const kinds: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
  beforeAll(async () => {
    const samples: unknown[] = [];
    for (let i = 0; i < 24; i++) {
      const [blemish, streak] = kinds[i % 4];
      const split = i < 16 ? 'train' : 'val';
      const file = `${split}/p${i}.png`;
      writeFile(join(work.path, 'ds', file), await pngOf(part(300 + i, blemish, streak), W, H));
      const names = [...(blemish ? ['blemish'] : []), ...(streak ? ['streak'] : [])];
      samples.push({ file, split, label: names.length ? 'defect' : 'good', ...(names.length ? { image_class: names.length === 1 ? names[0] : names } : {}) });
    }
    writeFile(join(work.path, 'ds', 'manifest.json'), JSON.stringify({ name: 'two-defects', classes: { 1: 'blemish', 2: 'streak' }, samples }));
    writeFile(join(work.path, 'line', 'both.png'), await pngOf(part(999, true, true), W, H));
  });
  afterAll(() => {
    data.cleanup();
    work.cleanup();
  });

  it('imports several classes per image, trains one sigmoid per class, evaluates label sets and inspects with independent probabilities', async () => {
    const trained = await argus('train', '--mode', 'classify', '--multi-label', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu',
      '--epochs', '2', '--batch', '4', '--steps-per-epoch', '4', '--false-reject-rate', '0.25', '--json', '--data-dir', data.path);
    expect(trained.code, trained.stderr).toBe(0);
    const model = JSON.parse(trained.stdout) as { id: number; metrics: { validation: { accuracy: number } } };
    expect(model.metrics.validation.accuracy).toBeGreaterThanOrEqual(0);
    const list = JSON.parse((await argus('model', 'list', '--json', '--data-dir', data.path)).stdout) as { classes: string[]; config: { multiLabel: boolean; hasGood: boolean }; thresholds: { method: string } }[];
    expect(list[0]).toMatchObject({ classes: ['blemish', 'streak'], config: { multiLabel: true, hasGood: false } });
    // A false-reject target puts the NG threshold at that quantile of the good val images' scores.
    expect(list[0].thresholds.method).toBe('good-quantile');

    const evaluated = JSON.parse((await argus('eval', '--model', String(model.id), '--dataset', 'two-defects', '--split', 'val', '--json', '--data-dir', data.path)).stdout);
    expect(evaluated.confusion.labels).toEqual(['good', 'blemish', 'streak']);
    // The two val images with both defects are counted once per labelled class.
    expect(Object.fromEntries(Object.entries(evaluated.per_class as Record<string, { images: number }>).map(([k, v]) => [k, v.images]))).toEqual({ good: 2, blemish: 4, streak: 4 });

    // The dataset goes out with each image's class list and comes back the same.
    const exported = join(work.path, 'exported');
    expect((await argus('dataset', 'export', 'two-defects', '--out', exported, '--data-dir', data.path)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(exported, 'manifest.json'), 'utf8')) as { samples: { file: string; image_class?: string | string[] }[] };
    expect(manifest.samples.find((s) => s.file === 'train/p3.png')?.image_class).toEqual(['blemish', 'streak']);
    expect(manifest.samples.find((s) => s.file === 'train/p1.png')?.image_class).toBe('blemish');

    expect((await argus('model', 'promote', String(model.id), '--data-dir', data.path)).code).toBe(0);
    const out = join(work.path, 'out');
    const inspected = await argus('inspect', '--model', 'production', '--out', out, '--device', 'cpu', join(work.path, 'line'), '--data-dir', data.path);
    expect(inspected.code, inspected.stderr).toBe(0);
    const [line] = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { raw_score: number; class_probabilities: Record<string, number>; regions: { class: string }[] });
    expect(Object.keys(line.class_probabilities).sort()).toEqual(['blemish', 'streak']);
    // Independent sigmoids: the score is the highest of them.
    expect(line.raw_score).toBeCloseTo(Math.max(...Object.values(line.class_probabilities)), 5);
    for (const region of line.regions) expect(['blemish', 'streak']).toContain(region.class);
  }, 300_000);
});

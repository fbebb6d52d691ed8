import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../../app/service.ts';
import type { AdaptModelResult, InspectFilesResult } from '../../contract/contract.ts';
import { groupThresholds, thresholdsFor } from '../../analysis/thresholds.ts';
import { hasShared, pngOf, SHARED_WEIGHTS, speckledTexture, tempDir, texture, writeFile } from '../../../test-support/fixtures.ts';

const W = 128, H = 96;

const stationB = (seed: number, blemish?: { x: number; y: number; r: number }): Buffer => speckledTexture(W, H, seed, blemish);

describe('group thresholds', () => {
  const model = { method: 'f1' as const, image: { ng: 4, review: 3, goodMedian: 2 }, pixel: { threshold: 1, goodMedian: 0.5 } };

  const both = (scores: number[]): { adapted: number[]; unadapted: number[] } => ({ adapted: scores, unadapted: scores });

  it('a few frames move the model-wide level; enough frames give the group its own quantile', () => {
    const few = groupThresholds(model, both([3, 3.2, 2.8]));
    expect(few).toMatchObject({ method: 'good-level', frames: 3, falseRejectRate: 0.005 });
    expect(few.image.ng).toBeCloseTo(6, 9);
    expect(few.image.goodMedian).toBeCloseTo(3, 9);
    expect(few.pixel.threshold).toBeCloseTo(1.5, 9);
    const scores = Array.from({ length: 200 }, (_, i) => 10 + i / 100);
    const many = groupThresholds(model, both(scores), 0.01);
    expect(many.method).toBe('good-quantile');
    // Two of 200 good frames (1 %) lie above it.
    expect(scores.filter((s) => s >= many.image.ng)).toHaveLength(2);
  });

  it('the level moves only where both estimates agree on the direction, and only as far as the nearer one', () => {
    // Both below the model's good median (2): lowered to the higher estimate.
    expect(groupThresholds(model, { adapted: [1, 1.2, 0.9], unadapted: [1.5, 1.6, 1.4] }).image.ng).toBeCloseTo(4 * 0.75, 9);
    // Both above: raised to the lower estimate.
    expect(groupThresholds(model, { adapted: [2.4, 2.5, 2.6], unadapted: [3, 3, 3] }).image.ng).toBeCloseTo(4 * 1.25, 9);
    // Leave-one-out frames below, the unadapted bank above: the model-wide thresholds stand.
    expect(groupThresholds(model, { adapted: [1, 1.2, 0.9], unadapted: [2.2, 2.4, 2.1] }).image).toEqual(model.image);
  });

  it('an image of a group the model does not know is judged model-wide', () => {
    const withGroup = { ...model, groups: { B: groupThresholds(model, { adapted: [3], unadapted: [3] }) } };
    expect(thresholdsFor(withGroup, 'B').image.ng).toBeCloseTo(6, 9);
    expect(thresholdsFor(withGroup, 'C')).toBe(withGroup);
    expect(thresholdsFor(withGroup, undefined)).toBe(withGroup);
  });
});

describe.skipIf(!hasShared)('adapting an anomaly model to a second station', () => {
  const data = tempDir();
  const work = tempDir();
  let service: ArgusService;
  let parentId: number;
  let datasetId: number;
  let adapted: AdaptModelResult;
  const blemish = { x: 64, y: 48, r: 9 };

  const inspect = async (model: number, paths: string[], group?: string): Promise<{ file: string; verdict: string; score: number; group?: string }[]> => {
    const job = await service.jobs.wait((await service.inspectFiles({ model, paths, device: 'cpu', group, outDir: join(work.path, `out-${Math.random()}`) })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    return readFileSync((job.result as InspectFilesResult).resultsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  };

  beforeAll(async () => {
    const samples: unknown[] = [];
    const add = async (file: string, split: string, seed: number, defect?: { x: number; y: number; r: number }) => {
      writeFile(join(work.path, 'ds', file), await pngOf(texture(W, H, seed, defect), W, H));
      samples.push({ file, split, label: defect ? 'defect' : 'good' });
    };
    for (let i = 0; i < 6; i++) await add(`train/g${i}.png`, 'train', i);
    for (let i = 0; i < 3; i++) await add(`val/g${i}.png`, 'val', 100 + i);
    for (let i = 0; i < 2; i++) await add(`val/d${i}.png`, 'val', 200 + i, { x: 40 + 40 * i, y: 40, r: 7 });
    writeFile(join(work.path, 'ds', 'manifest.json'), JSON.stringify({ name: 'station-a', classes: { 1: 'blemish' }, samples }));
    for (let i = 0; i < 3; i++) writeFile(join(work.path, 'b-frames', `f${i}.png`), await pngOf(stationB(300 + i), W, H));
    for (let i = 0; i < 2; i++) writeFile(join(work.path, 'b-line', `good${i}.png`), await pngOf(stationB(400 + i), W, H));
    writeFile(join(work.path, 'b-line', 'blemish.png'), await pngOf(stationB(410, blemish), W, H));
    writeFile(join(work.path, 'a-line', 'good.png'), await pngOf(texture(W, H, 500), W, H));
    writeFile(join(work.path, 'a-line', 'blemish.png'), await pngOf(texture(W, H, 501, blemish), W, H));

    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const imported = await service.jobs.wait((await service.importDataset({ path: join(work.path, 'ds') })).id);
    datasetId = (imported.result as { datasetId: number }).datasetId;
    const trained = await service.jobs.wait((await service.trainModel({ mode: 'anomaly', datasetId, device: 'cpu', inputSize: [W, H], coresetSize: 200 })).id);
    expect(trained.state, JSON.stringify(trained.error)).toBe('succeeded');
    parentId = (trained.result as { modelId: number }).modelId;
    // Two defective validation images are too few to choose on: the plain recipe, and the model says so.
    expect(service.store.models.get(parentId).config).toMatchObject({ heatmapAboveMedian: false, preprocessingReason: expect.stringMatching(/^the plain recipe/) });
    expect(service.store.models.get(parentId).config.colourReference).toBeUndefined();
  });
  afterAll(async () => {
    await service?.close();
    data.cleanup();
    work.cleanup();
  });

  it('the first station\'s model rejects the second station\'s good parts', async () => {
    const lines = await inspect(parentId, [join(work.path, 'b-line')]);
    expect(lines.filter((l) => l.file.includes('good')).map((l) => l.verdict)).toContain('NG');
  });

  it('learns the station from three good frames in a child version, with the group\'s thresholds', async () => {
    const job = await service.jobs.wait((await service.adaptModel({ modelId: parentId, group: 'B', paths: [join(work.path, 'b-frames')], device: 'cpu' })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    adapted = job.result as AdaptModelResult;
    expect(adapted).toMatchObject({ group: 'B', frames: 3, thresholds: { method: 'good-level', frames: 3 } });
    expect(adapted.fromGroup).toBeGreaterThan(0);
    // The frames joined at training's coreset rate, within twice the training bank.
    expect(adapted.bankSize).toBe(200 + adapted.fromGroup);
    expect(adapted.bankSize).toBeLessThanOrEqual(400);
    const parent = service.store.models.get(parentId);
    const child = service.store.models.get(adapted.modelId);
    expect(child).toMatchObject({ parentId, status: 'candidate', mode: 'anomaly' });
    const sha = (m: typeof child, role: string) => m.files.find((f) => f.role === role)?.sha256;
    expect(sha(child, 'features.onnx')).toBe(sha(parent, 'features.onnx'));
    expect(sha(child, 'scorer.onnx')).not.toBe(sha(parent, 'scorer.onnx'));
    expect(child.thresholds.image).toEqual(parent.thresholds.image);
    expect(Object.keys(child.thresholds.groups ?? {})).toEqual(['B']);
    expect(child.config.adaptations).toMatchObject([{ group: 'B', frames: 3 }]);
    expect((await service.listAuditLog({}))[0]).toMatchObject({ action: 'model.adapt', target: `model:${adapted.modelId}` });
  });

  it('passes the second station\'s unseen good parts and still rejects a blemish on them and on the first station', async () => {
    const b = await inspect(adapted.modelId, [join(work.path, 'b-line')], 'B');
    expect(b.every((l) => l.group === 'B')).toBe(true);
    const verdict = (lines: typeof b, name: string) => lines.find((l) => l.file.endsWith(name))!.verdict;
    expect(verdict(b, 'good0.png')).not.toBe('NG');
    expect(verdict(b, 'good1.png')).not.toBe('NG');
    expect(verdict(b, 'blemish.png')).toBe('NG');
    const a = await inspect(adapted.modelId, [join(work.path, 'a-line')]);
    expect(a.every((l) => l.group === undefined)).toBe(true);
    expect(verdict(a, 'good.png')).not.toBe('NG');
    expect(verdict(a, 'blemish.png')).toBe('NG');
  });

  it('a hot folder judges images in a subfolder named after a group by that group\'s thresholds', async () => {
    writeFile(join(work.path, 'hot', 'B', 'part.png'), await pngOf(stationB(420), W, H));
    writeFile(join(work.path, 'hot', 'other', 'part.png'), await pngOf(texture(W, H, 421), W, H));
    // Written a while ago: a single pass takes only files that have stopped changing.
    const past = new Date(Date.now() - 60_000);
    for (const sub of ['B', 'other']) utimesSync(join(work.path, 'hot', sub, 'part.png'), past, past);
    const job = await service.jobs.wait((await service.watchFolder({ folder: join(work.path, 'hot'), model: adapted.modelId, device: 'cpu', once: true, log: join(work.path, 'hot.jsonl') })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const lines = readFileSync(join(work.path, 'hot.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.file.includes('/B/'))).toMatchObject({ group: 'B' });
    expect(lines.find((l) => l.file.includes('/other/')).group).toBeUndefined();
    const stored = (await service.listInspections({ modelVersionId: adapted.modelId })).items.find((r) => r.sourcePath.includes('/B/'));
    expect(stored?.thresholds.group).toBe('B');
  });

  it('adapts every level of a model trained at its images\' own scale (a scale pyramid)', async () => {
    const trained = await service.jobs.wait((await service.trainModel({ mode: 'anomaly', datasetId, device: 'cpu', coresetSize: 200 })).id);
    expect(trained.state, JSON.stringify(trained.error)).toBe('succeeded');
    const pyramid = service.store.models.get((trained.result as { modelId: number }).modelId);
    expect((pyramid.config.levels as { factor: number }[]).map((l) => l.factor)).toEqual([1, 0.5]);
    const job = await service.jobs.wait((await service.adaptModel({ modelId: pyramid.id, group: 'B', paths: [join(work.path, 'b-frames')], device: 'cpu' })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as AdaptModelResult;
    const child = service.store.models.get(result.modelId);
    const sha = (m: typeof child, role: string) => m.files.find((f) => f.role === role)?.sha256;
    for (const role of ['scorer.onnx', 'scorer.1.onnx']) expect(sha(child, role)).not.toBe(sha(pyramid, role));
    const levels = child.config.levels as { factor: number; bankSize: number; typicalScore: number }[];
    const parentLevels = pyramid.config.levels as typeof levels;
    // Each level's bank grew from the frames; the typical scores stay the parent's.
    levels.forEach((level, k) => expect(level.bankSize).toBeGreaterThan(parentLevels[k].bankSize));
    expect(levels.map((l) => l.typicalScore)).toEqual(parentLevels.map((l) => l.typicalScore));
    expect(child.config.bankSize).toBe(levels[0].bankSize);
    expect(result.bankSize).toBe(levels[0].bankSize + levels[1].bankSize);

    const b = await inspect(child.id, [join(work.path, 'b-line')], 'B');
    const verdict = (name: string) => b.find((l) => l.file.endsWith(name))!.verdict;
    expect(verdict('good0.png')).not.toBe('NG');
    expect(verdict('good1.png')).not.toBe('NG');
    expect(verdict('blemish.png')).toBe('NG');
  });

  it('refuses what it cannot adapt, with the reason', async () => {
    await expect(service.adaptModel({ modelId: parentId, group: 'B', paths: [join(work.path, 'a-line', 'missing')] })).rejects.toThrow(/No such file/);
    await expect(service.adaptModel({ modelId: parentId, group: '../B', paths: [join(work.path, 'b-frames')] })).rejects.toThrow(/Group name/);
    await expect(service.adaptModel({ modelId: parentId, group: 'B', paths: [join(work.path, 'empty')] })).rejects.toThrow(/No such file|No good frames/);
  });
});

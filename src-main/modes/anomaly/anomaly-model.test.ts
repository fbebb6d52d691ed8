import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../../app/service.ts';
import { decodeRgb, type RgbImage } from '../../images/preprocess.ts';
import { hasShared, jpegOf, pngBomb, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile } from '../../../test-support/fixtures.ts';
import { heatmapPeak } from '../../analysis/heatmap-peak.ts';
import { type AnomalyAnalysis, judge } from '../../analysis/analysis.ts';
import { loadDetector } from '../../inspection/load-detector.ts';
import { join } from 'node:path';

/**
 * A model learned from a few images of a striped texture must light up a dark blemish planted
 * on an unseen image, at the blemish, and pass an unseen clean image.
 */
/** Pixels from the heatmap's maximum to the blemish's centre. */
function peakDistance(analysis: AnomalyAnalysis, blemish: { x: number; y: number }): number {
  const peak = heatmapPeak(analysis.heatmap, analysis.width);
  return Math.hypot(peak.x - blemish.x, peak.y - blemish.y);
}

/** The synthetic texture as a decoded image, as inspection would receive it. */
async function textureImage(width: number, height: number, seed: number, blemish?: { x: number; y: number; r: number }): Promise<RgbImage> {
  return decodeRgb(await pngOf(texture(width, height, seed, blemish), width, height));
}

describe.skipIf(!hasShared)('anomaly model on a synthetic texture', () => {
  const data = tempDir();
  const dataset = tempDir();
  let service: ArgusService;
  let modelId: number;
  let datasetId: number;
  const W = 160, H = 96;
  const edgeBlemish = { x: 3, y: 50, r: 6 };
  // A part three times the training size, analysed in tiles at the training scale.
  const big = { width: 3 * W, height: 3 * H };
  const bigBlemish = { x: 400, y: 210, r: 6 };

  beforeAll(async () => {
    const samples: unknown[] = [];
    const add = async (file: string, split: string, seed: number, blemish?: { x: number; y: number; r: number }) => {
      writeFile(join(dataset.path, file), await pngOf(texture(W, H, seed, blemish), W, H));
      samples.push({ file, split, label: blemish ? 'defect' : 'good' });
    };
    for (let i = 0; i < 8; i++) await add(`train/g${i}.png`, 'train', i);
    // Five of each: enough for training to choose colour matching and the heatmap on validation.
    for (let i = 0; i < 5; i++) await add(`val/g${i}.png`, 'val', 100 + i);
    for (let i = 0; i < 5; i++) await add(`val/d${i}.png`, 'val', 200 + i, { x: 40 + 20 * i, y: 20 + 12 * i, r: 7 });
    writeFile(join(dataset.path, 'manifest.json'), JSON.stringify({ name: 'texture', classes: { 1: 'blemish' }, samples }));
    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const imported = await service.jobs.wait((await service.importDataset({ path: dataset.path })).id);
    datasetId = (imported.result as { datasetId: number }).datasetId;
    const job = await service.jobs.wait((await service.trainModel({ mode: 'anomaly', datasetId, device: 'cpu', inputSize: [W, H], coresetSize: 256 })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    modelId = (job.result as { modelId: number }).modelId;
  });
  afterAll(async () => {
    await service?.close();
    data.cleanup();
    dataset.cleanup();
  });

  it('registers a candidate version with files, snapshot, thresholds and validation metrics', async () => {
    const [model] = await service.listModels({});
    expect(model).toMatchObject({ id: modelId, mode: 'anomaly', status: 'candidate', classes: ['anomaly'] });
    expect(model.files.map((f) => f.role)).toEqual(['features.onnx', 'scorer.onnx']);
    expect(model.snapshotId).not.toBeNull();
    expect((model.metrics.validation as { image_auroc: number }).image_auroc).toBe(1);
    // Validation holds five good and five defective images: training measured the four
    // preprocessings on them and says which it kept.
    expect(String(model.config.preprocessingReason).split('(measured: ')[1].match(/image AUROC/g)).toHaveLength(4);
    expect(model.config.preprocessingReason).toMatch(/^chosen on validation/);
    expect((await service.listAuditLog({}))[0]).toMatchObject({ action: 'model.train', target: `model:${modelId}` });
  });

  it('gives a model trained at its images\' own scale a scale pyramid that finds the blemish and passes a clean part', async () => {
    const job = await service.jobs.wait((await service.trainModel({ mode: 'anomaly', datasetId, device: 'cpu', coresetSize: 256 })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const model = service.store.models.get((job.result as { modelId: number }).modelId);
    expect(model.files.map((f) => f.role).sort()).toEqual(['features.onnx', 'scorer.1.onnx', 'scorer.onnx']);
    const levels = model.config.levels as { factor: number; bankSize: number; typicalScore: number }[];
    expect(levels.map((l) => l.factor)).toEqual([1, 0.5]);
    expect(levels[0].bankSize).toBe(model.config.bankSize);
    for (const level of levels) expect(level.typicalScore).toBeGreaterThan(0);
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const blemish = { x: 118, y: 64, r: 6 };
      const defective = await detector.analyse(await textureImage(W, H, 999, blemish));
      expect(peakDistance(defective, blemish)).toBeLessThan(12);
      expect(judge(defective, model.thresholds, 4).verdict).toBe('NG');
      const clean = await detector.analyse(await textureImage(W, H, 998));
      expect(judge(clean, model.thresholds, 4).verdict).not.toBe('NG');
      // Each level's distances are in units of its typical good score: a clean part scores near 1.
      expect(clean.rawScore).toBeGreaterThan(0.5);
      expect(clean.rawScore).toBeLessThan(2);
    } finally {
      await detector.release();
    }
  });

  it('lights up a planted blemish where it is, and passes a clean part', async () => {
    const model = service.store.models.get(modelId);
    const thresholds = model.thresholds;
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const blemish = { x: 118, y: 64, r: 6 };
      const defective = await detector.analyse(await textureImage(W, H, 999, blemish));
      expect(peakDistance(defective, blemish)).toBeLessThan(12);
      const verdict = judge(defective, thresholds, 4);
      expect(verdict.verdict).toBe('NG');
      const [x1, y1, x2, y2] = verdict.regions[0].box;
      expect(x1 <= blemish.x && blemish.x < x2 && y1 <= blemish.y && blemish.y < y2).toBe(true);

      const clean = await detector.analyse(await textureImage(W, H, 998));
      expect(judge(clean, thresholds, 4).verdict).not.toBe('NG');
      expect(clean.rawScore).toBeLessThan(defective.rawScore);
    } finally {
      await detector.release();
    }
  });

  it('finds a blemish on the image edge', async () => {
    const model = service.store.models.get(modelId);
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const analysis = await detector.analyse(await textureImage(W, H, 997, edgeBlemish));
      expect(peakDistance(analysis, edgeBlemish)).toBeLessThan(12);
      expect(judge(analysis, model.thresholds, 4).verdict).toBe('NG');
    } finally {
      await detector.release();
    }
  });

  it('leaves an ignored border out of inspection, in whole images and in tiles', async () => {
    const model = service.store.models.get(modelId);
    const thresholds = model.thresholds;
    const withBorder = { ...model, config: { ...model.config, ignoredBorder: 32 } };
    const plain = await loadDetector(service.store, model, 'cpu');
    const bordered = await loadDetector(service.store, withBorder, 'cpu');
    try {
      const edge = await textureImage(W, H, 997, edgeBlemish);
      const seen = await plain.analyse(edge);
      const ignored = await bordered.analyse(edge);
      expect(ignored.rawScore).toBeLessThan(seen.rawScore);
      expect(judge(ignored, thresholds, 4).verdict).not.toBe('NG');
      expect(judge(ignored, thresholds, 4).regions).toEqual([]);
      const borderMax = (a: { heatmap: Float32Array }): number => {
        let max = 0;
        for (let y = 0; y < H; y++) for (let x = 0; x < 8; x++) max = Math.max(max, a.heatmap[y * W + x]);
        return max;
      };
      expect(borderMax(ignored)).toBeLessThan(0.05 * borderMax(seen));

      const tiled = await bordered.analyse(await textureImage(big.width, big.height, 4242, bigBlemish));
      expect(peakDistance(tiled, bigBlemish)).toBeLessThan(12);
      expect(judge(tiled, thresholds, 4).verdict).toBe('NG');
    } finally {
      await Promise.all([plain.release(), bordered.release()]);
    }
  });

  it('analyses a much larger image in tiles at the training scale and still finds the blemish', async () => {
    const model = service.store.models.get(modelId);
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const analysis = await detector.analyse(await textureImage(big.width, big.height, 4242, bigBlemish));
      expect(analysis).toMatchObject(big);
      expect(peakDistance(analysis, bigBlemish)).toBeLessThan(12);
      expect(judge(analysis, model.thresholds, 4).verdict).toBe('NG');
    } finally {
      await detector.release();
    }
  });

  it('watches a hot folder: each complete image inspected once, sorted, with sidecar and log', async () => {
    const { existsSync, readFileSync, utimesSync, readdirSync } = await import('node:fs');
    const hot = join(dataset.path, 'hot');
    writeFile(join(hot, 'a-clean.png'), await pngOf(texture(W, H, 501), W, H));
    writeFile(join(hot, 'station2', 'b-dent.png'), await pngOf(texture(W, H, 502, { x: 60, y: 50, r: 7 }), W, H));
    writeFile(join(hot, 'c-broken.png'), Buffer.from('\x89PNG broken'));
    const past = new Date(Date.now() - 60_000);
    for (const f of ['a-clean.png', 'station2/b-dent.png', 'c-broken.png']) utimesSync(join(hot, f), past, past);
    await service.promoteModel({ modelId });
    const log = join(dataset.path, 'hot-log.jsonl');
    const pass = async () => {
      const job = await service.jobs.wait((await service.watchFolder({ folder: hot, model: 'production', sidecar: true, sort: true, log, once: true, device: 'cpu' })).id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      return job.result as Record<string, number>;
    };
    expect(await pass()).toEqual({ inspected: 3, OK: 1, NG: 1, REVIEW: 0, ERROR: 1 });
    expect(readdirSync(hot).sort()).toEqual(['ERROR', 'NG', 'OK', 'station2']);
    expect(existsSync(join(hot, 'NG', 'station2', 'b-dent.png'))).toBe(true);
    expect(JSON.parse(readFileSync(join(hot, 'NG', 'station2', 'b-dent.png.json'), 'utf8'))).toMatchObject({ verdict: 'NG', model: modelId });
    expect(JSON.parse(readFileSync(join(hot, 'ERROR', 'c-broken.png.json'), 'utf8')).error).toMatch(/Not an image file|truncated or corrupt/);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(3);

    // Nothing new: nothing inspected again.
    expect((await pass()).inspected).toBe(0);
    // A file still being written (just modified) waits until it has settled.
    writeFile(join(hot, 'd-late.png'), await pngOf(texture(W, H, 503), W, H));
    expect((await pass()).inspected).toBe(0);
    utimesSync(join(hot, 'd-late.png'), past, past);
    expect(await pass()).toMatchObject({ inspected: 1, OK: 1 });
    const history = await service.listInspections({ limit: 100 });
    expect(history.items.filter((i) => i.sourcePath.startsWith(hot))).toHaveLength(4);
  });

  it('inspects a batch of bad files with a clear error for each, and a re-run resumes instead of repeating', async () => {
    const { readFileSync } = await import('node:fs');
    const sharp = (await import('sharp')).default;
    const bad = join(dataset.path, 'bad');
    const raw = texture(W, H, 600);
    const jpeg = await jpegOf(raw, W, H);
    writeFile(join(bad, 'zero-byte.png'), Buffer.alloc(0));
    writeFile(join(bad, 'truncated.jpg'), jpeg.subarray(0, jpeg.length / 2));
    writeFile(join(bad, 'bomb.png'), pngBomb(50_000, 50_000));
    writeFile(join(bad, 'notes.png'), Buffer.from('shift report: all fine'));
    writeFile(join(bad, 'png-named.jpg'), await pngOf(raw, W, H));
    writeFile(join(bad, 'sixteen-bit.png'), await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
    writeFile(join(bad, 'cmyk.jpg'), await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer());
    writeFile(join(bad, 'gray.png'), await pngOf(Buffer.from(raw.filter((_, i) => i % 3 === 0)), W, H, 1));
    const out = join(dataset.path, 'bad-out');
    const run = async () => {
      const job = await service.jobs.wait((await service.inspectFiles({ model: modelId, paths: [bad], outDir: out, device: 'cpu' })).id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      return job.result as { inspected: number; skipped: number; errors: number };
    };
    expect(await run()).toMatchObject({ inspected: 8, skipped: 0, errors: 4 });
    const lines = Object.fromEntries(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.file.split('/').pop(), l]));
    expect(lines['zero-byte.png'].error).toBe('The file is empty');
    expect(lines['truncated.jpg'].error).toMatch(/truncated or corrupt/);
    expect(lines['bomb.png'].error).toBe('Image is 50000×50000 = 2500000000 pixels, over the limit of 100000000');
    expect(lines['notes.png'].error).toMatch(/Not an image file/);
    for (const ok of ['png-named.jpg', 'sixteen-bit.png', 'cmyk.jpg', 'gray.png']) expect(lines[ok].verdict, ok).not.toBe('ERROR');
    const errors = (await service.listInspections({ verdict: 'ERROR', limit: 100 })).items.filter((i) => i.sourcePath.startsWith(bad));
    expect(errors.map((e) => e.error).every(Boolean)).toBe(true);
    expect(errors).toHaveLength(4);
    expect(await run()).toMatchObject({ inspected: 0, skipped: 8 });
  });

  it('will not promote a model whose files are damaged', async () => {
    const model = service.store.models.get(modelId);
    const features = model.files.find((f) => f.role === 'features.onnx')!;
    const { writeFileSync, readFileSync } = await import('node:fs');
    const path = service.store.blobs.pathOf(features.sha256);
    const original = readFileSync(path);
    writeFileSync(path, original.subarray(0, 1000));
    try {
      await expect(service.promoteModel({ modelId })).rejects.toThrow(/features\.onnx does not match its SHA-256/);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('refuses a model whose stored file was tampered with', async () => {
    const model = service.store.models.get(modelId);
    const scorer = model.files.find((f) => f.role === 'scorer.onnx')!;
    const { writeFileSync, readFileSync, chmodSync } = await import('node:fs');
    const path = service.store.blobs.pathOf(scorer.sha256);
    const original = readFileSync(path);
    chmodSync(path, 0o644);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 5] ^= 0xff;
    writeFileSync(path, tampered);
    try {
      await expect(loadDetector(service.store, model, 'cpu')).rejects.toThrow(/scorer\.onnx does not match its SHA-256/);
    } finally {
      writeFileSync(path, original);
    }
  });
});

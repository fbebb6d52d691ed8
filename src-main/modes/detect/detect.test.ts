import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxIou } from '../../common/box-metrics.ts';
import { judge } from '../../analysis/analysis.ts';
import { ArgusService } from '../../app/service.ts';
import { decodeRgb } from '../../images/preprocess.ts';
import { loadDetector } from '../../inspection/load-detector.ts';
import { blemishes, DETECT_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, touchingPair, writeDetectionDataset } from '../../../test-support/fixtures.ts';
import { decodeLevels, nonMaximumSuppression } from './decode.ts';
import { boxScoreMap, tilesFor } from './detector.ts';
import { chooseNmsIou, type JudgedDecoding } from './nms-choice.ts';
import { detectInputGeometry } from './input-geometry.ts';
import { levelSizes } from './network.ts';
import { calibrateDetections, type DetectionRecord } from './evaluate.ts';
import { AnomalyScoreboard } from '../../analysis/scoreboard.ts';
import { assignTargets, emptyTargets, positionCount } from './targets.ts';

describe('FCOS target assignment', () => {
  const levels = levelSizes(128, 96);

  it('gives each of two touching boxes its own positive positions, with distances that rebuild the box', () => {
    const boxes = [{ box: [20, 30, 44, 54] as [number, number, number, number], classIndex: 1 }, { box: [44, 30, 68, 54] as [number, number, number, number], classIndex: 2 }];
    const out = emptyTargets(1, 2, levels);
    assignTargets(boxes, levels, 2, out, 0);
    const total = positionCount(levels);
    const owners = [0, 0];
    let offset = 0;
    for (const level of levels) {
      for (let p = 0; p < level.width * level.height; p++) {
        const q = offset + p;
        if (!out.positive[q]) continue;
        const c = out.cls[q] ? 0 : 1;
        owners[c]++;
        const px = ((p % level.width) + 0.5) * level.stride;
        const py = (Math.floor(p / level.width) + 0.5) * level.stride;
        const d = [0, 1, 2, 3].map((k) => out.box[k * total + q] * level.stride);
        expect([px - d[0], py - d[1], px + d[2], py + d[3]]).toEqual(boxes[c].box.map((v) => expect.closeTo(v, 4)));
        expect(out.ctr[q]).toBeGreaterThan(0);
        expect(out.ctr[q]).toBeLessThanOrEqual(1);
      }
      offset += level.width * level.height;
    }
    expect(owners[0]).toBeGreaterThan(0);
    expect(owners[1]).toBeGreaterThan(0);
    expect(out.positives).toBe(owners[0] + owners[1]);
  });

  it('a position inside two boxes goes to the smaller one', () => {
    const big = { box: [0, 0, 64, 64] as [number, number, number, number], classIndex: 1 };
    const small = { box: [24, 24, 40, 40] as [number, number, number, number], classIndex: 2 };
    const out = emptyTargets(1, 2, levels);
    assignTargets([big, small], levels, 2, out, 0);
    const total = positionCount(levels);
    // P3 cell (4, 4) has its centre at (36, 36): inside both.
    const p = 4 * levels[0].width + 4;
    expect(out.positive[p]).toBe(1);
    expect(out.cls[total + p]).toBe(1);
    expect(out.cls[p]).toBe(0);
  });

  it('a thin defect no cell centre falls into still gets one positive', () => {
    const thin = { box: [13, 2, 15, 90] as [number, number, number, number], classIndex: 1 };
    const out = emptyTargets(1, 1, levels);
    assignTargets([thin], levels, 1, out, 0);
    expect(out.positives).toBe(1);
    expect(Number.isFinite(out.centreness)).toBe(true);
    expect(out.box.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
  });

  it('a box whose positions other boxes took all still gets the free one nearest its centre inside it', () => {
    const sizes = levelSizes(256, 256);
    const box = (x1: number, y1: number, x2: number, y2: number, classIndex: number) => ({ box: [x1, y1, x2, y2] as [number, number, number, number], classIndex });
    // The thin box's three P3 candidates, (116|124|132, 116), go to three blemishes on them; the
    // cells under its centre on P4 and P5 go to two larger boxes learnt there.
    const thin = box(104, 110, 144, 122, 1);
    const boxes = [thin, box(113, 113, 119, 119, 2), box(121, 113, 127, 119, 2), box(129, 113, 135, 119, 2), box(50, 50, 190, 190, 2), box(0, 0, 248, 232, 2)];
    const out = emptyTargets(1, 2, sizes);
    assignTargets(boxes, sizes, 2, out, 0);
    const total = positionCount(sizes);
    const thinPositions = [...out.cls.subarray(0, total)].flatMap((v, q) => (v ? [q] : []));
    expect(thinPositions).toHaveLength(1);
    // Free P3 cells inside it nearest its centre (124, 116): (108, 116) or (140, 116).
    const q = thinPositions[0];
    expect(q).toBeLessThan(sizes[0].width * sizes[0].height);
    expect(Math.floor(q / sizes[0].width)).toBe(14);
    expect([13, 17]).toContain(q % sizes[0].width);
  });

  it('level ranges follow the strides: a large box is learnt on a coarse level, a small one on P3', () => {
    const sizes = levelSizes(512, 512);
    const out = emptyTargets(1, 2, sizes);
    assignTargets([{ box: [100, 100, 400, 400], classIndex: 1 }, { box: [10, 10, 30, 30], classIndex: 2 }], sizes, 2, out, 0);
    const total = positionCount(sizes);
    const levelOf = (q: number): number => {
      let offset = 0;
      for (const [k, l] of sizes.entries()) {
        if (q < offset + l.width * l.height) return k;
        offset += l.width * l.height;
      }
      return -1;
    };
    const levelsOf = (c: number): Set<number> => new Set([...out.cls.subarray(c * total, (c + 1) * total)].flatMap((v, q) => (v ? [levelOf(q)] : [])));
    expect([...levelsOf(1)]).toEqual([0]);
    expect(Math.min(...levelsOf(0))).toBeGreaterThanOrEqual(2);
  });
});

describe('decoding and NMS', () => {
  it('decodes a cell into the box its distances describe, scores √(p·centreness), and keeps one of two same-class duplicates', () => {
    const level = { stride: 8, width: 4, height: 4 };
    const plane = 16;
    const cls = new Float32Array(2 * plane);
    const box = new Float32Array(4 * plane).fill(1);
    const ctr = new Float32Array(plane).fill(1);
    cls[5] = 0.81; // class 1 at cell (1, 1), centre (12, 12)
    cls[6] = 0.64; // class 1 at cell (1, 2), centre (20, 12): the same defect seen again
    cls[plane + 10] = 0.49; // class 2 at cell (2, 2)
    const found = decodeLevels([{ level, cls, box, ctr }], { numClasses: 2, minProbability: 0.05, topK: 100, scale: 2, offsetX: 100, offsetY: 50, width: 1000, height: 1000 });
    expect(found).toHaveLength(3);
    const first = found.find((d) => Math.abs(d.score - 0.9) < 1e-6)!;
    expect(first.box).toEqual([102, 52, 110, 60]);
    const kept = nonMaximumSuppression([
      { classIndex: 1, score: 0.9, box: [0, 0, 10, 10] }, { classIndex: 1, score: 0.8, box: [1, 0, 11, 10] }, { classIndex: 2, score: 0.7, box: [1, 0, 11, 10] },
    ], 0.6, 100);
    expect(kept.map((d) => d.score)).toEqual([0.9, 0.7]);
  });

  it('tiles cover a large image with overlap, and a small image is one tile', () => {
    expect(tilesFor(200, 150, { inputWidth: 224, inputHeight: 224 })).toEqual([{ x: 0, y: 0, width: 200, height: 150 }]);
    const tiles = tilesFor(1000, 600, { inputWidth: 512, inputHeight: 512 });
    for (let x = 0; x < 1000; x += 7) for (let y = 0; y < 600; y += 7) expect(tiles.some((t) => x >= t.x && x < t.x + t.width && y >= t.y && y < t.y + t.height)).toBe(true);
    expect(tiles.every((t) => t.width === 512 && t.height === 512)).toBe(true);
  });

  it('the box score map holds each pixel at the highest box covering it', () => {
    const map = boxScoreMap([{ score: 0.4, box: [0, 0, 4, 4] }, { score: 0.9, box: [2, 2, 6, 6] }], 8, 8);
    expect(map[0]).toBeCloseTo(0.4);
    expect(map[3 * 8 + 3]).toBeCloseTo(0.9);
    expect(map[7 * 8 + 7]).toBe(0);
  });
});

describe('NMS overlap chosen on val', () => {
  const judged = (byIou: Record<number, number>): JudgedDecoding[] =>
    Object.entries(byIou).map(([iou, ap]) => ({ modelConfig: { nmsIou: Number(iou) }, validation: { mean_box_ap50: ap } })) as unknown as JudgedDecoding[];

  it('takes the overlap with the best val mAP@0.5 and says what each scored', () => {
    const chosen = chooseNmsIou(judged({ 0.4: 0.70, 0.5: 0.72, 0.6: 0.69, 0.7: 0.66 }));
    expect(chosen.modelConfig.nmsIou).toBe(0.5);
    expect(chosen.reason).toBe('NMS overlap 0.5, the best val mAP@0.5 (0.4: 0.700, 0.5: 0.720, 0.6: 0.690, 0.7: 0.660)');
  });

  it('between overlaps that score alike keeps the higher one, so touching defects keep their own boxes; a class-less val counts for nothing', () => {
    expect(chooseNmsIou(judged({ 0.4: 0.801, 0.5: 0.8, 0.6: 0.7995, 0.7: 0.75 })).modelConfig.nmsIou).toBe(0.6);
    expect(chooseNmsIou(judged({ 0.4: NaN, 0.5: NaN, 0.6: NaN, 0.7: NaN })).modelConfig.nmsIou).toBe(0.7);
  });
});

describe('detector calibration', () => {
  it('puts the image NG threshold at the class threshold, raised to reject at most the requested share of good images (0.5 % by default)', () => {
    const board = new AnomalyScoreboard();
    const found = new Map([['scratch', [] as { image: number; score: number; box: [number, number, number, number] }[]]]);
    const truth = new Map([['scratch', new Map<number, [number, number, number, number][]>()]]);
    const add = (score: number, defective: boolean, image: number): void => {
      board.add({ rawScore: score, heatmap: new Float32Array(1), width: 1, height: 1, ms: { network: 0, scoring: 0, map: 0 } }, defective, null, 0);
      if (defective) {
        found.get('scratch')!.push({ image, score, box: [0, 0, 10, 10] });
        truth.get('scratch')!.set(image, [[0, 0, 10, 10]]);
      }
    };
    // 200 good images scoring 0…0.995 (their boxes are found nowhere near a labelled one), 20 defects found at 0.6.
    for (let i = 0; i < 200; i++) add(i / 200, false, i);
    for (let i = 0; i < 20; i++) add(0.6, true, 200 + i);
    const record: DetectionRecord = { board, found, truth };
    expect(calibrateDetections(record, ['scratch']).classes!.scratch).toBeCloseTo(0.6, 6);
    expect(calibrateDetections(record, ['scratch']).image.ng).toBeGreaterThan(0.99);
    expect(calibrateDetections(record, ['scratch'], 0.1).image.ng).toBeCloseTo(0.9, 2);
    expect(calibrateDetections(record, ['scratch'], 0.5).image.ng).toBeCloseTo(0.6, 6);
  });
});

describe('detection input geometry from the data', () => {
  it('small whole images fill their rounded-up input', () => {
    const g = detectInputGeometry(Array(10).fill({ width: 200, height: 200 }), [{ box: [0, 0, 60, 80], classIndex: 1 }]);
    expect(g).toMatchObject({ inputWidth: 224, inputHeight: 224 });
    expect(g.scale).toBeCloseTo(1.12, 5);
  });

  it('tiny defects are enlarged (at most 2×), large images are trained on 512 px crops at their own scale', () => {
    const tiny = detectInputGeometry(Array(4).fill({ width: 320, height: 240 }), Array(20).fill({ box: [0, 0, 4, 5], classIndex: 1 }));
    expect(tiny.scale).toBeCloseTo(2, 5);
    expect(tiny.inputWidth).toBe(512);
    const large = detectInputGeometry(Array(4).fill({ width: 4000, height: 3000 }), Array(20).fill({ box: [0, 0, 40, 60], classIndex: 1 }));
    expect(large).toMatchObject({ inputWidth: 512, inputHeight: 512, scale: 1 });
  });
});

const REPO = resolve(import.meta.dirname, '../../..');
const argus = (args: string[], dataDir: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args, '--data-dir', dataDir], { cwd: REPO });

describe.skipIf(!hasShared)('detection mode end to end', () => {
  const data = tempDir();
  const dataset = tempDir();
  let service: ArgusService;
  let modelId: number;
  const { width: W, height: H } = DETECT_IMAGE;

  beforeAll(async () => {
    await writeDetectionDataset(dataset.path);
    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const imported = await service.jobs.wait((await service.importDataset({ path: dataset.path })).id);
    const datasetId = (imported.result as { datasetId: number }).datasetId;
    const parts: string[] = [];
    service.jobs.onChange((job) => {
      if (job.training?.lossParts) parts.push(Object.keys(job.training.lossParts).join(','));
    });
    const job = await service.jobs.wait((await service.trainModel({ mode: 'detect', datasetId, device: 'cpu', epochs: 8, batchSize: 4, stepsPerEpoch: 10, learningRate: 3e-4 })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(parts).toContain('class,box,centreness');
    modelId = (job.result as { modelId: number }).modelId;
  }, 300_000);
  afterAll(async () => {
    await service?.close();
    data.cleanup();
    dataset.cleanup();
  });

  it('registers a detect model with per-class thresholds and validation AP', () => {
    const model = service.store.models.get(modelId);
    expect(model).toMatchObject({ mode: 'detect', status: 'candidate', classes: ['blemish'] });
    expect(model.files.map((f) => f.role).sort()).toEqual(['network.onnx', 'tuned.safetensors']);
    const thresholds = model.thresholds;
    expect(thresholds.method).toBe('box-f1');
    expect(thresholds.classes!.blemish).toBeGreaterThan(0.05);
    const validation = (model.metrics as { validation: { mean_box_ap50: number } }).validation;
    expect(validation.mean_box_ap50).toBeGreaterThan(0.5);
    expect([0.4, 0.5, 0.6, 0.7]).toContain(model.config.nmsIou);
    expect(model.config.nmsIouReason).toMatch(/^NMS overlap 0\.\d, the best val mAP@0.5 \(0.4: [\d.]+, 0.5: [\d.]+, 0.6: [\d.]+, 0.7: [\d.]+\)$/);
  });

  it('two touching blemishes on an unseen part come out as two boxes; a clean part is OK', async () => {
    const model = service.store.models.get(modelId);
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const pair = touchingPair(50, 48, 8);
      const bad = await detector.analyse(await decodeRgb(await pngOf(blemishes(W, H, 4242, pair), W, H)));
      const judged = judge(bad, model.thresholds, 1);
      expect(judged.verdict).toBe('NG');
      for (const c of pair) {
        const truth: [number, number, number, number] = [c.x - c.r, c.y - c.r, c.x + c.r + 1, c.y + c.r + 1];
        expect(judged.regions.some((r) => r.class === 'blemish' && boxIou(r.box, truth) >= 0.5), JSON.stringify(judged.regions)).toBe(true);
      }
      const good = judge(await detector.analyse(await decodeRgb(await pngOf(blemishes(W, H, 4343, []), W, H))), model.thresholds, 1);
      expect(good.verdict).not.toBe('NG');
    } finally {
      await detector.release();
    }
  }, 60_000);

  it('a part larger than the training input is inspected in tiles, a defect on a tile border found once', async () => {
    const model = service.store.models.get(modelId);
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      // 320×200 at the training scale: tiles of 128×96 every 96×72 px; x = 124 lies under the first tile's right edge.
      const [w, h] = [320, 200];
      const spots = [{ x: 124, y: 40, r: 8 }, { x: 250, y: 150, r: 8 }];
      const analysis = await detector.analyse(await decodeRgb(await pngOf(blemishes(w, h, 4444, spots), w, h)));
      const regions = judge(analysis, model.thresholds, 1).regions;
      for (const c of spots) {
        const truth: [number, number, number, number] = [c.x - c.r, c.y - c.r, c.x + c.r + 1, c.y + c.r + 1];
        const overlapping = regions.filter((r) => boxIou(r.box, truth) > 0.3);
        expect(overlapping.length, JSON.stringify(regions)).toBe(1);
        expect(boxIou(overlapping[0].box, truth)).toBeGreaterThanOrEqual(0.5);
      }
    } finally {
      await detector.release();
    }
  }, 60_000);

  it('an int8 copy is checked against its parent on box mAP', async () => {
    const job = await service.jobs.wait((await service.optimizeModel({ modelId, precision: 'int8', device: 'cpu' })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const { guard } = job.result as { guard: { parent: { box_map50: number }; optimized: { box_map50: number }; passed: boolean } };
    expect(guard.parent.box_map50).toBeGreaterThan(0.5);
    expect(guard.optimized.box_map50).toBeGreaterThan(0);
    expect(guard.passed).toBe(guard.parent.box_map50 - guard.optimized.box_map50 <= 0.02);
  }, 120_000);

  it('argus eval reports per-class AP, COCO mAP and the precision–recall curve', async () => {
    const { stdout } = await argus(['eval', '--model', String(modelId), '--dataset', 'blemish-boxes', '--split', 'val', '--device', 'cpu', '--json'], data.path);
    const metrics = JSON.parse(stdout) as { mean_box_ap50: number; coco_map: number; per_class: Record<string, { ap50: number; curve: { recall: number[] } }> };
    expect(metrics.mean_box_ap50).toBeGreaterThan(0.5);
    expect(metrics.coco_map).toBeGreaterThan(0);
    expect(metrics.per_class.blemish.curve.recall.length).toBeGreaterThan(0);
  }, 60_000);
});

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../model/init.ts';
import { decide, denormalizeScore } from '../../common/decision.ts';
import { calibrate, normalizeScore, verdictOf } from '../../analysis/thresholds.ts';
import { greedyCoreset } from './coreset.ts';
import { auroc, bestF1, HistogramAuroc, quantile } from '../../analysis/metrics.ts';
import { buildScorer, scorePatches } from './scorer.ts';
import { anomalyMap, excludeBorder, gaussianBlur } from './anomaly-map.ts';
import { analysisPlan, DEFAULT_ANOMALY_CONFIG, levelConfig, levelScorerRole } from './detector.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { AnomalyScoreboard, PEAK_TOLERANCE_PX, peakOnDefect } from '../../analysis/scoreboard.ts';

describe('nearest-neighbour scorer', () => {
  it('computes the distance to the nearest bank entry, in chunks, as brute force does', async () => {
    const random = seededRandom(3);
    const dim = 16, bankSize = 50, patches = 37;
    const bank = Float32Array.from({ length: bankSize * dim }, () => random() * 2 - 1);
    const queries = Float32Array.from({ length: patches * dim }, () => random() * 2 - 1);
    bank.set(queries.subarray(0, dim), 7 * dim); // query 0 is in the bank: distance 0
    const session = await ort.InferenceSession.create(buildScorer(bank, dim));
    const got = await scorePatches(session, queries, dim, bankSize, 4 * bankSize * 5); // 5 rows per chunk
    for (let p = 0; p < patches; p++) {
      let best = Infinity;
      for (let m = 0; m < bankSize; m++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (queries[p * dim + d] - bank[m * dim + d]) ** 2;
        best = Math.min(best, s);
      }
      // ‖x‖² − 2x·b + ‖b‖² cancels in float32: compare squared distances, absolutely.
      expect(Math.abs(got[p] ** 2 - best)).toBeLessThan(1e-4 * Math.max(1, best));
    }
    expect(got[0]).toBeLessThan(2e-3);
    await session.release();
  });
});

describe('greedy coreset', () => {
  it('covers every cluster, rare ones included, unlike random sampling would', () => {
    const random = seededRandom(5);
    const dim = 8;
    const centers = [[0, 0], [10, 0], [0, 10], [10, 10], [30, 30]];
    const sizes = [1000, 1000, 1000, 1000, 3]; // one rare kind of good patch
    const points: number[] = [];
    const cluster: number[] = [];
    centers.forEach(([cx, cy], c) => {
      for (let i = 0; i < sizes[c]; i++) {
        points.push(cx + random() * 0.5, cy + random() * 0.5, ...Array.from({ length: dim - 2 }, () => random() * 0.1));
        cluster.push(c);
      }
    });
    const chosen = greedyCoreset(Float32Array.from(points), dim, 8, 1, 8);
    expect(new Set(Array.from(chosen, (i) => cluster[i]))).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('extends an existing bank with what it does not cover yet, first the farthest', () => {
    const dim = 4;
    // A bank of four corners, then new points: near-copies of the corners and two of a new kind.
    const bank = [[0, 0], [10, 0], [0, 10], [10, 10]];
    const fresh = [[0.1, 0], [10, 0.1], [30, 30], [9.9, 10], [31, 30]];
    const points = Float32Array.from([...bank, ...fresh].flatMap(([x, y]) => [x, y, 0, 0]));
    const added = greedyCoreset(points, dim, 2, 1, dim, bank.length);
    expect(Array.from(added).every((i) => i >= bank.length)).toBe(true);
    expect(new Set(Array.from(added, (i) => Math.round(points[i * dim])))).toEqual(new Set([30, 31]));
    // Asking for more than there is returns every new point.
    expect(Array.from(greedyCoreset(points, dim, 9, 1, dim, bank.length))).toEqual([4, 5, 6, 7, 8]);
  });
});

describe('metrics', () => {
  it('AUROC, histogram AUROC and the F1-optimal threshold', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(auroc([1, 1, 1], [false, true, false])).toBe(0.5);
    expect(auroc([1, 2], [true, true])).toBeNaN();
    const h = new HistogramAuroc(1, 1000);
    h.add([0.1, 0.4, 0.35, 0.8], (i) => i >= 2);
    expect(h.value()).toBeCloseTo(0.75, 6);
    // Scores far beyond the initial range: bins merge and the range doubles, the AUROC stays exact.
    const grown = new HistogramAuroc(0.01, 1 << 12);
    grown.add([10, 40, 35, 80], (i) => i >= 2);
    grown.add([0.001], () => false);
    expect(grown.value()).toBeCloseTo(auroc([10, 40, 35, 80, 0.001], [false, false, true, true, false]), 6);
    expect(bestF1([0.9, 0.8, 0.3, 0.2], [true, true, false, false])).toEqual({ threshold: 0.8, precision: 1, recall: 1, f1: 1 });
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
  });

  it('image AUROC within one image size: a score that only tells formats apart gets no credit there', () => {
    const board = new AnomalyScoreboard();
    const image = (rawScore: number, width: number, height: number): AnomalyAnalysis =>
      ({ rawScore, heatmap: new Float32Array(width * height), width, height, ms: { network: 0, scoring: 0, map: 0 } });
    for (const s of [1, 2, 3]) board.add(image(s, 20, 10), false, null, 1);
    for (const s of [2.5, 4]) board.add(image(s, 20, 10), true, new Uint8Array(200), 1);
    board.add(image(10, 40, 16), true, new Uint8Array(640), 1); // a defect in a format no good image has
    const thresholds = calibrate({ goodScores: board.goodScores, defectScores: board.defectScores, pixelScores: Float32Array.of(0, 1), pixelDefective: Uint8Array.of(0, 1) });
    const metrics = board.metrics(thresholds);
    expect(metrics.image_auroc).toBeCloseTo(8 / 9, 9);
    expect(metrics.image_auroc_same_size).toBeCloseTo(5 / 6, 9);
    const goodOnly = new AnomalyScoreboard();
    goodOnly.add(image(1, 20, 10), false, null, 1);
    expect(goodOnly.metrics(thresholds).image_auroc_same_size).toBeNull();
    expect(goodOnly.metrics(thresholds).image_auroc_within_group).toBeNull();
    expect(goodOnly.metrics(thresholds).peak_on_defect_rate).toBeNull();
  });

  it('image AUROC within each camera group: a camera whose parts all score higher costs nothing there', () => {
    const board = new AnomalyScoreboard();
    const image = (rawScore: number): AnomalyAnalysis => ({ rawScore, heatmap: new Float32Array(4), width: 2, height: 2, ms: { network: 0, scoring: 0, map: 0 } });
    const add = (score: number, defective: boolean, group: string | null) => board.add(image(score), defective, defective ? new Uint8Array(4) : null, 1, group);
    // Camera A ranks perfectly; camera B too, but its good parts score above A's defects.
    [1, 2].forEach((s) => add(s, false, 'A'));
    [3, 4].forEach((s) => add(s, true, 'A'));
    [5, 7].forEach((s) => add(s, false, 'B'));
    [6, 8].forEach((s) => add(s, true, 'B'));
    add(9, true, 'C'); // a group with defects only: no AUROC of its own
    add(0, false, null); // an image without a group counts only in the plain AUROC
    const thresholds = calibrate({ goodScores: board.goodScores, defectScores: board.defectScores, pixelScores: Float32Array.of(0, 1), pixelDefective: Uint8Array.of(0, 1) });
    const metrics = board.metrics(thresholds);
    expect(metrics.image_auroc_by_group).toEqual({ A: 1, B: 0.75 });
    expect(metrics.image_auroc_within_group).toBeCloseTo(0.875, 9);
    expect(metrics.image_auroc).toBeCloseTo(auroc([1, 2, 5, 7, 0, 3, 4, 6, 8, 9], [false, false, false, false, false, true, true, true, true, true]), 9);
  });

  it('peak on the defect: the heatmap’s hottest pixel on a marked pixel or within 8 px of one', () => {
    const [width, height] = [60, 20];
    const truth = new Uint8Array(width * height);
    for (let y = 8; y < 12; y++) for (let x = 10; x < 14; x++) truth[y * width + x] = 1; // a 4×4 defect at (10..13, 8..11)
    const peakAt = (x: number, y: number): AnomalyAnalysis => {
      const heatmap = new Float32Array(width * height).fill(0.1);
      heatmap[y * width + x] = 1;
      return { rawScore: 1, heatmap, width, height, ms: { network: 0, scoring: 0, map: 0 } };
    };
    expect(peakOnDefect(peakAt(11, 9), truth)).toBe(true);
    expect(peakOnDefect(peakAt(13 + PEAK_TOLERANCE_PX, 11), truth)).toBe(true);
    expect(peakOnDefect(peakAt(14 + PEAK_TOLERANCE_PX, 11), truth)).toBe(false);
    expect(peakOnDefect(peakAt(50, 2), truth)).toBe(false);

    const board = new AnomalyScoreboard();
    board.add(peakAt(11, 9), true, truth, 1);
    board.add(peakAt(50, 2), true, truth, 1);
    board.add(peakAt(12, 10), true, new Uint8Array(width * height), 1); // defective, nothing marked: not counted
    board.add(peakAt(11, 9), false, null, 1);
    const thresholds = calibrate({ goodScores: board.goodScores, defectScores: board.defectScores, pixelScores: Float32Array.of(0, 1), pixelDefective: Uint8Array.of(0, 1) });
    expect(board.metrics(thresholds).peak_on_defect_rate).toBe(0.5);
  });
});

describe('calibration', () => {
  const pixels = { pixelScores: Float32Array.from([1, 2, 3, 9, 10]), pixelDefective: Uint8Array.from([0, 0, 0, 1, 1]) };

  it('with defective validation images: F1-optimal NG threshold, REVIEW band below it', () => {
    const t = calibrate({ goodScores: [1, 1.2, 1.4, 1.6, 3, 3.1], defectScores: [2.5, 4, 5, 6, 7], ...pixels });
    expect(t.method).toBe('f1');
    expect(t.image.ng).toBeCloseTo(3.55, 6); // between the highest good score below the F1 cut (3.1) and the cut (4)
    expect(verdictOf(4, t)).toBe('NG');
    expect(verdictOf(1.1, t)).toBe('OK');
    expect(t.image.review).toBeLessThan(t.image.ng);
    expect(verdictOf(2.5, t)).toBe('REVIEW'); // the defect below the NG threshold is still caught for review
    expect(verdictOf(3, t)).toBe('REVIEW');
    expect(t.image.review).toBeGreaterThan(t.image.goodMedian);
    expect(t.pixel.threshold).toBe(9);
    expect(normalizeScore(t.image.ng, t.image.ng, t.image.goodMedian)).toBe(0.5);
    expect(normalizeScore(t.image.goodMedian, t.image.ng, t.image.goodMedian)).toBe(0.25);
  });

  it('where the image score is the map maximum, the pixel threshold never lies above NG (an NG image always shows where)', () => {
    const input = { goodScores: [1, 1.2, 1.4, 1.6, 3, 3.1], defectScores: [2.5, 4, 5, 6, 7], ...pixels };
    expect(calibrate(input).pixel.threshold).toBe(9);
    const t = calibrate({ ...input, imageScoreIsMapMaximum: true });
    expect(t.pixel.threshold).toBeCloseTo(3.55, 6);
    expect(t.image).toEqual(calibrate(input).image);
  });

  it('with good images only: never a threshold that flags the good parts', () => {
    const goodScores = [1, 1.1, 1.2, 1.3, 1.5, 2];
    const t = calibrate({ goodScores, defectScores: [], pixelScores: Float32Array.from([1, 2, 3, 4]), pixelDefective: new Uint8Array(4) });
    expect(t.method).toBe('good-quantile');
    expect(goodScores.every((s) => verdictOf(s, t) !== 'NG')).toBe(true);
    expect(goodScores.filter((s) => verdictOf(s, t) === 'OK').length).toBeGreaterThanOrEqual(4);
    expect(t.pixel.threshold).toBeGreaterThan(t.pixel.goodMedian);
  });

  it('with defective images labelled without regions: a finite pixel threshold from the pixels seen', () => {
    const pixelScores = Float32Array.from({ length: 2000 }, (_, i) => i / 100);
    const t = calibrate({ goodScores: [1, 1.2, 1.4], defectScores: [4, 5], pixelScores, pixelDefective: new Uint8Array(2000) });
    expect(t.method).toBe('f1');
    expect(Number.isFinite(t.pixel.threshold)).toBe(true);
    expect(t.pixel.threshold).toBeCloseTo(quantile(pixelScores, 0.999), 6);
    expect(JSON.parse(JSON.stringify(t)).pixel.threshold).toBe(t.pixel.threshold);
  });
});

describe('live threshold decisions', () => {
  it('moves the NG threshold on the normalised scale and keeps the REVIEW band width', () => {
    const t = { ng: 10, review: 9, goodMedian: 6 };
    expect(decide(10, t)).toBe('NG');
    expect(decide(9.5, t)).toBe('REVIEW');
    expect(decide(8, t)).toBe('OK');
    expect(decide(10, t, 0.75)).toBe('OK'); // NG now at raw 14, REVIEW from 13
    expect(decide(13.5, t, 0.75)).toBe('REVIEW');
    expect(decide(7, t, 0.25)).toBe('NG'); // NG now at raw 6, the good median
    for (const raw of [-50, 0, 6, 9.3, 10, 10.001, 25, 1e4]) expect(denormalizeScore(normalizeScore(raw, 10, 6), 10, 6)).toBeCloseTo(raw, 6);
  });

  it('normalised scores keep the order of every raw score, far beyond the threshold too, and stay inside (0, 1)', () => {
    const raws = [-1e6, -100, 0, 5.99, 6, 9.999, 10, 10.001, 14, 50, 1e3, 1e5, 1e7];
    const normalised = raws.map((r) => normalizeScore(r, 10, 6));
    for (let i = 1; i < normalised.length; i++) expect(normalised[i]).toBeGreaterThan(normalised[i - 1]);
    expect(Math.min(...normalised)).toBeGreaterThan(0);
    expect(Math.max(...normalised)).toBeLessThan(1);
    // Probability-like scores just below 1 still rank (a segment model's threshold near its good median).
    expect(normalizeScore(0.9999, 0.6, 0.58)).toBeGreaterThan(normalizeScore(0.999, 0.6, 0.58));
  });
});

describe('anomaly map smoothing', () => {
  it('keeps a constant map constant and spreads a peak symmetrically', () => {
    expect([...gaussianBlur(new Float32Array(9).fill(2), 3, 3, 1)].every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
    const peak = new Float32Array(25);
    peak[12] = 1;
    const blurred = gaussianBlur(peak, 5, 5, 1);
    expect(blurred[12]).toBeGreaterThan(blurred[11]);
    expect(blurred[11]).toBeCloseTo(blurred[13], 6);
    expect(blurred[7]).toBeCloseTo(blurred[17], 6);
  });

  it('shows the excess over the image median when asked, keeping the absolute image score', () => {
    const distances = new Float32Array(100).fill(10);
    distances[55] = 14;
    const raw = anomalyMap(distances, 10, 10, 20, 20, 0);
    const relative = anomalyMap(distances, 10, 10, 20, 20, 0, true);
    expect(relative.score).toBe(raw.score);
    expect(raw.score).toBe(14);
    expect(Math.min(...raw.heatmap)).toBe(10);
    expect(Math.min(...relative.heatmap)).toBe(0);
    expect(Math.max(...relative.heatmap)).toBeCloseTo(Math.max(...raw.heatmap) - 10, 5);
    const peak = relative.heatmap.indexOf(Math.max(...relative.heatmap));
    expect(Math.abs((peak % 20) - 11) <= 1 && Math.abs(Math.floor(peak / 20) - 11) <= 1).toBe(true);
  });

  it('leaves an excluded border out of the score and the heatmap, and ignores a border that would leave nothing', () => {
    const distances = new Float32Array(100).fill(10);
    distances[4 * 10 + 5] = 14; // inside
    distances[0 * 10 + 3] = 30; // top row
    distances[6 * 10 + 9] = 25; // right column
    const cropped = distances.slice();
    excludeBorder(cropped, 10, 10, 1, 1);
    expect(cropped[3]).toBe(10);
    expect(cropped[69]).toBe(10);
    expect(cropped[45]).toBe(14);
    const map = anomalyMap(cropped, 10, 10, 20, 20, 0, true);
    expect(map.score).toBe(14);
    const peak = map.heatmap.indexOf(Math.max(...map.heatmap));
    expect([Math.floor((peak % 20) / 2), Math.floor(peak / 20 / 2)]).toEqual([5, 4]);
    // Only columns excluded: the top row's peak still counts.
    const sides = distances.slice();
    excludeBorder(sides, 10, 10, 1, 0);
    expect(anomalyMap(sides, 10, 10, 10, 10, 0).score).toBe(30);
    const whole = distances.slice();
    excludeBorder(whole, 10, 10, 5, 5);
    expect([...whole]).toEqual([...distances]);
  });
});

describe('scale pyramid', () => {
  it('a level sees the image at its factor of the model\'s scale, with a bank in proportion', () => {
    const config = { ...DEFAULT_ANOMALY_CONFIG, inputWidth: 640, inputHeight: 480, trainScaleX: 1, trainScaleY: 1, ownSize: true };
    expect(levelConfig(config, 1)).toBe(config);
    expect(levelConfig(config, 0.5)).toMatchObject({ inputWidth: 320, inputHeight: 256, trainScaleX: 0.5, trainScaleY: 0.5, coresetSize: 1024 });
    expect(analysisPlan(levelConfig(config, 0.5), 600, 400)).toEqual({ kind: 'whole', width: 320, height: 224 });
    expect([0, 1, 2].map(levelScorerRole)).toEqual(['scorer.onnx', 'scorer.1.onnx', 'scorer.2.onnx']);
  });
});

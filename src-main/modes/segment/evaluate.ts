import type { ModelThresholds } from '../../contract/contract.ts';
import type { SegmentMetrics } from '../../contract/contract.ts';
import { AnomalyScoreboard } from '../../analysis/scoreboard.ts';
import { type ImageAnalyser, judge } from '../../analysis/analysis.ts';
import { ArgusError } from '../../contract/errors.ts';
import { averagePrecision, type Box } from '../../common/box-metrics.ts';
import { extractRegions } from '../../common/regions.ts';
import { labelMap } from '../../images/label-map.ts';
import { decodeRgb } from '../../images/preprocess.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';


/** Ground-truth boxes of a sample per class: its box annotations, else the connected components of its labels. */
function truthBoxes(sample: DatasetSample, labels: Uint8Array, classes: number): Map<number, Box[]> {
  const boxes = new Map<number, Box[]>();
  if (sample.boxes.length > 0) {
    for (const b of sample.boxes) (boxes.get(b.classIndex) ?? boxes.set(b.classIndex, []).get(b.classIndex)!).push(b.box);
    return boxes;
  }
  for (let c = 1; c <= classes; c++) {
    const mask = new Float32Array(labels.length);
    let any = false;
    for (let p = 0; p < labels.length; p++) if (labels[p] === c) [mask[p], any] = [1, true];
    if (any) boxes.set(c, extractRegions(mask, sample.width, sample.height, 0.5, 1).map((r) => r.box));
  }
  return boxes;
}

/**
 * Segmentation metrics on a split: everything anomaly mode reports (image/pixel AUROC, decisions
 * at the calibrated thresholds) plus per-class pixel IoU, box AP@0.5 of the regions, and image
 * recall at ≤ 0.5% false rejects.
 */
export async function evaluateSegment(
  blobs: BlobReader, detector: ImageAnalyser, thresholds: ModelThresholds, classNames: string[], samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal, minRegionArea = 16,
): Promise<SegmentMetrics> {
  const labelled = samples.filter((s) => s.label !== 'unlabeled');
  const board = new AnomalyScoreboard();
  const classes = classNames.length;
  const intersection = new Float64Array(classes + 1);
  const union = new Float64Array(classes + 1);
  const detections = Array.from({ length: classes + 1 }, () => [] as { image: number; score: number; box: Box }[]);
  const truth = Array.from({ length: classes + 1 }, () => new Map<number, Box[]>());
  for (const [i, sample] of labelled.entries()) {
    if (signal?.aborted) throw new ArgusError('cancelled', 'Evaluation cancelled', { key: 'cancelled' });
    const started = performance.now();
    const analysis = await detector.analyse(await decodeRgb(await blobs.get(sample.sha256)));
    const ms = performance.now() - started;
    const labels = await labelMap(blobs, sample);
    const defective = sample.label === 'defect';
    board.add(analysis, defective, defective ? labels.map((v) => (v ? 1 : 0)) : null, ms, sample.group);
    for (let p = 0; p < labels.length; p++) {
      const predicted = analysis.heatmap[p] >= thresholds.pixel.threshold ? (analysis.classMap?.[p] ?? 1) : 0;
      const actual = labels[p];
      if (predicted && predicted === actual) intersection[predicted]++;
      if (predicted) union[predicted]++;
      if (actual && actual !== predicted) union[actual]++;
    }
    for (const region of judge(analysis, thresholds, minRegionArea).regions) {
      const c = classNames.indexOf(region.class) + 1 || 1;
      detections[c].push({ image: i, score: region.score, box: region.box });
    }
    for (const [c, boxes] of truthBoxes(sample, labels, classes)) truth[c].set(i, boxes);
    onImage?.(i + 1, labelled.length);
  }
  const pixelIou: Record<string, number> = {};
  const boxAp: Record<string, number> = {};
  classNames.forEach((name, k) => {
    const c = k + 1;
    pixelIou[name] = union[c] ? intersection[c] / union[c] : NaN;
    boxAp[name] = averagePrecision(detections[c], truth[c]);
  });
  const aps = Object.values(boxAp).filter((v) => !Number.isNaN(v));
  const good = [...board.goodScores].sort((a, b) => b - a);
  let recallAtFrr: number | null = null;
  if (good.length && board.defectScores.length) {
    const cut = good[Math.floor(0.005 * good.length)];
    recallAtFrr = board.defectScores.filter((s) => s > cut).length / board.defectScores.length;
  }
  return {
    ...board.metrics(thresholds), image_scores: board.imageScores(thresholds), pixel_iou: pixelIou, box_ap50: boxAp,
    mean_box_ap50: aps.length ? aps.reduce((a, b) => a + b, 0) / aps.length : NaN, recall_at_half_percent_frr: recallAtFrr,
  };
}

import type { GuardMetrics, GuardVerdict } from '../api/contract.ts';
import type { AnomalyThresholds } from '../anomaly/calibration.ts';
import type { ImageAnalyser } from '../anomaly/detector.ts';
import { scoreSamples } from '../anomaly/evaluate.ts';
import { evaluateSegment } from '../segment/evaluate.ts';
import type { DatasetSample } from '../store/datasets.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';

/** An optimised version may not lose more than this against its parent on the validation split. */
export const MAX_IMAGE_AUROC_DROP = 0.01;
export const MAX_PIXEL_IOU_DROP = 0.02;

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Image AUROC and pixel IoU of a model on labelled samples, at the model's own thresholds. */
export async function guardMetrics(
  store: Store, model: ModelVersion, detector: ImageAnalyser, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<GuardMetrics> {
  const thresholds = model.thresholds as unknown as AnomalyThresholds;
  if (model.mode === 'segment') {
    const metrics = await evaluateSegment(store, detector, thresholds, model.classes, samples, onImage, signal);
    const ious = Object.values(metrics.pixel_iou).filter((v) => Number.isFinite(v));
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : null };
  }
  let intersection = 0;
  let union = 0;
  const board = await scoreSamples(store, detector, samples, onImage, signal, (analysis, truth) => {
    for (let p = 0; p < analysis.heatmap.length; p++) {
      const predicted = analysis.heatmap[p] >= thresholds.pixel.threshold;
      const actual = truth?.[p] === 1;
      if (predicted && actual) intersection++;
      if (predicted || actual) union++;
    }
  });
  return { image_auroc: finite(board.metrics(thresholds).image_auroc), pixel_iou: union ? intersection / union : null };
}

/** Compares an optimised version with its parent; a metric neither could measure is not compared. */
export function judgeOptimization(parent: GuardMetrics, optimized: GuardMetrics, datasetId: number): GuardVerdict {
  const failures: string[] = [];
  const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(4));
  if (parent.image_auroc !== null && (optimized.image_auroc === null || parent.image_auroc - optimized.image_auroc > MAX_IMAGE_AUROC_DROP)) {
    failures.push(`image AUROC ${fmt(optimized.image_auroc)} vs parent ${fmt(parent.image_auroc)} (more than ${MAX_IMAGE_AUROC_DROP} lower)`);
  }
  if (parent.pixel_iou !== null && (optimized.pixel_iou === null || parent.pixel_iou - optimized.pixel_iou > MAX_PIXEL_IOU_DROP)) {
    failures.push(`pixel IoU ${fmt(optimized.pixel_iou)} vs parent ${fmt(parent.pixel_iou)} (more than ${MAX_PIXEL_IOU_DROP} lower)`);
  }
  return {
    passed: failures.length === 0, split: 'val', datasetId, parent, optimized,
    ...(failures.length ? { reason: `Inspects worse than its parent on the validation split: ${failures.join('; ')}` } : {}),
  };
}

import type { ModelThresholds } from '../../contract/contract.ts';
import type { AnomalyScoreboard } from '../../analysis/scoreboard.ts';
import { scoreSamples } from '../shared/evaluation.ts';
import type { ImageAnalyser } from '../../analysis/analysis.ts';
import { quantile } from '../../analysis/metrics.ts';
import type { DetectClassMetrics, DetectMetrics } from '../../contract/contract.ts';
import { averagePrecision, type Box, boxConfusion, precisionRecall, type ScoredBox } from '../../common/box-metrics.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { defectBoxes } from './data.ts';

/** Boxes found and boxes labelled, per class, over a split. */
export interface DetectionRecord {
  board: AnomalyScoreboard;
  found: Map<string, ScoredBox[]>;
  truth: Map<string, Map<number, Box[]>>;
}

/** Runs the detector over the labelled samples, keeping every box it finds and every labelled box. */
export async function collectDetections(
  blobs: BlobReader, detector: ImageAnalyser, classes: string[], samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<DetectionRecord> {
  const found = new Map(classes.map((c) => [c, [] as ScoredBox[]]));
  const truth = new Map(classes.map((c) => [c, new Map<number, Box[]>()]));
  const pending: Promise<void>[] = [];
  let image = 0;
  const board = await scoreSamples(blobs, detector, samples, onImage, signal, (analysis, _mask, sample) => {
    const index = image++;
    for (const b of analysis.boxes ?? []) found.get(b.class)?.push({ image: index, score: b.score, box: b.box });
    if (sample.label === 'defect') {
      pending.push(defectBoxes(blobs, sample, classes.length).then((boxes) => {
        for (const b of boxes) {
          const byImage = truth.get(classes[b.classIndex - 1])!;
          (byImage.get(index) ?? byImage.set(index, []).get(index)!).push(b.box);
        }
      }));
    }
  });
  await Promise.all(pending);
  return { board, found, truth };
}

/** Share of defective images whose score exceeds the NG threshold to reject at most 0.5 % of good images, as an image quantile. */
const TARGET_FALSE_REJECTS = 0.005;
/** The REVIEW band reaches down far enough that this share of validation defects is NG or REVIEW. */
const REVIEW_DEFECT_RECALL = 0.98;

/**
 * Thresholds of a detector from its validation boxes: per class the F1-optimal box score; the
 * image NG threshold is the lowest class threshold (an image is NG when a box passes it), raised
 * where needed so that at most 0.5 % (or the requested share) of the good validation images are
 * rejected.
 */
export function calibrateDetections(record: DetectionRecord, classes: string[], falseRejectRate = TARGET_FALSE_REJECTS): ModelThresholds {
  const perClass: Record<string, number> = {};
  for (const name of classes) {
    const curve = precisionRecall(record.found.get(name)!, record.truth.get(name)!);
    let best = -1;
    let threshold = 1;
    curve.scores.forEach((score, k) => {
      const p = curve.precision[k];
      const r = curve.recall[k];
      const f1 = p + r > 0 ? (2 * p * r) / (p + r) : 0;
      if (f1 > best) [best, threshold] = [f1, score];
    });
    perClass[name] = threshold;
  }
  const good = record.board.goodScores;
  const defective = record.board.defectScores;
  const lowest = Math.min(...Object.values(perClass));
  // The class thresholds decide; good parts that score higher than that raise the NG threshold to the false-reject target.
  const ng = good.length ? Math.max(lowest, quantile(good, 1 - falseRejectRate) + 1e-6) : lowest;
  const goodMedian = good.length ? Math.min(quantile(good, 0.5), ng - 1e-6) : 0;
  const review = defective.length ? Math.min(ng, Math.max(goodMedian + 1e-6, quantile(defective, 1 - REVIEW_DEFECT_RECALL))) : ng;
  return { method: 'box-f1', image: { ng, review, goodMedian }, pixel: { threshold: lowest, goodMedian: 0 }, classes: perClass };
}

const COCO_IOUS = Array.from({ length: 10 }, (_, k) => 0.5 + 0.05 * k);

/** Per-class AP@0.5 and COCO AP, precision/recall at the class thresholds, and the image-level decisions. */
export function detectionMetrics(record: DetectionRecord, classes: string[], thresholds: ModelThresholds): DetectMetrics {
  const perClass: Record<string, DetectClassMetrics> = {};
  const ap50: Record<string, number> = {};
  for (const name of classes) {
    const found = record.found.get(name)!;
    const truth = record.truth.get(name)!;
    const curve = precisionRecall(found, truth);
    const threshold = thresholds.classes?.[name] ?? thresholds.pixel.threshold;
    const at = curve.scores.findLastIndex((s) => s >= threshold);
    const step = Math.max(1, Math.ceil(curve.recall.length / 50));
    perClass[name] = {
      ap50: averagePrecision(found, truth, 0.5),
      ap: mean(COCO_IOUS.map((iou) => averagePrecision(found, truth, iou))),
      threshold, precision: at >= 0 ? curve.precision[at] : 0, recall: at >= 0 ? curve.recall[at] : 0, boxes: curve.total,
      curve: { recall: curve.recall.filter((_, k) => k % step === 0), precision: curve.precision.filter((_, k) => k % step === 0) },
    };
    ap50[name] = perClass[name].ap50;
  }
  const good = [...record.board.goodScores].sort((a, b) => b - a);
  const defective = record.board.defectScores;
  const cut = good.length ? good[Math.floor(TARGET_FALSE_REJECTS * good.length)] : undefined;
  const withBoxes = classes.filter((c) => perClass[c].boxes > 0);
  return {
    ...record.board.metrics(thresholds), image_scores: record.board.imageScores(thresholds),
    box_ap50: ap50, mean_box_ap50: mean(withBoxes.map((c) => perClass[c].ap50)), coco_map: mean(withBoxes.map((c) => perClass[c].ap)),
    per_class: perClass,
    box_confusion: boxConfusion(record.found, record.truth, classes, Object.fromEntries(classes.map((c) => [c, perClass[c].threshold]))),
    recall_at_half_percent_frr: cut !== undefined && defective.length ? defective.filter((s) => s > cut).length / defective.length : null,
  };
}

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

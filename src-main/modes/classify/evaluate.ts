import type { AnomalyMetrics, ConfusionMatrix, ImageScores, ModelThresholds } from '../../contract/contract.ts';
import type { ImageAnalyser } from '../../analysis/analysis.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { scoreSamples } from '../shared/evaluation.ts';
import { imageClassOf } from './data.ts';

export interface ClassifyClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  images: number;
}

export interface ClassifyMetrics extends AnomalyMetrics {
  /** Share of labelled images whose most probable class is their class. */
  accuracy: number;
  per_class: Record<string, ClassifyClassMetrics>;
  /** Labelled class (rows) against predicted class (columns). */
  confusion: ConfusionMatrix;
  /** Share of defective images flagged NG when the NG threshold rejects at most 0.5 % of good images (null without good images). */
  recall_at_half_percent_frr: number | null;
  image_scores: ImageScores;
}

/** Accuracy, per-class precision/recall/F1 and the confusion matrix over the labelled samples, with the image-level measures every mode has. */
export async function evaluateClassify(
  blobs: BlobReader, detector: ImageAnalyser, thresholds: ModelThresholds, classes: string[], hasGood: boolean, samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<ClassifyMetrics> {
  const k = classes.length;
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const board = await scoreSamples(blobs, detector, samples, onImage, signal, (analysis, _truth, sample) => {
    const truth = imageClassOf(sample, hasGood);
    const predicted = classes.indexOf(analysis.predictedClass ?? '');
    if (truth !== null && predicted >= 0) counts[truth][predicted]++;
  });
  const per_class: Record<string, ClassifyClassMetrics> = {};
  let right = 0;
  let total = 0;
  classes.forEach((name, c) => {
    const tp = counts[c][c];
    const actual = counts[c].reduce((a, b) => a + b, 0);
    const predicted = counts.reduce((a, row) => a + row[c], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = actual ? tp / actual : 0;
    per_class[name] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, images: actual };
    right += tp;
    total += actual;
  });
  const good = [...board.goodScores].sort((a, b) => b - a);
  const cut = good.length ? good[Math.floor(0.005 * good.length)] : undefined;
  const defective = board.defectScores;
  return {
    ...board.metrics(thresholds), image_scores: board.imageScores(thresholds),
    accuracy: total ? right / total : 0, per_class, confusion: { labels: classes, counts },
    recall_at_half_percent_frr: cut !== undefined && defective.length ? defective.filter((s) => s > cut).length / defective.length : null,
  };
}

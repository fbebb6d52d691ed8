import type { AnomalyMetrics, ConfusionMatrix, ImageScores, ModelThresholds } from '../../contract/contract.ts';
import type { ImageAnalyser } from '../../analysis/analysis.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { scoreSamples } from '../shared/evaluation.ts';
import { imageClassOf, imageClassSetOf } from './data.ts';

export interface ClassifyClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  images: number;
}

export interface ClassifyMetrics extends AnomalyMetrics {
  /** Share of labelled images whose predicted class (multi-label: set of classes) is their label. */
  accuracy: number;
  per_class: Record<string, ClassifyClassMetrics>;
  /**
   * Labelled class (rows) against predicted class (columns). Multi-label: "good" first, then the
   * classes; an image adds one to every (labelled, predicted) pair of its two sets, "good" standing
   * for an empty set.
   */
  confusion: ConfusionMatrix;
  /** Share of defective images flagged NG when the NG threshold rejects at most 0.5 % of good images (null without good images). */
  recall_at_half_percent_frr: number | null;
  image_scores: ImageScores;
}

/** What a classifier's outputs mean: its classes in logit order, whether the first is "good", and whether it is multi-label (then "good" is the empty set). */
export interface ClassifyLabelling {
  classes: string[];
  hasGood: boolean;
  multiLabel?: boolean;
}

/** Accuracy, per-class precision/recall/F1 and the confusion matrix over the labelled samples, with the image-level measures every mode has. */
export async function evaluateClassify(
  blobs: BlobReader, detector: ImageAnalyser, thresholds: ModelThresholds, labelling: ClassifyLabelling, samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<ClassifyMetrics> {
  const { multiLabel = false, hasGood } = labelling;
  const labels = multiLabel ? ['good', ...labelling.classes] : labelling.classes;
  const k = labels.length;
  const asSet = (indices: number[]): number[] => (indices.length ? indices : [labels.indexOf('good')]);
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const tally = labels.map(() => ({ tp: 0, actual: 0, predicted: 0 }));
  let right = 0;
  let total = 0;
  const board = await scoreSamples(blobs, detector, samples, onImage, signal, (analysis, _truth, sample) => {
    const labelled = multiLabel ? imageClassSetOf(sample)?.map((c) => c + 1) : [imageClassOf(sample, hasGood)];
    if (!labelled || labelled[0] === null) return;
    const truth = asSet(labelled as number[]);
    const predicted = asSet((analysis.predictedClasses ?? [analysis.predictedClass ?? '']).map((c) => labels.indexOf(c)).filter((c) => c >= 0));
    for (const t of truth) for (const p of predicted) counts[t][p]++;
    for (const t of truth) tally[t].actual++;
    for (const p of predicted) {
      tally[p].predicted++;
      if (truth.includes(p)) tally[p].tp++;
    }
    total++;
    if (truth.length === predicted.length && truth.every((t) => predicted.includes(t))) right++;
  });
  const per_class: Record<string, ClassifyClassMetrics> = {};
  labels.forEach((name, c) => {
    const { tp, actual, predicted } = tally[c];
    const precision = predicted ? tp / predicted : 0;
    const recall = actual ? tp / actual : 0;
    per_class[name] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, images: actual };
  });
  const good = [...board.goodScores].sort((a, b) => b - a);
  const cut = good.length ? good[Math.floor(0.005 * good.length)] : undefined;
  const defective = board.defectScores;
  return {
    ...board.metrics(thresholds), image_scores: board.imageScores(thresholds),
    accuracy: total ? right / total : 0, per_class, confusion: { labels, counts },
    recall_at_half_percent_frr: cut !== undefined && defective.length ? defective.filter((s) => s > cut).length / defective.length : null,
  };
}

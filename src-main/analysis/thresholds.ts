import type { ModelThresholds, Verdict } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { decide, normalizeScore } from '../common/decision.ts';
import { bestF1, quantile } from './metrics.ts';


export interface CalibrationInput {
  goodScores: number[];
  defectScores: number[];
  /** Pixel scores (a sample) of validation images, with whether each pixel is defective. */
  pixelScores: Float32Array;
  pixelDefective: Uint8Array;
}

/** The REVIEW band reaches down far enough that this share of validation defects is NG or REVIEW. */
const REVIEW_DEFECT_RECALL = 0.98;
/** Good-only calibration: the NG threshold sits this far above the highest good score. */
const GOOD_ONLY_MARGIN = 0.1;
const GOOD_PIXEL_QUANTILE = 0.999;

/**
 * F1-optimal thresholds when the validation split has defective images; otherwise thresholds
 * above the good parts' own spread (highest score plus a margin, a high pixel quantile), so that
 * a model calibrated without defects never flags every part.
 */
export function calibrate(input: CalibrationInput): ModelThresholds {
  if (input.goodScores.length === 0) {
    // Every validation image is defective (e.g. a box-labelled set): only the pixels tell good
    // from bad, so an image is NG where any pixel passes the F1-optimal pixel threshold.
    if (input.defectScores.length === 0 || !input.pixelDefective.includes(0)) throw new ArgusError('bad_input', 'Calibration needs defect-free validation images or defect-free pixels');
    const pixel = pixelThreshold(input);
    const { threshold, goodMedian } = pixel;
    return {
      method: 'pixel-f1',
      image: { ng: threshold, review: Math.max(goodMedian + 1e-6, (goodMedian + threshold) / 2), goodMedian },
      pixel,
    };
  }
  const goodMedian = quantile(input.goodScores, 0.5);
  const goodMax = Math.max(...input.goodScores);
  if (input.defectScores.length === 0) {
    const spread = Math.max(goodMax - goodMedian, 1e-6);
    const ng = goodMax + GOOD_ONLY_MARGIN * spread;
    const review = Math.max(goodMedian + 1e-6, quantile(input.goodScores, 0.95));
    return {
      method: 'good-quantile',
      image: { ng, review: Math.min(review, ng), goodMedian },
      pixel: pixelThreshold(input),
    };
  }
  const scores = [...input.goodScores, ...input.defectScores];
  const labels = scores.map((_, i) => i >= input.goodScores.length);
  const image = bestF1(scores, labels);
  // The threshold sits halfway between the last good score below it and the F1 cut, so it does
  // not lie exactly on a validation image.
  const below = scores.filter((s) => s < image.threshold);
  const ng = below.length ? (Math.max(...below) + image.threshold) / 2 : image.threshold;
  // REVIEW catches nearly every defect NG misses, but never reaches below the good median (so it
  // cannot swallow most good parts).
  const ascending = [...input.defectScores].sort((a, b) => a - b);
  const reviewCut = ascending[Math.floor((1 - REVIEW_DEFECT_RECALL) * ascending.length)];
  const review = Math.min(ng, Math.max(goodMedian + 1e-6, reviewCut));
  return {
    method: 'f1',
    image: { ng: Math.max(ng, goodMedian + 1e-6), review, goodMedian },
    pixel: pixelThreshold(input),
  };
}

/**
 * F1-optimal on the pixels when some are marked defective; otherwise (good images only, or defects
 * labelled without regions) a high quantile of the good pixels. Always above their median.
 */
function pixelThreshold({ pixelScores, pixelDefective }: CalibrationInput): ModelThresholds['pixel'] {
  const goodPixels = pixelScores.filter((_, i) => !pixelDefective[i]);
  const goodMedian = quantile(goodPixels, 0.5);
  const cut = pixelDefective.includes(1) ? bestF1(pixelScores, Array.from(pixelDefective, Boolean)).threshold : quantile(goodPixels, GOOD_PIXEL_QUANTILE);
  return { threshold: Math.max(cut, goodMedian + 1e-6), goodMedian };
}

export const verdictOf = (score: number, t: ModelThresholds): Verdict => decide(score, t.image);

export { normalizeScore };

import type { GroupThresholds, ModelThresholds, Verdict } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { decide, normalizeScore } from '../common/decision.ts';
import { bestF1, quantile } from './metrics.ts';


export interface CalibrationInput {
  goodScores: number[];
  defectScores: number[];
  /** Pixel scores (a sample) of validation images, with whether each pixel is defective. */
  pixelScores: Float32Array;
  pixelDefective: Uint8Array;
  /**
   * The share of good parts the NG threshold may reject. Set, the NG threshold is the good
   * scores' quantile at that rate even where defects are known (their miss rate is then what the
   * validation metrics report); unset, defects make it F1-optimal and good-only calibration uses
   * DEFAULT_FALSE_REJECT_RATE.
   */
  falseRejectRate?: number;
  /**
   * The image score is the maximum of the pixel map, on the same scale. The pixel threshold then
   * never exceeds the NG threshold, so every NG image shows where it is NG.
   */
  imageScoreIsMapMaximum?: boolean;
}

const DEFAULT_FALSE_REJECT_RATE = 0.005;

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
  const thresholds = calibrateScores(input);
  if (!input.imageScoreIsMapMaximum || thresholds.pixel.threshold <= thresholds.image.ng) return thresholds;
  return { ...thresholds, pixel: { ...thresholds.pixel, threshold: thresholds.image.ng } };
}

function calibrateScores(input: CalibrationInput): ModelThresholds {
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
  if (input.defectScores.length === 0 || input.falseRejectRate !== undefined) {
    const ng = goodQuantileThreshold(input.goodScores, input.falseRejectRate ?? DEFAULT_FALSE_REJECT_RATE);
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
 * The NG threshold that rejects `rate` of good parts: halfway between the good scores around
 * that quantile where there are enough of them to see the rate (at least 1/rate), else above the
 * highest good score by a margin, the strictest the data can show.
 */
function goodQuantileThreshold(goodScores: number[], rate: number): number {
  const ascending = [...goodScores].sort((a, b) => a - b);
  const n = ascending.length;
  const rejected = Math.floor(n * rate);
  if (rejected >= 1) return (ascending[n - rejected - 1] + ascending[n - rejected]) / 2;
  const median = quantile(ascending, 0.5);
  return ascending[n - 1] + GOOD_ONLY_MARGIN * Math.max(ascending[n - 1] - median, 1e-6);
}

/** Frames from which a group's own good spread, not only its level, is trusted. */
const GROUP_QUANTILE_FRAMES = 20;

/** A group's good frames scored two ways, each an estimate of where the station's next good parts will score. */
export interface GroupFrameScores {
  /**
   * Each frame against the adapted memory bank minus its own patches. An underestimate where the
   * frames were taken one after another: they resemble each other more than the parts to come.
   */
  adapted: number[];
  /**
   * Each frame against the memory bank before adaptation, which lacks the station's patches: in
   * general an overestimate, since new bank entries only bring a part's nearest neighbours closer.
   * Not needed (may be empty) where the frames give the group its own quantile.
   */
  unadapted: number[];
}

/** Whether this many frames are enough for a group's own NG quantile at the target rate (else its level scales the model's). */
export function usesGroupQuantile(frames: number, falseRejectRate = DEFAULT_FALSE_REJECT_RATE): boolean {
  return frames >= GROUP_QUANTILE_FRAMES && Math.floor(frames * falseRejectRate) >= 1;
}

/**
 * A group's thresholds from its good frames' scores. With enough frames to see the target rate, the
 * NG threshold is their own quantile (each frame scored as a new part would be). Otherwise the
 * model-wide thresholds are scaled to the group's level, keeping the model's spread: the level
 * moves only where both estimates of it lie on the same side of the model's good median, and only
 * as far as the nearer one. Raising by the lower estimate and lowering by the higher keeps a few
 * similar frames from lowering thresholds into false rejects (on bsdata, six consecutive frames per
 * camera scored leave-one-out lowered them until 85 % of good test parts were rejected) while a
 * camera whose parts score lower before and after adaptation is still judged on its own level.
 */
export function groupThresholds(model: ModelThresholds, scores: GroupFrameScores, falseRejectRate = DEFAULT_FALSE_REJECT_RATE): GroupThresholds {
  const goodScores = scores.adapted;
  const frames = goodScores.length;
  const quantileOfGroup = usesGroupQuantile(frames, falseRejectRate);
  if (frames === 0 || (!quantileOfGroup && scores.unadapted.length === 0)) throw new ArgusError('bad_input', 'A group needs at least one good frame', { key: 'noGoodFramesAtAll' });
  const median = quantile(goodScores, 0.5);
  if (quantileOfGroup) {
    const ng = goodQuantileThreshold(goodScores, falseRejectRate);
    const review = Math.min(ng, Math.max(median + 1e-6, quantile(goodScores, 0.95)));
    const pixel = scaledPixel(model, Math.max(1, median / Math.max(model.image.goodMedian, 1e-12)));
    return { method: 'good-quantile', image: { ng, review, goodMedian: median }, pixel, frames, falseRejectRate };
  }
  const factor = groupLevelFactor(model.image.goodMedian, median, quantile(scores.unadapted, 0.5));
  return {
    method: 'good-level',
    image: { ng: model.image.ng * factor, review: model.image.review * factor, goodMedian: model.image.goodMedian * factor },
    pixel: scaledPixel(model, factor), frames, falseRejectRate,
  };
}

function scaledPixel(model: ModelThresholds, factor: number): GroupThresholds['pixel'] {
  return { threshold: model.pixel.threshold * factor, goodMedian: model.pixel.goodMedian * factor };
}

/** How far a group's level moves from the model's good median: 1 unless both estimates agree on the direction, then the smaller move. */
function groupLevelFactor(modelGoodMedian: number, adaptedLevel: number, unadaptedLevel: number): number {
  const model = Math.max(modelGoodMedian, 1e-12);
  const low = Math.min(adaptedLevel, unadaptedLevel);
  const high = Math.max(adaptedLevel, unadaptedLevel);
  if (low > model) return low / model;
  if (high < model) return high / model;
  return 1;
}

/**
 * Model-wide thresholds measured again (an int8 copy's distances move with its precision): each
 * group keeps its place relative to them, scaled by the ratio of the good medians.
 */
export function withGroupsRescaled(recalibrated: ModelThresholds, previous: ModelThresholds): ModelThresholds {
  if (!previous.groups) return recalibrated;
  const factor = recalibrated.image.goodMedian / Math.max(previous.image.goodMedian, 1e-12);
  const scaled = (g: GroupThresholds): GroupThresholds => ({
    ...g,
    image: { ng: g.image.ng * factor, review: g.image.review * factor, goodMedian: g.image.goodMedian * factor },
    pixel: { threshold: g.pixel.threshold * factor, goodMedian: g.pixel.goodMedian * factor },
  });
  return { ...recalibrated, groups: Object.fromEntries(Object.entries(previous.groups).map(([name, g]) => [name, scaled(g)])) };
}

/** The thresholds an image of `group` is judged by: the group's own where the model has them, else the model-wide ones. */
export function thresholdsFor(thresholds: ModelThresholds, group?: string | null): ModelThresholds {
  const own = group ? thresholds.groups?.[group] : undefined;
  return own ? { ...thresholds, image: own.image, pixel: own.pixel } : thresholds;
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

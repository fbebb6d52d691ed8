// Pure decision rules shared by the engine and the UI's live threshold preview.
import type { Verdict } from '../api/contract.ts';

/** Raw image-level thresholds of an anomaly model (as saved with the model version). */
export interface ImageThresholds {
  ng: number;
  review: number;
  goodMedian: number;
}

/** Raw → [0, 1] with the good median at 0 and the threshold at 0.5. */
export const normalizeScore = (raw: number, threshold: number, goodMedian: number): number =>
  Math.min(1, Math.max(0, 0.5 + (raw - threshold) / (2 * (threshold - goodMedian))));

/** The inverse of normalizeScore (within [0, 1]): the raw score at a normalised position. */
export const denormalizeScore = (normalized: number, threshold: number, goodMedian: number): number =>
  threshold + (normalized - 0.5) * 2 * (threshold - goodMedian);

/**
 * The verdict for a raw score. `ngAt` moves the NG threshold on the normalised scale (0.5 = as
 * calibrated); the REVIEW band keeps its width below it.
 */
export function decide(raw: number, t: ImageThresholds, ngAt = 0.5): Verdict {
  const ng = denormalizeScore(ngAt, t.ng, t.goodMedian);
  const review = ng - (t.ng - t.review);
  return raw >= ng ? 'NG' : raw >= review ? 'REVIEW' : 'OK';
}

// Pure decision rules shared by the engine and the UI's live threshold preview.
import type { Verdict } from '../contract/contract.ts';

/** Raw image-level thresholds of an anomaly model (as saved with the model version). */
export interface ImageThresholds {
  ng: number;
  review: number;
  goodMedian: number;
}

/**
 * Raw → (0, 1): the threshold at 0.5, the good median at 0.25, strictly increasing everywhere.
 * With z the distance from the threshold in units of (threshold − good median), the score is
 * 0.5 + z / (2 (1 + |z|)): it approaches 0 and 1 only slowly, so scores far beyond the
 * threshold (where a line works at strict false-reject rates) keep their order instead of all
 * reading 1.
 */
export function normalizeScore(raw: number, threshold: number, goodMedian: number): number {
  const z = (raw - threshold) / Math.max(threshold - goodMedian, Number.MIN_VALUE);
  return 0.5 + z / (2 * (1 + Math.abs(z)));
}

/** The inverse of normalizeScore: the raw score at a normalised position in (0, 1). */
export function denormalizeScore(normalized: number, threshold: number, goodMedian: number): number {
  const d = Math.min(1 - 1e-12, Math.max(-1 + 1e-12, 2 * normalized - 1));
  return threshold + (d / (1 - Math.abs(d))) * (threshold - goodMedian);
}

/**
 * The verdict for a raw score. `ngAt` moves the NG threshold on the normalised scale (0.5 = as
 * calibrated); the REVIEW band keeps its width below it.
 */
export function decide(raw: number, t: ImageThresholds, ngAt = 0.5): Verdict {
  const ng = denormalizeScore(ngAt, t.ng, t.goodMedian);
  const review = ng - (t.ng - t.review);
  return raw >= ng ? 'NG' : raw >= review ? 'REVIEW' : 'OK';
}

import type { ModelThresholds } from '../contract/contract.ts';
import { denormalizeScore } from '../common/decision.ts';

/**
 * A model's thresholds moved to new positions on the normalised scale (0.5 = as calibrated): the
 * NG threshold with its REVIEW band's width, the region threshold, and a detection model's class
 * thresholds with the region threshold.
 */
export function movedThresholds(before: ModelThresholds, imageAt: number, pixelAt: number): ModelThresholds {
  const ng = denormalizeScore(imageAt, before.image.ng, before.image.goodMedian);
  return {
    ...before,
    image: { ...before.image, ng, review: Math.max(before.image.goodMedian, ng - (before.image.ng - before.image.review)) },
    pixel: { ...before.pixel, threshold: denormalizeScore(pixelAt, before.pixel.threshold, before.pixel.goodMedian) },
    // A detection model's class thresholds move with the region threshold, on the same normalised scale.
    ...(before.classes ? { classes: Object.fromEntries(Object.entries(before.classes).map(([name, t]) => [name, denormalizeScore(pixelAt, t, before.pixel.goodMedian)])) } : {}),
  };
}

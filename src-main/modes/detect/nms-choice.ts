import type { DetectMetrics, ModelThresholds } from '../../contract/contract.ts';
import type { DetectModelConfig } from './detector.ts';

/** A decoding of the trained detector, calibrated and measured on val. */
export interface JudgedDecoding {
  modelConfig: DetectModelConfig & { nmsIou: number };
  thresholds: ModelThresholds;
  validation: DetectMetrics;
}

/**
 * NMS overlaps val chooses from: 0.5 as RetinaNet and Faster R-CNN, 0.6 as FCOS, and one step to
 * either side. Large defects with vague extents want a low one (one box per region), touching
 * defects of one class a high one (each keeps its box).
 */
export const NMS_IOU_CANDIDATES = [0.4, 0.5, 0.6, 0.7];

/** Val mAP@0.5 differences this small are noise; the higher overlap then wins, keeping touching defects apart. */
const TIE = 0.002;

/** The NMS overlap with the best val box mAP@0.5, and what val measured for each. */
export function chooseNmsIou(judged: JudgedDecoding[]): JudgedDecoding & { reason: string } {
  const score = (j: JudgedDecoding): number => (Number.isFinite(j.validation.mean_box_ap50) ? j.validation.mean_box_ap50 : -1);
  const best = Math.max(...judged.map(score));
  const chosen = judged.filter((j) => score(j) >= best - TIE).reduce((a, b) => (b.modelConfig.nmsIou > a.modelConfig.nmsIou ? b : a));
  const measured = judged.map((j) => `${j.modelConfig.nmsIou}: ${score(j).toFixed(3)}`).join(', ');
  return { ...chosen, reason: `NMS overlap ${chosen.modelConfig.nmsIou}, the best val mAP@0.5 (${measured})` };
}

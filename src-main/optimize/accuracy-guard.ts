import type { GuardMetrics, GuardVerdict } from '../contract/contract.ts';

/** An optimised version may not lose more than this against its parent on the validation split. */
export const MAX_IMAGE_AUROC_DROP = 0.01;
export const MAX_PIXEL_IOU_DROP = 0.02;
export const MAX_BOX_MAP_DROP = 0.02;

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
  const parentMap = parent.box_map50 ?? null;
  const optimizedMap = optimized.box_map50 ?? null;
  if (parentMap !== null && (optimizedMap === null || parentMap - optimizedMap > MAX_BOX_MAP_DROP)) {
    failures.push(`box mAP@0.5 ${fmt(optimizedMap)} vs parent ${fmt(parentMap)} (more than ${MAX_BOX_MAP_DROP} lower)`);
  }
  return {
    passed: failures.length === 0, split: 'val', datasetId, parent, optimized,
    ...(failures.length ? { reason: `Inspects worse than its parent on the validation split: ${failures.join('; ')}` } : {}),
  };
}

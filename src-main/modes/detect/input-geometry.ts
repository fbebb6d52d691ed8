import { quantile } from '../../analysis/metrics.ts';
import type { LabelledBox } from './targets.ts';

/** Longest side of a training crop and of an inspection tile (larger images are tiled at the training scale). */
const MAX_INPUT_SIDE = 512;
/** The smallest defects (10th percentile short side) should cover at least one stride of the finest level. */
const MIN_DEFECT_SIDE = 8;
/** The largest defects (90th percentile long side) should fit in 80 % of the crop, so that crops can contain them. */
const LARGEST_DEFECT_SHARE = 0.8;
const MAX_UPSCALE = 2;

export interface DetectGeometryChoice {
  inputWidth: number;
  inputHeight: number;
  scale: number;
  reason: string;
}

/**
 * Network input and scale from the data: images at their own scale unless their smallest defects
 * are below one stride of P3 (then up to 2×) or their largest defects do not fit a crop (then
 * down); the input is the scaled image, rounded up to a multiple of 32, at most 512 px a side
 * (larger images are trained on crops and inspected in tiles), and a small image is stretched to
 * fill its rounded-up input.
 */
export function detectInputGeometry(images: { width: number; height: number }[], boxes: LabelledBox[]): DetectGeometryChoice {
  const width = quantile(images.map((i) => i.width), 0.5);
  const height = quantile(images.map((i) => i.height), 0.5);
  let scale = 1;
  let reason = 'native scale';
  if (boxes.length) {
    const shortSide = quantile(boxes.map((b) => Math.min(b.box[2] - b.box[0], b.box[3] - b.box[1])), 0.1);
    const longSide = quantile(boxes.map((b) => Math.max(b.box[2] - b.box[0], b.box[3] - b.box[1])), 0.9);
    const crop = Math.min(MAX_INPUT_SIDE, Math.max(width, height));
    if (shortSide > 0 && shortSide < MIN_DEFECT_SIDE) [scale, reason] = [Math.min(MAX_UPSCALE, MIN_DEFECT_SIDE / shortSide), `small defects (10th percentile ${shortSide.toFixed(1)} px) enlarged`];
    if (longSide * scale > LARGEST_DEFECT_SHARE * crop && Math.max(width, height) * scale > MAX_INPUT_SIDE) {
      scale = Math.max((LARGEST_DEFECT_SHARE * MAX_INPUT_SIDE) / longSide, MAX_INPUT_SIDE / Math.max(width, height));
      reason = `large defects (90th percentile ${longSide.toFixed(0)} px) reduced to fit a ${MAX_INPUT_SIDE} px crop`;
    }
  }
  const round = (v: number): number => Math.max(64, Math.min(MAX_INPUT_SIDE, Math.ceil(v / 32) * 32));
  const inputWidth = round(width * scale);
  const inputHeight = round(height * scale);
  // A whole image smaller than the input fills it (no padding learnt as background).
  if (width * scale <= inputWidth && height * scale <= inputHeight) scale = Math.min(inputWidth / width, inputHeight / height);
  return { inputWidth, inputHeight, scale, reason };
}

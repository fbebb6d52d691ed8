import { quantile } from '../../analysis/metrics.ts';

/** One network input (a whole image or one tile) holds at most this many pixels: a compute bound, not a quality choice. */
export const MAX_INPUT_PIXELS = 1024 * 1024;
/** An image is brought below this many pixels before analysis (at most about four tiles per image). */
export const MAX_ANALYSED_PIXELS = 4 * MAX_INPUT_PIXELS;
/** The smallest labelled defects must span at least one patch cell along their short side (the descriptor then averages it with its 3×3 neighbourhood). */
const MIN_DEFECT_CELLS = 1;
/** Which labelled defects count as "the smallest": this quantile of their short sides. */
const SMALL_DEFECT_QUANTILE = 0.1;
/** Labelled small defects may enlarge images at most this much (never without labelled defects). */
const MAX_UPSCALE = 2;

export interface InputGeometry {
  /** Network pixels per image pixel, the same along both axes (> 1 only for small labelled defects). */
  scale: number;
  /** The largest network input (multiples of 32); images larger than this at `scale` are tiled. */
  inputWidth: number;
  inputHeight: number;
  /** How the scale was chosen, in words, for the model's config and the training log. */
  reason: string;
}

const roundUp32 = (v: number): number => Math.max(64, Math.ceil(v / 32) * 32);

/**
 * The scale and network input of an anomaly model, from its training images and (when validation
 * defects are labelled) the defects' sizes. Images keep their native pixel scale: the features
 * then see the surface as the camera shows it, whatever the image size. Only images whose median
 * is above MAX_ANALYSED_PIXELS are scaled down, and never so far that the smallest labelled
 * defects span fewer than MIN_DEFECT_CELLS patch cells; such defects may also enlarge the images
 * (up to MAX_UPSCALE), which nothing else does. The input is the size of the larger
 * training images at that scale (90th percentile per axis), kept within MAX_INPUT_PIXELS.
 */
export function anomalyInputGeometry(images: { width: number; height: number }[], defectShortSides: number[], patchStride: number): InputGeometry {
  if (images.length === 0) throw new RangeError('anomalyInputGeometry needs at least one image');
  const medianArea = quantile(images.map((s) => s.width * s.height), 0.5);
  let scale = Math.min(1, Math.sqrt(MAX_ANALYSED_PIXELS / medianArea));
  let reason = scale < 1 ? `images of ${(medianArea / 1e6).toFixed(1)} MP scaled to ${(MAX_ANALYSED_PIXELS / 2 ** 20).toFixed(0)} MP` : 'native pixel scale';
  if (defectShortSides.length > 0) {
    const smallest = quantile(defectShortSides, SMALL_DEFECT_QUANTILE);
    const needed = (MIN_DEFECT_CELLS * patchStride) / Math.max(1, smallest);
    if (needed > scale) {
      scale = Math.min(MAX_UPSCALE, needed);
      reason = `scale ${scale.toFixed(2)} so that the small labelled defects (${Math.round(smallest)} px) span ${MIN_DEFECT_CELLS} patch cell${MIN_DEFECT_CELLS > 1 ? 's' : ''}`;
    }
  }
  let width = roundUp32(quantile(images.map((s) => s.width * scale), 0.9));
  let height = roundUp32(quantile(images.map((s) => s.height * scale), 0.9));
  if (width * height > MAX_INPUT_PIXELS) {
    const shrink = Math.sqrt(MAX_INPUT_PIXELS / (width * height));
    width = Math.max(64, Math.floor((width * shrink) / 32) * 32);
    height = Math.max(64, Math.floor((height * shrink) / 32) * 32);
  }
  return { scale, inputWidth: width, inputHeight: height, reason };
}

/** The short side of every labelled defect box, in image pixels. */
export function defectShortSides(samples: { boxes: { box: [number, number, number, number] }[] }[]): number[] {
  return samples.flatMap((s) => s.boxes.map(({ box: [x1, y1, x2, y2] }) => Math.min(x2 - x1, y2 - y1))).filter((v) => v > 0);
}

import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../images/preprocess.ts';
import { extractRegions, type Region } from '../common/regions.ts';
import { resizeMap } from '../postprocess/resize-map.ts';

/** Stacks same-sized images into the network's uint8 NHWC input. */
export function pixelsTensor(images: RgbImage[]): ort.Tensor {
  const { width, height } = images[0];
  const data = new Uint8Array(images.length * width * height * 3);
  images.forEach((image, i) => data.set(image.data, i * width * height * 3));
  return new ort.Tensor('uint8', data, [images.length, height, width, 3]);
}

/**
 * Per-pixel defect probability (1 − P(background)) of image `index` in a batch of segmentation
 * logits [N, classes+1, h, w], via a softmax over the class axis.
 */
export function defectProbability(logits: ort.Tensor, index: number): { map: Float32Array; width: number; height: number } {
  const [, channels, height, width] = logits.dims as number[];
  const plane = width * height;
  const data = logits.data as Float32Array;
  const base = index * channels * plane;
  const map = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    let max = -Infinity;
    for (let c = 0; c < channels; c++) max = Math.max(max, data[base + c * plane + p]);
    let sum = 0;
    let background = 0;
    for (let c = 0; c < channels; c++) {
      const e = Math.exp(data[base + c * plane + p] - max);
      sum += e;
      if (c === 0) background = e;
    }
    map[p] = 1 - background / sum;
  }
  return { map, width, height };
}

/** Network-resolution probabilities → a heatmap at the image's own size and its regions. */
export function mapToImage(probability: { map: Float32Array; width: number; height: number }, width: number, height: number, threshold: number, minArea: number): { heatmap: Float32Array; regions: Region[] } {
  const heatmap = resizeMap(probability.map, probability.width, probability.height, width, height);
  return { heatmap, regions: extractRegions(heatmap, width, height, threshold, minArea) };
}

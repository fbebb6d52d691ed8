import * as ort from 'onnxruntime-node';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import { type CropPlacement, NO_JITTER, randomJitter, renderCrop, scaledSize } from '../../images/augment.ts';
import type { BlobReader } from '../model-mode.ts';
import type { FineTuneBatch } from '../../training/fine-tuner.ts';

/**
 * The class of an image for a classifier: 0 "good" for a good image (when the model has a good
 * class), else its defect class: its whole-image class label, or without one the class most of
 * its regions carry (1-based project index shifted by the good class). Null for an image that
 * says nothing usable.
 */
export function imageClassOf(sample: DatasetSample, hasGood: boolean): number | null {
  if (sample.label === 'good') return hasGood ? 0 : null;
  if (sample.label !== 'defect') return null;
  const shift = hasGood ? 1 : 0;
  if (sample.imageClasses.length) return sample.imageClasses[0] - 1 + shift;
  const votes = new Map<number, number>();
  for (const r of [...sample.masks, ...sample.boxes, ...sample.polygons]) votes.set(r.classIndex, (votes.get(r.classIndex) ?? 0) + 1);
  const [best] = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return best ? best[0] - 1 + shift : null;
}

/**
 * The defect classes an image carries for a multi-label classifier (0-based project class order):
 * its whole-image class labels, or without them every class its regions carry; [] for a good
 * image; null for an image that says nothing usable.
 */
export function imageClassSetOf(sample: DatasetSample): number[] | null {
  if (sample.label === 'good') return [];
  if (sample.label !== 'defect') return null;
  const from = sample.imageClasses.length ? sample.imageClasses : [...sample.masks, ...sample.boxes, ...sample.polygons].map((r) => r.classIndex);
  const classes = [...new Set(from)].sort((a, b) => a - b).map((c) => c - 1);
  return classes.length ? classes : null;
}

/** Loss weight per class from the label counts: √(largest count / count), at most 10 (absent classes 1). */
export function classWeightsFrom(counts: number[]): number[] {
  const largest = Math.max(1, ...counts);
  return counts.map((n) => (n ? Math.min(10, Math.sqrt(largest / n)) : 1));
}

/**
 * Weight of a class's positive term in a multi-label loss from how many train images carry it:
 * √(images without / images with), between 1 and 10 (1 for a class no image carries).
 */
export function positiveWeightsFrom(carrying: number[], images: number): number[] {
  return carrying.map((n) => (n ? Math.min(10, Math.max(1, Math.sqrt((images - n) / n))) : 1));
}

/**
 * Target rows of a single-label image: the label-smoothed one-hot vector (the true class gets
 * 1 − ε + ε/K, the others ε/K) scaled by its class weight, for the "target" input.
 */
export function singleLabelTargets(classIndex: number, k: number, smoothing: number, classWeights: number[]): Float32Array[] {
  return [Float32Array.from({ length: k }, (_, j) => classWeights[classIndex] * ((j === classIndex ? 1 - smoothing : 0) + smoothing / k))];
}

/**
 * Target rows of a multi-label image, for the "target" and "target_negative" inputs: each class's
 * smoothed label t (1 − ε/2 present, ε/2 absent) times its positive weight, and 1 − t.
 */
export function multiLabelTargets(present: number[], k: number, smoothing: number, positiveWeights: number[]): Float32Array[] {
  const t = Array.from({ length: k }, (_, j) => (present.includes(j) ? 1 - smoothing / 2 : smoothing / 2));
  return [Float32Array.from(t, (v, j) => v * positiveWeights[j]), Float32Array.from(t, (v) => 1 - v)];
}

/** An image with its loss targets, one row of K values per target input. */
export interface LabelledImage {
  sample: DatasetSample;
  targets: Float32Array[];
}

export interface ClassifyGeometry {
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** The step graph's target inputs, in the order of each image's target rows. */
  targetNames: string[];
}

/** The scale that makes an image cover the network input. */
const coverScale = (sample: { width: number; height: number }, g: ClassifyGeometry): number => Math.max(g.inputWidth / sample.width, g.inputHeight / sample.height);

/**
 * Training batches of images drawn at random, as random resized crops (the image scaled to cover
 * the input, then 1–1.4× more, at a random place), flips and brightness/contrast jitter;
 * validation batches the centred cover crop. Targets carry their class weights (rare classes weigh
 * more, so the label counts need no resampling).
 */
export class ClassifyBatcher {
  constructor(private readonly blobs: BlobReader, private readonly samples: LabelledImage[], private readonly geometry: ClassifyGeometry, private readonly random: () => number) {}

  trainingBatch(size: number): Promise<FineTuneBatch> {
    const r = this.random;
    const crops = Array.from({ length: size }, () => {
      const item = this.samples[Math.floor(r() * this.samples.length)];
      const { sample } = item;
      const jitter = randomJitter(1, r);
      const scale = coverScale(sample, this.geometry) * (1 + 0.4 * r());
      const { width, height } = scaledSize(sample, scale);
      return { item, placement: { ...jitter, scale, x0: Math.round(r() * Math.max(0, width - this.geometry.inputWidth)), y0: Math.round(r() * Math.max(0, height - this.geometry.inputHeight)) } };
    });
    return this.render(crops);
  }

  /** Centred cover crops of samples[from…from+size) (repeating the last to fill the batch). */
  validationBatch(from: number, size: number): Promise<FineTuneBatch> {
    return this.render(Array.from({ length: size }, (_, k) => {
      const item = this.samples[Math.min(from + k, this.samples.length - 1)];
      const scale = coverScale(item.sample, this.geometry);
      const { width, height } = scaledSize(item.sample, scale);
      return { item, placement: { ...NO_JITTER, scale, x0: Math.floor((width - this.geometry.inputWidth) / 2), y0: Math.floor((height - this.geometry.inputHeight) / 2) } };
    }));
  }

  private async render(crops: { item: LabelledImage; placement: CropPlacement }[]): Promise<FineTuneBatch> {
    const { inputWidth: w, inputHeight: h, numClasses: k, targetNames } = this.geometry;
    const pixels = new Uint8Array(crops.length * w * h * 3);
    const targets = targetNames.map(() => new Float32Array(crops.length * k));
    for (const [b, { item, placement }] of crops.entries()) {
      await renderCrop(await this.blobs.get(item.sample.sha256), item.sample, placement, w, h, pixels, b * w * h * 3);
      targets.forEach((t, i) => t.set(item.targets[i], b * k));
    }
    return { pixels, targets: Object.fromEntries(targetNames.map((name, i) => [name, new ort.Tensor('float32', targets[i], [crops.length, k])])) };
  }
}

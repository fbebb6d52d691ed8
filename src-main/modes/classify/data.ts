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

/** Loss weight per class from the label counts: √(largest count / count), at most 10 (absent classes 1). */
export function classWeightsFrom(counts: number[]): number[] {
  const largest = Math.max(1, ...counts);
  return counts.map((n) => (n ? Math.min(10, Math.sqrt(largest / n)) : 1));
}

export interface ClassifyGeometry {
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Label smoothing ε: the true class gets 1 − ε + ε/K, the others ε/K. */
  smoothing: number;
  classWeights: number[];
}

/** The scale that makes an image cover the network input. */
const coverScale = (sample: { width: number; height: number }, g: ClassifyGeometry): number => Math.max(g.inputWidth / sample.width, g.inputHeight / sample.height);

/**
 * Training batches of images drawn at random, as random resized crops (the image scaled to cover
 * the input, then 1–1.4× more, at a random place), flips and brightness/contrast jitter;
 * validation batches the centred cover crop. Targets are the smoothed one-hot rows scaled by their
 * class weight (rare classes weigh more, so the label counts need no resampling).
 */
export class ClassifyBatcher {
  private readonly classOf: Map<number, number>;

  constructor(private readonly blobs: BlobReader, private readonly samples: { sample: DatasetSample; classIndex: number }[], private readonly geometry: ClassifyGeometry, private readonly random: () => number) {
    this.classOf = new Map(samples.map((s) => [s.sample.imageId, s.classIndex]));
  }

  trainingBatch(size: number): Promise<FineTuneBatch> {
    const r = this.random;
    const crops = Array.from({ length: size }, () => {
      const { sample } = this.samples[Math.floor(r() * this.samples.length)];
      const jitter = randomJitter(1, r);
      const scale = coverScale(sample, this.geometry) * (1 + 0.4 * r());
      const { width, height } = scaledSize(sample, scale);
      return { sample, placement: { ...jitter, scale, x0: Math.round(r() * Math.max(0, width - this.geometry.inputWidth)), y0: Math.round(r() * Math.max(0, height - this.geometry.inputHeight)) } };
    });
    return this.render(crops);
  }

  /** Centred cover crops of samples[from…from+size) (repeating the last to fill the batch). */
  validationBatch(from: number, size: number): Promise<FineTuneBatch> {
    return this.render(Array.from({ length: size }, (_, k) => {
      const { sample } = this.samples[Math.min(from + k, this.samples.length - 1)];
      const scale = coverScale(sample, this.geometry);
      const { width, height } = scaledSize(sample, scale);
      return { sample, placement: { ...NO_JITTER, scale, x0: Math.floor((width - this.geometry.inputWidth) / 2), y0: Math.floor((height - this.geometry.inputHeight) / 2) } };
    }));
  }

  private async render(crops: { sample: DatasetSample; placement: CropPlacement }[]): Promise<FineTuneBatch> {
    const { inputWidth: w, inputHeight: h, numClasses: k, smoothing, classWeights } = this.geometry;
    const pixels = new Uint8Array(crops.length * w * h * 3);
    const target = new Float32Array(crops.length * k);
    for (const [b, { sample, placement }] of crops.entries()) {
      await renderCrop(await this.blobs.get(sample.sha256), sample, placement, w, h, pixels, b * w * h * 3);
      const c = this.classOf.get(sample.imageId)!;
      for (let j = 0; j < k; j++) target[b * k + j] = classWeights[c] * ((j === c ? 1 - smoothing : 0) + smoothing / k);
    }
    return { pixels, targets: { target: new ort.Tensor('float32', target, [crops.length, k]) } };
  }
}

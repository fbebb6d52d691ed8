import { type CropPlacement, NO_JITTER, renderCrop, scaledSize, sourceOf } from '../../images/augment.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { labelMap } from '../../images/label-map.ts';

/** Resolution of the logits (and so of the targets) relative to the network input. */
export const LOGIT_STRIDE = 4;
/** Defect pixels remembered per class and image, for centring crops on defects. */
const FOCUS_POINTS = 2048;

export interface TrainingImage {
  sample: DatasetSample;
  /** Class per pixel at the image's resolution; null for an image without defects. */
  labels: Uint8Array | null;
  /** Some pixel indices of each class present. */
  focus: Map<number, Int32Array>;
}

export interface Batch {
  /** uint8 RGB, [batch, height, width, 3]. */
  pixels: Uint8Array;
  /** One-hot targets at 1/4 resolution, [batch, classes+1, height/4, width/4]. */
  target: Float32Array;
}

export interface BatchGeometry {
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Image → network scale every image is brought to (the training set's median fit). */
  scale: number;
}

/** Loads label maps of the samples (once; images themselves are decoded per crop). */
export async function loadTrainingImages(blobs: BlobReader, samples: DatasetSample[], onProgress?: (done: number, total: number) => void): Promise<TrainingImage[]> {
  const images: TrainingImage[] = [];
  for (const [i, sample] of samples.entries()) {
    const hasLabels = sample.masks.length + sample.boxes.length + sample.polygons.length > 0;
    const labels = hasLabels ? await labelMap(blobs, sample) : null;
    const focus = new Map<number, Int32Array>();
    if (labels) {
      const byClass = new Map<number, number[]>();
      for (let p = 0; p < labels.length; p++) if (labels[p]) (byClass.get(labels[p]) ?? byClass.set(labels[p], []).get(labels[p])!).push(p);
      for (const [c, pixels] of byClass) {
        const step = Math.max(1, Math.floor(pixels.length / FOCUS_POINTS));
        focus.set(c, Int32Array.from(pixels.filter((_, k) => k % step === 0)));
      }
    }
    images.push({ sample, labels: focus.size ? labels : null, focus });
    onProgress?.(i + 1, samples.length);
  }
  return images;
}

interface Crop extends CropPlacement {
  image: TrainingImage;
}

/**
 * Builds training batches: class-balanced choice of images (defect-free images and each defect
 * class are drawn equally often), crops centred near a defect of the drawn class, random scale
 * (0.8–1.25), flips and brightness/contrast jitter. Without augmentation it gives the centre
 * crop at the base scale (validation).
 */
export class SegmentBatcher {
  private readonly buckets: { classIndex: number; images: TrainingImage[] }[];

  constructor(private readonly blobs: BlobReader, private readonly images: TrainingImage[], private readonly geometry: BatchGeometry, private readonly random: () => number) {
    const buckets = Array.from({ length: geometry.numClasses + 1 }, (_, c) => ({
      classIndex: c, images: images.filter((i) => (c === 0 ? !i.labels : i.focus.has(c))),
    }));
    this.buckets = buckets.filter((b) => b.images.length > 0);
  }

  async trainingBatch(size: number): Promise<Batch> {
    const crops: Crop[] = [];
    for (let k = 0; k < size; k++) crops.push(this.randomCrop());
    return this.render(crops);
  }

  /** Validation crops of `images[from…from+size)` (repeating the last to fill the batch). */
  async validationBatch(from: number, size: number): Promise<Batch> {
    const crops: Crop[] = [];
    for (let k = 0; k < size; k++) {
      const image = this.images[Math.min(from + k, this.images.length - 1)];
      const { width, height } = scaledSize(image.sample, this.geometry.scale);
      crops.push({
        image, scale: this.geometry.scale, x0: Math.floor((width - this.geometry.inputWidth) / 2), y0: Math.floor((height - this.geometry.inputHeight) / 2),
        ...NO_JITTER,
      });
    }
    return this.render(crops);
  }

  private randomCrop(): Crop {
    const r = this.random;
    const bucket = this.buckets[Math.floor(r() * this.buckets.length)];
    const image = bucket.images[Math.floor(r() * bucket.images.length)];
    const scale = this.geometry.scale * Math.exp(Math.log(0.8) + r() * Math.log(1.25 / 0.8));
    const { width, height } = scaledSize(image.sample, scale);
    const { inputWidth: cw, inputHeight: ch } = this.geometry;
    const place = (extent: number, crop: number, focus?: number): number => {
      const lo = Math.min(0, extent - crop);
      const hi = Math.max(0, extent - crop);
      const start = focus === undefined ? lo + r() * (hi - lo) : focus - crop * (0.15 + 0.7 * r());
      return Math.round(Math.min(hi, Math.max(lo, start)));
    };
    let fx: number | undefined;
    let fy: number | undefined;
    if (bucket.classIndex > 0) {
      const points = image.focus.get(bucket.classIndex)!;
      const p = points[Math.floor(r() * points.length)];
      fx = ((p % image.sample.width) + 0.5) * scale;
      fy = (Math.floor(p / image.sample.width) + 0.5) * scale;
    }
    return {
      image, scale, x0: place(width, cw, fx), y0: place(height, ch, fy),
      flipX: r() < 0.5, flipY: r() < 0.5, contrast: 0.8 + 0.4 * r(), brightness: (r() - 0.5) * 40,
    };
  }

  private async render(crops: Crop[]): Promise<Batch> {
    const { inputWidth: cw, inputHeight: ch, numClasses } = this.geometry;
    const tw = cw / LOGIT_STRIDE;
    const th = ch / LOGIT_STRIDE;
    const pixels = new Uint8Array(crops.length * cw * ch * 3);
    const target = new Float32Array(crops.length * (numClasses + 1) * tw * th);
    for (const [b, crop] of crops.entries()) {
      const src = crop.image.sample;
      await renderCrop(await this.blobs.get(src.sha256), src, crop, cw, ch, pixels, b * cw * ch * 3);
      const { width, height } = scaledSize(src, crop.scale);
      const labels = crop.image.labels;
      const votes = new Uint16Array((numClasses + 1) * tw * th);
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const { x: xx, y: yy } = sourceOf(crop, x, y, cw, ch);
          let label = 0;
          if (labels && xx >= 0 && yy >= 0 && xx < width && yy < height) {
            const ox = Math.min(src.width - 1, Math.floor((xx + 0.5) / crop.scale));
            const oy = Math.min(src.height - 1, Math.floor((yy + 0.5) / crop.scale));
            label = labels[oy * src.width + ox];
          }
          votes[(label * th + (y >> 2)) * tw + (x >> 2)]++;
        }
      }
      // A cell takes its most frequent defect class if it has any defect pixel (small defects survive).
      for (let cell = 0; cell < tw * th; cell++) {
        let best = 0;
        for (let c = 1; c <= numClasses; c++) if (votes[c * tw * th + cell] > (best ? votes[best * tw * th + cell] : 0)) best = c;
        target[(b * (numClasses + 1) + best) * tw * th + cell] = 1;
      }
    }
    return { pixels, target };
  }
}

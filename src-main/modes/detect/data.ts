import { extractRegions } from '../../common/regions.ts';
import { labelMap } from '../../images/label-map.ts';
import { type CropPlacement, NO_JITTER, renderCrop, scaledSize } from '../../images/augment.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { assignTargets, type DetectionTargetArrays, emptyTargets, type LabelledBox, type LevelSize } from './targets.ts';

/** A training image and its defect boxes in image pixels. */
export interface DetectImage {
  sample: DatasetSample;
  boxes: LabelledBox[];
}

export interface DetectBatch {
  /** uint8 RGB, [batch, height, width, 3]. */
  pixels: Uint8Array;
  targets: DetectionTargetArrays;
  /** Each image's boxes in network pixels (for validation AP). */
  boxes: LabelledBox[][];
}

export interface DetectGeometry {
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Image → network scale every image is brought to. */
  scale: number;
  levels: LevelSize[];
}

/**
 * A sample's defect boxes: its boxes and the bounding boxes of its polygons; for an image labelled
 * only with masks, the bounding boxes of each class's connected regions.
 */
export async function defectBoxes(blobs: BlobReader, sample: DatasetSample, numClasses: number): Promise<LabelledBox[]> {
  const drawn: LabelledBox[] = [
    ...sample.boxes.map((b) => ({ box: b.box, classIndex: b.classIndex })),
    ...sample.polygons.map((p) => ({
      box: [Math.min(...p.points.map((q) => q[0])), Math.min(...p.points.map((q) => q[1])), Math.max(...p.points.map((q) => q[0])), Math.max(...p.points.map((q) => q[1]))] as LabelledBox['box'],
      classIndex: p.classIndex,
    })),
  ];
  if (drawn.length || sample.masks.length === 0) return drawn.filter((b) => b.classIndex >= 1 && b.classIndex <= numClasses);
  const labels = await labelMap(blobs, sample);
  const boxes: LabelledBox[] = [];
  for (let c = 1; c <= numClasses; c++) {
    const mask = new Float32Array(labels.length);
    for (let p = 0; p < labels.length; p++) if (labels[p] === c) mask[p] = 1;
    for (const region of extractRegions(mask, sample.width, sample.height, 0.5, 1)) boxes.push({ box: region.box, classIndex: c });
  }
  return boxes;
}

export async function loadDetectImages(blobs: BlobReader, samples: DatasetSample[], numClasses: number, onProgress?: (done: number, total: number) => void): Promise<DetectImage[]> {
  const images: DetectImage[] = [];
  for (const [i, sample] of samples.entries()) {
    images.push({ sample, boxes: sample.label === 'defect' ? await defectBoxes(blobs, sample, numClasses) : [] });
    onProgress?.(i + 1, samples.length);
  }
  return images;
}

interface Crop extends CropPlacement {
  image: DetectImage;
}

/** A box cut by the crop border is kept when at least this share of it is inside. */
const MIN_VISIBLE = 0.4;

/**
 * Detection batches: class-balanced choice of images (defect-free images and each class drawn
 * equally often), crops that contain a box of the drawn class, random scale (0.8–1.25), flips and
 * brightness/contrast jitter, with the boxes moved along. Without augmentation it gives the
 * top-left crop at the base scale (validation).
 */
export class DetectBatcher {
  private readonly buckets: { classIndex: number; images: DetectImage[] }[];

  constructor(private readonly blobs: BlobReader, private readonly images: DetectImage[], private readonly geometry: DetectGeometry, private readonly random: () => number) {
    this.buckets = Array.from({ length: geometry.numClasses + 1 }, (_, c) => ({
      classIndex: c, images: images.filter((i) => (c === 0 ? i.boxes.length === 0 : i.boxes.some((b) => b.classIndex === c))),
    })).filter((b) => b.images.length > 0);
  }

  async trainingBatch(size: number): Promise<DetectBatch> {
    const crops: Crop[] = [];
    for (let k = 0; k < size; k++) crops.push(this.randomCrop());
    return this.render(crops);
  }

  /** Validation crops of `images[from…from+size)` (repeating the last to fill the batch). */
  async validationBatch(from: number, size: number): Promise<DetectBatch> {
    const crops: Crop[] = [];
    for (let k = 0; k < size; k++) {
      const image = this.images[Math.min(from + k, this.images.length - 1)];
      crops.push({ image, scale: this.geometry.scale, x0: 0, y0: 0, ...NO_JITTER });
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
    const focus = bucket.classIndex > 0 ? image.boxes.filter((b) => b.classIndex === bucket.classIndex) : [];
    const target = focus.length ? focus[Math.floor(r() * focus.length)] : undefined;
    const place = (extent: number, crop: number, lo?: number, hi?: number): number => {
      const min = Math.min(0, extent - crop);
      const max = Math.max(0, extent - crop);
      // A crop that shows the chosen box: its centre somewhere in the crop's middle 70 %.
      const start = lo === undefined || hi === undefined ? min + r() * (max - min) : ((lo + hi) / 2) * scale - crop * (0.15 + 0.7 * r());
      return Math.round(Math.min(max, Math.max(min, start)));
    };
    return {
      image, scale, x0: place(width, cw, target?.box[0], target?.box[2]), y0: place(height, ch, target?.box[1], target?.box[3]),
      flipX: r() < 0.5, flipY: r() < 0.5, contrast: 0.8 + 0.4 * r(), brightness: (r() - 0.5) * 40,
    };
  }

  /** The crop's boxes in network pixels. */
  private cropBoxes(crop: Crop): LabelledBox[] {
    const { inputWidth: cw, inputHeight: ch } = this.geometry;
    const kept: LabelledBox[] = [];
    for (const b of crop.image.boxes) {
      let x1 = b.box[0] * crop.scale - crop.x0;
      let x2 = b.box[2] * crop.scale - crop.x0;
      let y1 = b.box[1] * crop.scale - crop.y0;
      let y2 = b.box[3] * crop.scale - crop.y0;
      if (crop.flipX) [x1, x2] = [cw - x2, cw - x1];
      if (crop.flipY) [y1, y2] = [ch - y2, ch - y1];
      const area = (x2 - x1) * (y2 - y1);
      const clipped: LabelledBox['box'] = [Math.max(0, x1), Math.max(0, y1), Math.min(cw, x2), Math.min(ch, y2)];
      const visible = Math.max(0, clipped[2] - clipped[0]) * Math.max(0, clipped[3] - clipped[1]);
      if (visible > 0 && visible >= MIN_VISIBLE * area) kept.push({ box: clipped, classIndex: b.classIndex });
    }
    return kept;
  }

  private async render(crops: Crop[]): Promise<DetectBatch> {
    const { inputWidth: cw, inputHeight: ch, numClasses, levels } = this.geometry;
    const pixels = new Uint8Array(crops.length * cw * ch * 3);
    const targets = emptyTargets(crops.length, numClasses, levels);
    const boxes: LabelledBox[][] = [];
    for (const [b, crop] of crops.entries()) {
      await renderCrop(await this.blobs.get(crop.image.sample.sha256), crop.image.sample, crop, cw, ch, pixels, b * cw * ch * 3);
      const cropBoxes = this.cropBoxes(crop);
      assignTargets(cropBoxes, levels, numClasses, targets, b);
      boxes.push(cropBoxes);
    }
    return { pixels, targets, boxes };
  }
}

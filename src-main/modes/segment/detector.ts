import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../../contract/contract.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { openSession, type SessionSource } from '../../runtime/sessions.ts';
import { resizeAsTrained } from '../../images/augment.ts';
import type { RgbImage } from '../../images/preprocess.ts';
import { resizeClassMap, resizeMap } from '../../analysis/resize-map.ts';
import type { SegmentNetworkConfig } from './network.ts';

/** What a segmentation model version stores besides its network. */
export interface SegmentModelConfig extends SegmentNetworkConfig {
  /** Image → network scale used in training; inspection resizes every image by it. */
  scale: number;
  minRegionArea?: number;
  /**
   * How an image is scored: the highest per-pixel defect log-odds (log Σ_defect e^logit −
   * background logit, in double precision), which keeps ranking parts whose defect probability
   * rounds to 1 in float32. Absent in versions trained before it: the highest defect probability,
   * which their thresholds were calibrated on.
   */
  imageScore?: 'max-log-odds';
}

/** Stacks same-sized images into the network's uint8 NHWC input. */
export function pixelsTensor(images: RgbImage[]): ort.Tensor {
  const { width, height } = images[0];
  if (images.length === 1) return new ort.Tensor('uint8', images[0].data, [1, height, width, 3]);
  const data = new Uint8Array(images.length * width * height * 3);
  images.forEach((image, i) => data.set(image.data, i * width * height * 3));
  return new ort.Tensor('uint8', data, [images.length, height, width, 3]);
}

/**
 * Per-cell defect probability (1 − P(background), softmax over the class axis), the most likely
 * defect class of image `index` in logits [N, classes+1, h, w], and the highest defect log-odds.
 */
export function defectProbability(logits: ort.Tensor, index = 0): { map: Float32Array; classes: Uint8Array; width: number; height: number; maxLogOdds: number } {
  const [, channels, height, width] = logits.dims as number[];
  const plane = width * height;
  const data = logits.data as Float32Array;
  const base = index * channels * plane;
  const map = new Float32Array(plane);
  const classes = new Uint8Array(plane);
  let maxLogOdds = -Infinity;
  for (let p = 0; p < plane; p++) {
    let max = -Infinity;
    for (let c = 0; c < channels; c++) max = Math.max(max, data[base + c * plane + p]);
    let defects = 0;
    let best = 1;
    for (let c = 1; c < channels; c++) {
      const v = data[base + c * plane + p];
      defects += Math.exp(v - max);
      if (v > data[base + best * plane + p]) best = c;
    }
    const background = Math.exp(data[base + p] - max);
    map[p] = 1 - background / (background + defects);
    classes[p] = best;
    maxLogOdds = Math.max(maxLogOdds, Math.log(defects) - (data[base + p] - max));
  }
  return { map, classes, width, height, maxLogOdds };
}

/** Network size for an image: scaled as in training, rounded to the network's stride of 32. */
export function networkSize(width: number, height: number, scale: number): { width: number; height: number } {
  const round = (v: number): number => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round(width), height: round(height) };
}

/** An image resized by the model's training scale, as the network receives it. */
export async function networkImage(config: SegmentModelConfig, image: RgbImage): Promise<RgbImage> {
  const size = networkSize(image.width, image.height, config.scale);
  return size.width === image.width && size.height === image.height ? image : resizeAsTrained(image, size.width, size.height);
}

/** A fine-tuned segmentation model ready to inspect: defect probability per pixel and its class. */
export class SegmentDetector {
  private constructor(private readonly session: ort.InferenceSession, readonly config: SegmentModelConfig, readonly provider: ExecutionProviderReport, private readonly owned: boolean) {}

  static async create(network: Uint8Array, config: SegmentModelConfig, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<SegmentDetector> {
    const { session, report, owned } = await openSession(source, 'network', network, provider);
    return new SegmentDetector(session, config, report, owned);
  }

  async analyse(image: RgbImage): Promise<AnomalyAnalysis> {
    const t0 = performance.now();
    const { seg_logits } = await this.session.run({ image: pixelsTensor([await networkImage(this.config, image)]) });
    const t1 = performance.now();
    const cells = defectProbability(seg_logits);
    const heatmap = resizeMap(cells.map, cells.width, cells.height, image.width, image.height);
    let rawScore = 0;
    if (this.config.imageScore === 'max-log-odds') rawScore = cells.maxLogOdds;
    else for (const v of heatmap) rawScore = Math.max(rawScore, v);
    const classMap = resizeClassMap(cells.classes, cells.width, cells.height, image.width, image.height);
    return {
      rawScore, heatmap, width: image.width, height: image.height, classMap, classNames: this.config.classes,
      ms: { network: t1 - t0, scoring: 0, map: performance.now() - t1 },
    };
  }

  async release(): Promise<void> {
    if (this.owned) await this.session.release();
  }
}

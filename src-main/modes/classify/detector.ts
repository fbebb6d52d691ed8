import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../../contract/contract.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { resizeClassMap, resizeMap } from '../../analysis/resize-map.ts';
import { resizeAsTrained } from '../../images/augment.ts';
import type { RgbImage } from '../../images/preprocess.ts';
import { openSession, type SessionSource } from '../../runtime/sessions.ts';
import type { ClassifyNetworkConfig } from './network.ts';

/** What a classifier version stores besides its network. */
export interface ClassifyModelConfig extends ClassifyNetworkConfig {
  /** Whether classes[0] is "good". */
  hasGood: boolean;
  minRegionArea?: number;
}

/** Softmax of one row of logits. */
export function softmax(logits: Float32Array, from: number, k: number): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, logits[from + j]);
  const p = new Float64Array(k);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += p[j] = Math.exp(logits[from + j] - max);
  for (let j = 0; j < k; j++) p[j] /= sum;
  return p;
}

/** Independent class probabilities of a multi-label row. */
export function sigmoids(logits: Float32Array, from: number, k: number): Float64Array {
  return Float64Array.from({ length: k }, (_, j) => 1 / (1 + Math.exp(-logits[from + j])));
}

/**
 * The whole image resized to the network input (aspect stretched to it). Validation crops the centre
 * that covers the input instead; the two agree for images of the input's aspect, which the input
 * size is chosen from (the training images' median aspect).
 */
export const networkImage = (config: ClassifyNetworkConfig, image: RgbImage): Promise<RgbImage> =>
  image.width === config.inputWidth && image.height === config.inputHeight ? Promise.resolve(image) : resizeAsTrained(image, config.inputWidth, config.inputHeight);

export const pixelsTensor = (image: RgbImage): ort.Tensor => new ort.Tensor('uint8', image.data, [1, image.height, image.width, 3]);

/** A class activation map scaled to 0…1. */
function normalisedMap(data: Float32Array, from: number, size: number): Float32Array {
  const map = data.slice(from, from + size);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < size; i++) map[i] = hi > lo ? (map[i] - lo) / (hi - lo) : 0;
  return map;
}

/**
 * A classifier ready to inspect. The image score is the probability that the part is not good
 * (with a good class), the winning class's probability (without one), or the highest class
 * probability (multi-label). The heatmap is the activation map (classifier weights over C5) of the
 * winning defect class, or of every class a multi-label model finds (each scaled by its
 * probability, each pixel taking the class whose map is highest there), scaled to 0…score and
 * resized to the image, so Inspect shows where the network looked.
 */
export class ClassifyDetector {
  private constructor(private readonly session: ort.InferenceSession, readonly config: ClassifyModelConfig, readonly provider: ExecutionProviderReport, private readonly owned: boolean) {}

  static async create(network: Uint8Array, config: ClassifyModelConfig, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<ClassifyDetector> {
    const { session, report, owned } = await openSession(source, 'network', network, provider);
    return new ClassifyDetector(session, config, report, owned);
  }

  /** Class probabilities of an image, in the model's class order (softmax, or one sigmoid per class for a multi-label model). */
  async probabilities(image: RgbImage): Promise<{ probabilities: Float64Array; maps: ort.Tensor }> {
    const { logits, class_maps } = await this.session.run({ image: pixelsTensor(await networkImage(this.config, image)) });
    const k = this.config.classes.length;
    return { probabilities: (this.config.multiLabel ? sigmoids : softmax)(logits.data as Float32Array, 0, k), maps: class_maps };
  }

  async analyse(image: RgbImage): Promise<AnomalyAnalysis> {
    const t0 = performance.now();
    const { probabilities: p, maps } = await this.probabilities(image);
    const t1 = performance.now();
    const { classes, hasGood, multiLabel } = this.config;
    const k = classes.length;
    const first = hasGood ? 1 : 0;
    let winner = first;
    for (let j = first; j < k; j++) if (p[j] > p[winner]) winner = j;
    const rawScore = hasGood ? 1 - p[0] : p[winner];
    // The classes the image carries: every class above 0.5 (multi-label), else the most probable.
    const found = multiLabel ? classes.flatMap((_, j) => (p[j] >= 0.5 ? [j] : [])) : [winner];
    const shown = found.length ? found : [winner];
    const [, , h, w] = maps.dims as number[];
    const data = maps.data as Float32Array;
    const cam = new Float32Array(h * w);
    const camClass = new Uint8Array(h * w);
    for (const j of shown) {
      const map = normalisedMap(data, j * h * w, h * w);
      const weight = multiLabel ? p[j] : rawScore;
      for (let i = 0; i < h * w; i++) {
        if (map[i] * weight >= cam[i]) {
          cam[i] = map[i] * weight;
          camClass[i] = j - first + 1;
        }
      }
    }
    const heatmap = resizeMap(cam, w, h, image.width, image.height);
    let best = 0;
    for (let j = 1; j < k; j++) if (p[j] > p[best]) best = j;
    const predictedClasses = multiLabel ? found.map((j) => classes[j]) : [classes[best]];
    return {
      rawScore, heatmap, width: image.width, height: image.height,
      classMap: resizeClassMap(camClass, w, h, image.width, image.height), classNames: classes.slice(first),
      ms: { network: t1 - t0, scoring: 0, map: performance.now() - t1 },
      classProbabilities: Object.fromEntries(classes.map((c, j) => [c, p[j]])),
      predictedClass: multiLabel && found.length === 0 ? 'good' : classes[best], predictedClasses,
    };
  }

  async release(): Promise<void> {
    if (this.owned) await this.session.release();
  }
}

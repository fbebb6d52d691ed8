import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../../contract/contract.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { resizeMap } from '../../analysis/resize-map.ts';
import { resizeRgb, type RgbImage } from '../../images/preprocess.ts';
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

/** The image resized to the network input, as in validation (the whole image, aspect stretched to the input). */
export const networkImage = (config: ClassifyNetworkConfig, image: RgbImage): Promise<RgbImage> =>
  image.width === config.inputWidth && image.height === config.inputHeight ? Promise.resolve(image) : resizeRgb(image, config.inputWidth, config.inputHeight);

export const pixelsTensor = (image: RgbImage): ort.Tensor => new ort.Tensor('uint8', image.data, [1, image.height, image.width, 3]);

/**
 * A classifier ready to inspect. The image score is the probability that the part is not good
 * (with a good class), else the winning class's probability; the heatmap is the winning defect
 * class's activation map (its classifier weights over C5), scaled to 0…score and resized to the
 * image, so Inspect shows where the network looked; every pixel's class is the winning class.
 */
export class ClassifyDetector {
  private constructor(private readonly session: ort.InferenceSession, readonly config: ClassifyModelConfig, readonly provider: ExecutionProviderReport, private readonly owned: boolean) {}

  static async create(network: Uint8Array, config: ClassifyModelConfig, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<ClassifyDetector> {
    const { session, report, owned } = await openSession(source, 'network', network, provider);
    return new ClassifyDetector(session, config, report, owned);
  }

  /** Class probabilities of an image, in the model's class order. */
  async probabilities(image: RgbImage): Promise<{ probabilities: Float64Array; maps: ort.Tensor }> {
    const { logits, class_maps } = await this.session.run({ image: pixelsTensor(await networkImage(this.config, image)) });
    return { probabilities: softmax(logits.data as Float32Array, 0, this.config.classes.length), maps: class_maps };
  }

  async analyse(image: RgbImage): Promise<AnomalyAnalysis> {
    const t0 = performance.now();
    const { probabilities: p, maps } = await this.probabilities(image);
    const t1 = performance.now();
    const k = this.config.classes.length;
    const first = this.config.hasGood ? 1 : 0;
    let winner = first;
    for (let j = first; j < k; j++) if (p[j] > p[winner]) winner = j;
    const rawScore = this.config.hasGood ? 1 - p[0] : p[winner];
    const [, , h, w] = maps.dims as number[];
    const data = maps.data as Float32Array;
    const cam = new Float32Array(h * w);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      cam[i] = data[winner * h * w + i];
      lo = Math.min(lo, cam[i]);
      hi = Math.max(hi, cam[i]);
    }
    for (let i = 0; i < h * w; i++) cam[i] = hi > lo ? ((cam[i] - lo) / (hi - lo)) * rawScore : 0;
    const heatmap = resizeMap(cam, w, h, image.width, image.height);
    let best = 0;
    for (let j = 1; j < k; j++) if (p[j] > p[best]) best = j;
    return {
      rawScore, heatmap, width: image.width, height: image.height,
      classMap: new Uint8Array(image.width * image.height).fill(winner - first + 1), classNames: this.config.classes.slice(first),
      ms: { network: t1 - t0, scoring: 0, map: performance.now() - t1 },
      classProbabilities: Object.fromEntries(this.config.classes.map((c, j) => [c, p[j]])), predictedClass: this.config.classes[best],
    };
  }

  async release(): Promise<void> {
    if (this.owned) await this.session.release();
  }
}

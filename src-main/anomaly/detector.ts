import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport, Verdict } from '../api/contract.ts';
import type { RgbImage } from '../images/preprocess.ts';
import { buildNetwork } from '../model/network.ts';
import type { BackboneWeights } from '../model/resnet50.ts';
import { extractRegions } from '../postprocess/regions.ts';
import { createSession } from '../runtime/sessions.ts';
import { resizeRgb } from '../runtime/detector.ts';
import { anomalyMap } from './anomaly-map.ts';
import { type AnomalyThresholds, normalizeScore, verdictOf } from './calibration.ts';
import { patchFeatureHead } from './patch-features.ts';
import { buildScorer, scorePatches } from './scorer.ts';

/** Everything that defines an anomaly model besides its weights; saved with the model version. */
export interface AnomalyConfig {
  /** Network input (multiples of 32); every image is resized to it. */
  inputWidth: number;
  inputHeight: number;
  /** Patch descriptor size after random projection, and the projection's seed. */
  dim: number;
  projectionSeed: number;
  /** Patches kept per training image before coreset selection, and the memory bank size. */
  patchesPerImage: number;
  coresetSize: number;
  seed: number;
  /** Gaussian smoothing of the patch-distance map, in feature cells (one cell = 8 input pixels). */
  blurSigma: number;
  /** Regions smaller than this many image pixels are ignored. */
  minRegionArea: number;
}

/**
 * Defaults chosen on bsdata (1130×460 line images): at 768 px wide the validation image AUROC was
 * 0.78, at 1152 px 0.87 — small defects need close to native resolution.
 */
export const DEFAULT_ANOMALY_CONFIG: AnomalyConfig = {
  inputWidth: 1152,
  inputHeight: 480,
  dim: 384,
  projectionSeed: 17,
  patchesPerImage: 512,
  coresetSize: 4096,
  seed: 1,
  blurSigma: 1,
  minRegionArea: 16,
};

export interface PatchGrid {
  /** [rows × cols, dim], row-major patches. */
  data: Float32Array;
  cols: number;
  rows: number;
}

export function buildPatchFeatureModel(backbone: BackboneWeights, config: AnomalyConfig): Uint8Array {
  return buildNetwork({
    name: 'anomaly-patch-features',
    backbone,
    input: 'pixels',
    stages: 3,
    heads: [patchFeatureHead({ dim: config.dim, seed: config.projectionSeed })],
  });
}

/** Runs the patch-feature network on images resized to the model's input. */
export class PatchExtractor {
  private constructor(private readonly session: ort.InferenceSession, readonly config: AnomalyConfig, readonly provider: ExecutionProviderReport) {}

  static async create(model: Uint8Array, config: AnomalyConfig, provider: ExecutionProviderChoice): Promise<PatchExtractor> {
    const { session, report } = await createSession({ model, provider, dims: { N: 1, H: config.inputHeight, W: config.inputWidth } });
    return new PatchExtractor(session, config, report);
  }

  async extract(image: RgbImage): Promise<PatchGrid> {
    const input = await resizeRgb(image, this.config.inputWidth, this.config.inputHeight);
    const { patch_features } = await this.session.run({ image: new ort.Tensor('uint8', input.data, [1, input.height, input.width, 3]) });
    const [, rows, cols] = patch_features.dims as number[];
    return { data: patch_features.data as Float32Array, rows, cols };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export interface AnomalyAnalysis {
  rawScore: number;
  /** Raw anomaly score per image pixel, row-major. */
  heatmap: Float32Array;
  width: number;
  height: number;
  ms: { network: number; scoring: number; map: number };
}

export interface Judgement {
  verdict: Verdict;
  /** Normalised image score in [0, 1]; the NG threshold is 0.5. */
  score: number;
  rawScore: number;
  regions: { class: string; score: number; box: [number, number, number, number]; area: number }[];
}

/** A trained anomaly model ready to inspect: patch features, then kNN distance to the bank. */
export class AnomalyDetector {
  private constructor(private readonly extractor: PatchExtractor, private readonly scorer: ort.InferenceSession, private readonly bankSize: number) {}

  static async create(featureModel: Uint8Array, scorerModel: Uint8Array, config: AnomalyConfig, bankSize: number, provider: ExecutionProviderChoice): Promise<AnomalyDetector> {
    const extractor = await PatchExtractor.create(featureModel, config, provider);
    // The scorer runs where the backbone landed.
    const { session } = await createSession({ model: scorerModel, provider: extractor.provider.active ?? 'cpu' });
    return new AnomalyDetector(extractor, session, bankSize);
  }

  static async fromBank(extractor: PatchExtractor, bank: Float32Array): Promise<AnomalyDetector> {
    const { session } = await createSession({ model: buildScorer(bank, extractor.config.dim), provider: extractor.provider.active ?? 'cpu' });
    return new AnomalyDetector(extractor, session, bank.length / extractor.config.dim);
  }

  get config(): AnomalyConfig {
    return this.extractor.config;
  }

  get provider(): ExecutionProviderReport {
    return this.extractor.provider;
  }

  async analyse(image: RgbImage): Promise<AnomalyAnalysis> {
    const t0 = performance.now();
    const grid = await this.extractor.extract(image);
    const t1 = performance.now();
    const distances = await scorePatches(this.scorer, grid.data, this.config.dim, this.bankSize);
    const t2 = performance.now();
    const { score, heatmap } = anomalyMap(distances, grid.cols, grid.rows, image.width, image.height, this.config.blurSigma);
    const t3 = performance.now();
    return { rawScore: score, heatmap, width: image.width, height: image.height, ms: { network: t1 - t0, scoring: t2 - t1, map: t3 - t2 } };
  }

  async release(): Promise<void> {
    await Promise.all([this.extractor.release(), this.scorer.release()]);
  }
}

/** Verdict, normalised score and regions of an analysed image under the model's thresholds. */
export function judge(analysis: AnomalyAnalysis, thresholds: AnomalyThresholds, minRegionArea: number): Judgement {
  const pixel = thresholds.pixel;
  return {
    verdict: verdictOf(analysis.rawScore, thresholds),
    score: normalizeScore(analysis.rawScore, thresholds.image.ng, thresholds.image.goodMedian),
    rawScore: analysis.rawScore,
    regions: extractRegions(analysis.heatmap, analysis.width, analysis.height, pixel.threshold, minRegionArea).map((r) => ({
      class: 'anomaly',
      score: normalizeScore(r.maxScore, pixel.threshold, pixel.goodMedian),
      box: r.box,
      area: r.area,
    })),
  };
}



import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../../contract/contract.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { type ColourStats, matchColour } from '../../images/colour-stats.ts';
import { cropRgb, resizeRgb, type RgbImage } from '../../images/preprocess.ts';
import { planTiles, stitchTiles, type Tile } from '../../images/tiling.ts';
import { buildNetwork } from '../../model/network.ts';
import type { BackboneWeights } from '../../model/resnet50.ts';
import { createSession, openSession, type SessionSource } from '../../runtime/sessions.ts';
import { anomalyMap, clearBorder, excludeBorder } from './anomaly-map.ts';
import { PATCH_LAYERS, type PatchLayers, patchFeatureHead } from './patch-features.ts';
import { buildScorer, scorePatches } from './scorer.ts';

/** Everything that defines an anomaly model besides its weights; saved with the model version. */
export interface AnomalyConfig {
  /** Network input (multiples of 32); every image is resized to it. */
  inputWidth: number;
  inputHeight: number;
  /** Backbone stages that describe a patch. */
  layers: PatchLayers;
  /** Patch descriptor size after random projection, and the projection's seed. */
  dim: number;
  projectionSeed: number;
  /**
   * Patches kept per training image before coreset selection (fewer when maxPoolPatches would be
   * exceeded, so memory and coreset time stay bounded however many images there are), and the
   * memory bank size.
   */
  patchesPerImage: number;
  maxPoolPatches: number;
  coresetSize: number;
  seed: number;
  /** Gaussian smoothing of the patch-distance map, in feature cells. */
  blurSigma: number;
  /** Regions smaller than this many image pixels are ignored. */
  minRegionArea: number;
  /**
   * The scale training applied to its images (network input / image size, per axis). Images that
   * at this scale exceed the input by more than TILING_MARGIN are analysed in tiles at this scale,
   * so their texture looks as large to the model as in training.
   */
  trainScaleX?: number;
  trainScaleY?: number;
  /**
   * When set, every image's per-channel mean and spread are mapped onto these (the training
   * images' average) before the network, so colour casts and exposure changes are not anomalies.
   * Chosen on validation: a large defect moves the image's own statistics, and a change of
   * exposure can itself be the defect.
   */
  colourReference?: ColourStats;
  /**
   * The heatmap (and so the regions and the pixel threshold) measures each place's distance above
   * the image's median patch distance rather than the raw distance. Chosen on validation: it
   * helps where defects are small against the frame, and hides part of a defect that covers much
   * of the image.
   */
  heatmapAboveMedian?: boolean;
  /**
   * Image pixels along every edge that are not inspected: they count towards neither the image
   * score nor the regions (the heatmap shows 0 there). For frames whose border cuts through
   * structure that differs between camera positions (a thread flank, a part's end).
   */
  ignoredBorder?: number;
  /**
   * Images are analysed at the training scale at their own size (rounded to 32 pixels) rather
   * than stretched to the network input, so every image's surface looks as large to the model as
   * in training. Models trained before it existed stretch images that fit the input.
   */
  ownSize?: boolean;
  /** How the input size and scale were chosen (from the training images and defect sizes). */
  inputReason?: string;
  /** How colour matching and the heatmap were chosen (on validation, when it holds defects), with the figures measured. */
  preprocessingReason?: string;
  /** The share of good parts the NG threshold was calibrated to reject (F1-optimal when unset and defects are known). */
  falseRejectRate?: number;
  /**
   * A scale pyramid: the model's own scale (level 0, scorer.onnx, `bankSize`) and coarser ones,
   * each with its own memory bank of good patches at that scale. The image score is the mean of
   * the levels' own scores, each in units of its typical good score: two views of one part, as
   * an ensemble. The heatmap is level 0's (in its units), which says best where. Absent: one
   * level, raw distances.
   */
  levels?: AnomalyLevel[];
}

/** One level of a scale pyramid: its scale against the model's, its bank's size, and the median image score of good validation parts there. */
export interface AnomalyLevel {
  factor: number;
  bankSize: number;
  typicalScore: number;
  /** Patches training sampled at this level before the coreset (adaptation keeps the ratio). */
  patchesSampled?: number;
}

/** The file of a level's scorer (level 0 is the model's scorer.onnx). */
export function levelScorerRole(level: number): string {
  return level === 0 ? 'scorer.onnx' : `scorer.${level}.onnx`;
}

/** The config a level's patches are extracted at: the model's scale and input times the level's factor. */
export function levelConfig(config: AnomalyConfig, factor: number): AnomalyConfig {
  if (factor === 1) return config;
  const size = (v: number): number => Math.max(64, Math.round((v * factor) / 32) * 32);
  return {
    ...config,
    inputWidth: size(config.inputWidth), inputHeight: size(config.inputHeight),
    trainScaleX: config.trainScaleX === undefined ? undefined : config.trainScaleX * factor,
    trainScaleY: config.trainScaleY === undefined ? undefined : config.trainScaleY * factor,
    coresetSize: Math.max(256, Math.round(config.coresetSize * factor * factor)),
  };
}

const TILING_MARGIN = 1.25;
const TILE_OVERLAP = 64;

/**
 * Defaults chosen on bsdata (1130×460 line images): at 768 px wide the validation image AUROC was
 * 0.78, at 1152 px 0.87 — small defects need close to native resolution; twice native (2304 px)
 * cost 4× and did not separate the 1130×460 test images better (0.54), nor did C2+C3, a 16k bank,
 * 1024-dim descriptors, rotated or mirrored copies of the good images in the bank, grey input or
 * PatchCore's neighbourhood reweighting of the image score (0.50–0.60). On bsdata the heatmap above the
 * image median raised test pixel AUROC from 0.915 (on NEU-DET it lowered it). Two learned metrics on the same descriptors did not
 * raise the image AUROC either: descriptors whitened by the good patches' covariance (shrunk) gave
 * better maps and worse image scores, and a SimpleNet-style discriminator trained against
 * noise-perturbed good descriptors gave worse maps and, on validation, no better image scores.
 * Colour matching and the above-median heatmap are not defaults: training chooses them on
 * validation (preprocessing-choice.ts).
 */
export const DEFAULT_ANOMALY_CONFIG: AnomalyConfig = {
  inputWidth: 1152,
  inputHeight: 480,
  layers: 'c3+c4',
  dim: 384,
  projectionSeed: 17,
  patchesPerImage: 512,
  maxPoolPatches: 131_072,
  coresetSize: 4096,
  seed: 1,
  blurSigma: 1,
  minRegionArea: 16,
};

/** How an image is covered at the model's scale: in one piece (network input of its own size) or in tiles. */
export type AnalysisPlan =
  | { kind: 'whole'; width: number; height: number }
  | { kind: 'tiles'; width: number; height: number; tiles: Tile[] };

/**
 * The plan for a width×height image: at the training scale, an image that fits the network input
 * (with TILING_MARGIN) is analysed whole — at its own scaled size for `ownSize` models, else
 * stretched to the input — and a larger one in overlapping tiles of the input size.
 */
export function analysisPlan(config: AnomalyConfig, width: number, height: number): AnalysisPlan {
  const { inputWidth, inputHeight } = config;
  const stride = PATCH_LAYERS[config.layers ?? 'c3+c4'].stride;
  const scaleX = config.trainScaleX ?? inputWidth / width;
  const scaleY = config.trainScaleY ?? inputHeight / height;
  const scaledWidth = Math.ceil((width * scaleX) / stride) * stride;
  const scaledHeight = Math.ceil((height * scaleY) / stride) * stride;
  if (scaledWidth <= inputWidth * TILING_MARGIN && scaledHeight <= inputHeight * TILING_MARGIN) {
    if (!config.ownSize) return { kind: 'whole', width: inputWidth, height: inputHeight };
    // Rounded up, so no image loses pixels to the network's 32-pixel grid.
    const ceil32 = (v: number): number => Math.max(64, Math.ceil(v / 32 - 1e-9) * 32);
    return { kind: 'whole', width: ceil32(width * scaleX), height: ceil32(height * scaleY) };
  }
  return { kind: 'tiles', width: scaledWidth, height: scaledHeight, tiles: planTiles(scaledWidth, scaledHeight, inputWidth, inputHeight, TILE_OVERLAP, stride) };
}

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
    stages: PATCH_LAYERS[config.layers].stages,
    heads: [patchFeatureHead({ layers: config.layers, dim: config.dim, seed: config.projectionSeed })],
  });
}

/** The image as an anomaly model sees it: colour-matched to training when the model asks for it. */
export function preparedImage(config: AnomalyConfig, image: RgbImage): RgbImage {
  return config.colourReference ? matchColour(image, config.colourReference) : image;
}

/** A (prepared) image as the network receives it: whole at the model's scale, or its first tile. */
export async function networkImage(config: AnomalyConfig, image: RgbImage): Promise<RgbImage> {
  const plan = analysisPlan(config, image.width, image.height);
  const scaled = await resizeRgb(image, plan.width, plan.height);
  if (plan.kind === 'whole') return scaled;
  const [first] = plan.tiles;
  return cropRgb(scaled, first.x, first.y, first.width, first.height);
}

/** Runs the patch-feature network on images resized to the model's input. */
export class PatchExtractor {
  private constructor(private readonly session: ort.InferenceSession, readonly config: AnomalyConfig, readonly provider: ExecutionProviderReport, private readonly owned: boolean) {}

  static async create(model: Uint8Array, config: AnomalyConfig, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<PatchExtractor> {
    // Own-size models meet every image size, so their session keeps height and width free.
    const dims: Record<string, number> = config.ownSize ? { N: 1 } : { N: 1, H: config.inputHeight, W: config.inputWidth };
    const { session, report, owned } = await openSession(source, 'features', model, provider, dims);
    return new PatchExtractor(session, config, report, owned);
  }

  /** Patch features covering a prepared image as analysis covers it: one grid, or one per tile. */
  async gridsOf(image: RgbImage): Promise<PatchGrid[]> {
    const plan = analysisPlan(this.config, image.width, image.height);
    const scaled = await resizeRgb(image, plan.width, plan.height);
    if (plan.kind === 'whole') return [await this.run(scaled)];
    const grids: PatchGrid[] = [];
    for (const tile of plan.tiles) grids.push(await this.run(cropRgb(scaled, tile.x, tile.y, tile.width, tile.height)));
    return grids;
  }

  /** The same network at a pyramid level's scale (sharing this extractor's session, which stays this one's to release). */
  atLevel(factor: number): PatchExtractor {
    return factor === 1 ? this : new PatchExtractor(this.session, levelConfig(this.config, factor), this.provider, false);
  }

  /** The image as the model sees it (colour-matched to training when the model asks for it). */
  prepare(image: RgbImage): RgbImage {
    return preparedImage(this.config, image);
  }

  /** Patch features of an image already at the network input size. */
  async run(input: RgbImage): Promise<PatchGrid> {
    const { patch_features } = await this.session.run({ image: new ort.Tensor('uint8', input.data, [1, input.height, input.width, 3]) });
    const [, rows, cols] = patch_features.dims as number[];
    return { data: patch_features.data as Float32Array, rows, cols };
  }

  async release(): Promise<void> {
    if (this.owned) await this.session.release();
  }
}

/** One pyramid level of a detector: its extractor, scorer session and bank size, and what its distances are divided by. */
interface DetectorLevel {
  extractor: PatchExtractor;
  scorer: ort.InferenceSession;
  bankSize: number;
  typicalScore: number;
  ownsScorer: boolean;
}

/** Patch distances over a whole (prepared) image on a level's feature grid, and that grid's network pixels per image pixel. */
interface DistanceField {
  map: Float32Array;
  cols: number;
  rows: number;
  scaleX: number;
  scaleY: number;
}

/** A trained anomaly model ready to inspect: patch features, then kNN distance to the bank (of each pyramid level). */
export class AnomalyDetector {
  private constructor(private readonly extractor: PatchExtractor, private readonly levels: DetectorLevel[], private readonly ownsExtractor = true) {}

  /** `scorerModels[k]` is level k's scorer (one for a model without levels). */
  static async create(featureModel: Uint8Array, scorerModels: Uint8Array[], config: AnomalyConfig & { bankSize: number }, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<AnomalyDetector> {
    const extractor = await PatchExtractor.create(featureModel, config, provider, source);
    const described = config.levels ?? [{ factor: 1, bankSize: config.bankSize, typicalScore: 1 }];
    if (described.length !== scorerModels.length) throw new RangeError(`The model describes ${described.length} levels and has ${scorerModels.length} scorers`);
    const levels: DetectorLevel[] = [];
    for (const [k, level] of described.entries()) {
      // The scorer runs where the backbone landed.
      const scorer = await openSession(source, levelScorerRole(k), scorerModels[k], extractor.provider.active ?? 'cpu');
      levels.push({ extractor: extractor.atLevel(level.factor), scorer: scorer.session, bankSize: k === 0 ? config.bankSize : level.bankSize, typicalScore: level.typicalScore, ownsScorer: scorer.owned });
    }
    return new AnomalyDetector(extractor, levels);
  }

  /**
   * A detector over one bank per level (a single level at factor 1 and typical score 1 is the
   * plain model); with `shareExtractor`, releasing it leaves the extractor open for the caller.
   */
  static async fromBanks(extractor: PatchExtractor, banks: { factor: number; bank: Float32Array; typicalScore: number }[], shareExtractor = false): Promise<AnomalyDetector> {
    const dim = extractor.config.dim;
    const levels: DetectorLevel[] = [];
    for (const { factor, bank, typicalScore } of banks) {
      const { session } = await createSession({ model: buildScorer(bank, dim), provider: extractor.provider.active ?? 'cpu' });
      levels.push({ extractor: extractor.atLevel(factor), scorer: session, bankSize: bank.length / dim, typicalScore, ownsScorer: true });
    }
    return new AnomalyDetector(extractor, levels, !shareExtractor);
  }

  get config(): AnomalyConfig {
    return this.extractor.config;
  }

  get provider(): ExecutionProviderReport {
    return this.extractor.provider;
  }

  /** Each level's own image score (the maximum of its smoothed raw distances): what the levels' typical scores are measured from. */
  async levelScores(original: RgbImage): Promise<number[]> {
    const image = this.extractor.prepare(original);
    const ms = { network: 0, scoring: 0, map: 0 };
    const scores: number[] = [];
    for (const level of this.levels) scores.push(this.fieldScore(this.withoutBorder(await this.distanceField(level, image, ms))));
    return scores;
  }

  async analyse(original: RgbImage): Promise<AnomalyAnalysis> {
    const ms = { network: 0, scoring: 0, map: 0 };
    const image = this.extractor.prepare(original);
    const fields: DistanceField[] = [];
    for (const level of this.levels) fields.push(await this.distanceField(level, image, ms));
    const t2 = performance.now();
    const typical = this.levels.map((l) => l.typicalScore);
    const base = this.withoutBorder(inUnitsOf(fields[0], typical[0]));
    const border = this.config.ignoredBorder ?? 0;
    const aboveMedian = this.config.heatmapAboveMedian === true;
    // The heatmap is level 0's: coarser levels would blur where a defect is.
    const { score: baseScore, median, heatmap } = anomalyMap(base.map, base.cols, base.rows, image.width, image.height, this.config.blurSigma, aboveMedian);
    if (border > 0) clearBorder(heatmap, image.width, image.height, border);
    const coarser = fields.slice(1).map((field, k) => this.fieldScore(this.withoutBorder(field)) / typical[k + 1]);
    const score = (baseScore + coarser.reduce((a, b) => a + b, 0)) / fields.length;
    ms.map = performance.now() - t2;
    return {
      rawScore: score, heatmap, width: image.width, height: image.height, ms, mapMedian: median,
      scoreIsMapMaximum: !aboveMedian && coarser.length === 0, ...(coarser.length > 0 ? { singleLevelScore: baseScore } : {}),
    };
  }

  /** A field's image score: the maximum of its smoothed distances. */
  private fieldScore(field: DistanceField): number {
    return anomalyMap(field.map, field.cols, field.rows, 1, 1, this.config.blurSigma).score;
  }

  /** The field with its cells within the ignored border taken out of inspection (in place). */
  private withoutBorder(field: DistanceField): DistanceField {
    const border = this.config.ignoredBorder ?? 0;
    const stride = PATCH_LAYERS[this.config.layers ?? 'c3+c4'].stride;
    if (border > 0) excludeBorder(field.map, field.cols, field.rows, Math.round((border * field.scaleX) / stride), Math.round((border * field.scaleY) / stride));
    return field;
  }

  /** A level's raw patch distances over the whole image: in one piece, or tiles of its input stitched on its feature grid. */
  private async distanceField(level: DetectorLevel, image: RgbImage, ms: AnomalyAnalysis['ms']): Promise<DistanceField> {
    const { extractor, scorer, bankSize } = level;
    const distancesOf = async (input: RgbImage): Promise<{ map: Float32Array; cols: number; rows: number }> => {
      const t0 = performance.now();
      const grid = await extractor.run(input);
      const t1 = performance.now();
      const map = await scorePatches(scorer, grid.data, extractor.config.dim, bankSize);
      ms.network += t1 - t0;
      ms.scoring += performance.now() - t1;
      return { map, cols: grid.cols, rows: grid.rows };
    };
    const stride = PATCH_LAYERS[extractor.config.layers ?? 'c3+c4'].stride;
    const plan = analysisPlan(extractor.config, image.width, image.height);
    const scaled = await resizeRgb(image, plan.width, plan.height);
    const scaleX = plan.width / image.width;
    const scaleY = plan.height / image.height;
    if (plan.kind === 'whole') return { ...(await distancesOf(scaled)), scaleX, scaleY };
    const maps: Float32Array[] = [];
    for (const tile of plan.tiles) maps.push((await distancesOf(cropRgb(scaled, tile.x, tile.y, tile.width, tile.height))).map);
    const cols = plan.width / stride;
    const rows = plan.height / stride;
    const grid = plan.tiles.map((t) => ({ x: t.x / stride, y: t.y / stride, width: t.width / stride, height: t.height / stride }));
    return { map: stitchTiles(maps, grid, cols, rows, TILE_OVERLAP / stride), cols, rows, scaleX, scaleY };
  }

  async release(): Promise<void> {
    await Promise.all([this.ownsExtractor ? this.extractor.release() : undefined, ...this.levels.map((l) => (l.ownsScorer ? l.scorer.release() : undefined))]);
  }
}

/** A field's distances in units of its level's typical good score. */
function inUnitsOf(field: DistanceField, typicalScore: number): DistanceField {
  return typicalScore === 1 ? field : { ...field, map: field.map.map((v) => v / typicalScore) };
}

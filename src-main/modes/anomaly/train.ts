import type { ExecutionProviderChoice, ExecutionProviderReport, ModelThresholds, ModelVersionSummary as ModelVersion } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type ColourStats, colourStats } from '../../images/colour-stats.ts';
import { decodeRgb } from '../../images/preprocess.ts';
import { seededRandom } from '../../model/init.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import { modelFile, type ModeTrainingInput, type TrainedModel } from '../model-mode.ts';
import { greedyCoreset } from './coreset.ts';
import { AnomalyDetector, type AnomalyConfig, type AnomalyLevel, buildPatchFeatureModel, DEFAULT_ANOMALY_CONFIG, levelScorerRole, PatchExtractor } from './detector.ts';
import { calibrateViewsOn } from '../shared/evaluation.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { canChooseOn, choosePreprocessing, type MeasuredPreprocessing, MIN_IMAGES_PER_SIDE_TO_CHOOSE, PLAIN_PREPROCESSING } from './preprocessing-choice.ts';
import { quantile } from '../../analysis/metrics.ts';
import { buildScorer } from './scorer.ts';
import { anomalyInputGeometry, defectShortSides } from './input-geometry.ts';
import { heatmapAboveMedian } from './anomaly-map.ts';
import { PATCH_LAYERS } from './patch-features.ts';

/**
 * The pyramid a new model gets: the images' own scale and one octave coarser (measured on NEU-DET's
 * six one-class-good sets and bsdata against one level: README, Benchmarks). Models whose input
 * size the user sets keep one level, as does `levelFactors: [1]`.
 */
const DEFAULT_LEVEL_FACTORS = [1, 0.5];

/** Network input for the dataset: the training images' median aspect ratio, long side as configured. */
export function inputSizeFor(samples: DatasetSample[], longSide: number): { inputWidth: number; inputHeight: number } {
  const aspect = quantile(samples.map((s) => s.width / s.height), 0.5);
  const round = (v: number): number => Math.max(64, Math.round(v / 32) * 32);
  return aspect >= 1
    ? { inputWidth: round(longSide), inputHeight: round(longSide / aspect) }
    : { inputWidth: round(longSide * aspect), inputHeight: round(longSide) };
}

/**
 * Learns "good" from the dataset's defect-free training images: patch features of every image,
 * a greedy-coreset memory bank, then thresholds calibrated on the validation split. Returns the
 * model's files, config, thresholds and validation metrics to register.
 */
export async function trainAnomaly(input: ModeTrainingInput, ctx: JobContext): Promise<TrainedModel> {
  const started = performance.now();
  const { dataset, blobs } = input.data;
  const requested = input.config as Partial<AnomalyConfig> & { matchColour?: boolean; levelFactors?: number[] };
  const train = input.data.samples('train').filter((s) => s.label === 'good');
  const validation = input.data.samples('val').filter((s) => s.label !== 'unlabeled');
  if (train.length === 0) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no good images in its train split`, { key: 'noGoodTrain', params: { dataset: dataset.name } });
  if (!validation.some((s) => s.label === 'good')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no good images in its val split to calibrate on`, { key: 'noGoodVal', params: { dataset: dataset.name } });
  const config: AnomalyConfig = { ...DEFAULT_ANOMALY_CONFIG, ...requested };
  if (requested.inputWidth && requested.inputHeight) {
    // An input size given by the user: every image is brought to it, as the plain PatchCore recipe does.
    config.trainScaleX = quantile(train.map((s) => config.inputWidth / s.width), 0.5);
    config.trainScaleY = quantile(train.map((s) => config.inputHeight / s.height), 0.5);
  } else {
    const stride = PATCH_LAYERS[config.layers].stride;
    const geometry = anomalyInputGeometry(train, defectShortSides(validation.filter((s) => s.label === 'defect')), stride);
    Object.assign(config, { inputWidth: geometry.inputWidth, inputHeight: geometry.inputHeight, trainScaleX: geometry.scale, trainScaleY: geometry.scale, ownSize: true, inputReason: geometry.reason });
  }

  const choosing = canChooseOn(validation);
  const colourOptions = requested.colourReference ? [true] : requested.matchColour !== undefined ? [requested.matchColour] : choosing ? [false, true] : [PLAIN_PREPROCESSING.matchColour];
  const mapOptions = requested.heatmapAboveMedian !== undefined ? [requested.heatmapAboveMedian] : choosing ? [false, true] : [PLAIN_PREPROCESSING.heatmapAboveMedian];
  const colourReference = colourOptions.includes(true) ? (config.colourReference ?? (await averageColour(train, blobs, ctx))) : undefined;

  // A requested input size is the plain recipe: one level.
  const factors = requested.levelFactors ?? (config.ownSize ? DEFAULT_LEVEL_FACTORS : [1]);
  const featureModel = buildPatchFeatureModel(input.backbone, config);
  const trained: (MeasuredPreprocessing & { banks: Float32Array[]; typicalScores: number[]; poolSizes: number[]; thresholds: ModelThresholds; provider: ExecutionProviderReport })[] = [];
  for (const matchColour of colourOptions) {
    const variant: AnomalyConfig = { ...config, colourReference: matchColour ? colourReference : undefined, heatmapAboveMedian: false };
    // Phase names are message keys: a second pass says what it tries.
    const label = matchColour && colourOptions.length > 1 ? ' with colour matching' : '';
    const extractor = await PatchExtractor.create(featureModel, variant, input.provider);
    let detector: AnomalyDetector | undefined;
    try {
      const levels = await memoryBanks(factors.map((f) => extractor.atLevel(f)), train, blobs, ctx, label);
      const typicalScores = factors.length === 1 ? [1] : await typicalLevelScores(extractor, factors, levels.map((l) => l.bank), validation.filter((s) => s.label === 'good'), blobs, ctx, label);
      detector = await AnomalyDetector.fromBanks(extractor, levels.map((l, k) => ({ factor: factors[k], bank: l.bank, typicalScore: typicalScores[k] })));
      // One pass gives every view: the above-median map is the raw map less the image's median, drawn as the detector draws it;
      // the own-scale score is level 0's alone, which the pyramid's analysis reports beside its own.
      const scaleOptions = factors.length > 1 && choosing ? [true, false] : [factors.length > 1];
      const options = scaleOptions.flatMap((pyramid) => mapOptions.map((aboveMedian) => ({ pyramid, aboveMedian })));
      const views = options.map(({ pyramid, aboveMedian }) => (a: AnomalyAnalysis): AnomalyAnalysis => {
        const scored = pyramid ? a : { ...a, rawScore: a.singleLevelScore ?? a.rawScore, scoreIsMapMaximum: true };
        return aboveMedian ? { ...scored, heatmap: heatmapAboveMedian(a.heatmap, a.mapMedian ?? 0), scoreIsMapMaximum: false } : scored;
      });
      const calibrated = await calibrateViewsOn(blobs, detector, validation, views, (d, t) => ctx.progress(`calibrating${label}`, d, t), ctx.signal, config.falseRejectRate);
      const banks = levels.map((l) => l.bank);
      calibrated.forEach(({ thresholds, metrics }, v) => trained.push({
        matchColour, heatmapAboveMedian: options[v].aboveMedian, ...(factors.length > 1 ? { pyramid: options[v].pyramid } : {}),
        metrics, thresholds, banks, typicalScores, poolSizes: levels.map((l) => l.poolSize), provider: extractor.provider,
      }));
    } finally {
      await (detector ?? extractor).release();
    }
  }
  const asRequested = requested.colourReference !== undefined || requested.matchColour !== undefined || requested.heatmapAboveMedian !== undefined;
  const { chosen: best, reason } = trained.length > 1
    ? choosePreprocessing(trained)
    : { chosen: trained[0], reason: asRequested ? 'as requested' : `the plain recipe: validation holds fewer than ${MIN_IMAGES_PER_SIDE_TO_CHOOSE} good or ${MIN_IMAGES_PER_SIDE_TO_CHOOSE} defective images to choose on` };

  // matchColour and levelFactors are training options, not part of the model.
  const modelConfig: Record<string, unknown> = { ...config, colourReference: best.matchColour ? colourReference : undefined, heatmapAboveMedian: best.heatmapAboveMedian, preprocessingReason: reason };
  delete modelConfig.matchColour;
  delete modelConfig.levelFactors;
  // Where validation kept the own-scale score, the model keeps level 0 alone, in the units it was calibrated in.
  const kept = best.pyramid === false ? 1 : factors.length;
  const banks = best.banks.slice(0, kept);
  const bankSizes = banks.map((bank) => bank.length / config.dim);
  if (factors.length > 1) modelConfig.levels = factors.slice(0, kept).map((factor, k): AnomalyLevel => ({ factor, bankSize: bankSizes[k], typicalScore: best.typicalScores[k], patchesSampled: best.poolSizes[k] }));
  return {
    classes: ['anomaly'],
    config: { ...modelConfig, bankSize: bankSizes[0], trainImages: train.length, patchesSampled: best.poolSizes[0], provider: best.provider.active, trainSeconds: (performance.now() - started) / 1000 },
    metrics: { validation: best.metrics },
    thresholds: { ...best.thresholds },
    files: [{ role: 'features.onnx', bytes: featureModel }, ...banks.map((bank, k) => ({ role: levelScorerRole(k), bytes: buildScorer(bank, config.dim) }))],
  };
}

/** The training images' average colour statistics: the reference every image is matched to when colour matching is chosen. */
async function averageColour(train: DatasetSample[], blobs: ModeTrainingInput['data']['blobs'], ctx: JobContext): Promise<ColourStats> {
  const stats: ColourStats[] = [];
  for (const [i, sample] of train.entries()) {
    stats.push(colourStats(await decodeRgb(await blobs.get(sample.sha256))));
    ctx.progress('measuring colour', i + 1, train.length);
  }
  const average = (pick: (s: ColourStats) => number[]) => [0, 1, 2].map((c) => stats.reduce((a, s) => a + pick(s)[c], 0) / stats.length) as [number, number, number];
  return { mean: average((s) => s.mean), std: average((s) => s.std) };
}

/**
 * Patch features of every training image (a random subset of each) at each pyramid level, each
 * level's reduced to a greedy-coreset memory bank of its own. Each image is decoded once.
 */
async function memoryBanks(levels: PatchExtractor[], train: DatasetSample[], blobs: ModeTrainingInput['data']['blobs'], ctx: JobContext, label: string): Promise<{ bank: Float32Array; poolSize: number }[]> {
  const pools = levels.map(({ config }) => {
    const perImage = Math.max(1, Math.min(config.patchesPerImage, Math.floor((config.maxPoolPatches ?? Infinity) / train.length)));
    return { config, perImage, points: new Float32Array(train.length * perImage * config.dim), size: 0, random: seededRandom(config.seed) };
  });
  for (const [i, sample] of train.entries()) {
    if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Training cancelled', { key: 'cancelled' });
    const image = levels[0].prepare(await decodeRgb(await blobs.get(sample.sha256)));
    for (const [k, extractor] of levels.entries()) {
      const pool = pools[k];
      const dim = pool.config.dim;
      const grids = await extractor.gridsOf(image);
      const patches = grids.flatMap((grid) => Array.from({ length: grid.rows * grid.cols }, (_, p) => grid.data.subarray(p * dim, (p + 1) * dim)));
      // A random subset of each image's patches (all of them when the image has fewer).
      const picks = patches.length <= pool.perImage ? patches.map((_, p) => p) : sampleWithoutReplacement(patches.length, pool.perImage, pool.random);
      for (const p of picks) pool.points.set(patches[p], pool.size++ * dim);
    }
    ctx.progress(`extracting features${label}`, i + 1, train.length);
  }
  ctx.progress(`selecting coreset${label}`, 0, 1);
  const banks = pools.map(({ config, points, size }) => {
    const pool = points.subarray(0, size * config.dim);
    const chosen = greedyCoreset(pool, config.dim, config.coresetSize, config.seed);
    const bank = new Float32Array(chosen.length * config.dim);
    chosen.forEach((index, k) => bank.set(pool.subarray(index * config.dim, (index + 1) * config.dim), k * config.dim));
    return { bank, poolSize: size };
  });
  ctx.progress(`selecting coreset${label}`, 1, 1);
  return banks;
}

/** Each level's typical good score: the median over the good validation images of the level's own image score against its bank. */
async function typicalLevelScores(extractor: PatchExtractor, factors: number[], banks: Float32Array[], good: DatasetSample[], blobs: ModeTrainingInput['data']['blobs'], ctx: JobContext, label: string): Promise<number[]> {
  const detector = await AnomalyDetector.fromBanks(extractor, banks.map((bank, k) => ({ factor: factors[k], bank, typicalScore: 1 })), true);
  try {
    const scores: number[][] = [];
    for (const [i, sample] of good.entries()) {
      if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Training cancelled', { key: 'cancelled' });
      scores.push(await detector.levelScores(await decodeRgb(await blobs.get(sample.sha256))));
      ctx.progress(`measuring levels${label}`, i + 1, good.length);
    }
    return factors.map((_, k) => Math.max(quantile(scores.map((s) => s[k]), 0.5), Number.MIN_VALUE));
  } finally {
    await detector.release();
  }
}

function sampleWithoutReplacement(n: number, k: number, random: () => number): number[] {
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return Array.from(indices.subarray(0, k));
}


/** An anomaly model version ready to inspect, from its (verified) files (sessions from `sessions` when given). */
export async function loadAnomalyDetector(model: ModelVersion, files: Map<string, Uint8Array>, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<AnomalyDetector> {
  if (model.mode !== 'anomaly') throw new ArgusError('invalid_argument', `Model ${model.id} is a ${model.mode} model, not an anomaly model`);
  const config = model.config as unknown as AnomalyConfig & { bankSize: number };
  const key = model.files.map((f) => f.sha256).join('+');
  return AnomalyDetector.create(modelFile(model, files, 'features.onnx'), anomalyScorerFiles(model, files), config, provider, { cache: sessions, key });
}

/** An anomaly model's scorer files, level 0 first (one for a model without levels). */
export function anomalyScorerFiles(model: ModelVersion, files: Map<string, Uint8Array>): Uint8Array[] {
  const levels = (model.config as unknown as AnomalyConfig).levels ?? [undefined];
  return levels.map((_, k) => modelFile(model, files, levelScorerRole(k)));
}

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
import { AnomalyDetector, type AnomalyConfig, buildPatchFeatureModel, DEFAULT_ANOMALY_CONFIG, PatchExtractor } from './detector.ts';
import { calibrateViewsOn } from '../shared/evaluation.ts';
import type { AnomalyAnalysis } from '../../analysis/analysis.ts';
import { canChooseOn, choosePreprocessing, type MeasuredPreprocessing, MIN_IMAGES_PER_SIDE_TO_CHOOSE, PLAIN_PREPROCESSING } from './preprocessing-choice.ts';
import { quantile } from '../../analysis/metrics.ts';
import { buildScorer } from './scorer.ts';
import { anomalyInputGeometry, defectShortSides } from './input-geometry.ts';
import { heatmapAboveMedian } from './anomaly-map.ts';
import { PATCH_LAYERS } from './patch-features.ts';

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
  const requested = input.config as Partial<AnomalyConfig> & { matchColour?: boolean };
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

  const featureModel = buildPatchFeatureModel(input.backbone, config);
  const trained: (MeasuredPreprocessing & { bank: Float32Array; poolSize: number; thresholds: ModelThresholds; provider: ExecutionProviderReport })[] = [];
  for (const matchColour of colourOptions) {
    const variant: AnomalyConfig = { ...config, colourReference: matchColour ? colourReference : undefined, heatmapAboveMedian: false };
    // Phase names are message keys: a second pass says what it tries.
    const label = matchColour && colourOptions.length > 1 ? ' with colour matching' : '';
    const extractor = await PatchExtractor.create(featureModel, variant, input.provider);
    let detector: AnomalyDetector | undefined;
    try {
      const { bank, poolSize } = await memoryBank(extractor, train, blobs, ctx, label);
      detector = await AnomalyDetector.fromBank(extractor, bank);
      // One pass gives both heatmaps: the above-median map is the raw map less the image's median, drawn as the detector draws it.
      const views = mapOptions.map((aboveMedian) => (a: AnomalyAnalysis): AnomalyAnalysis =>
        (aboveMedian ? { ...a, heatmap: heatmapAboveMedian(a.heatmap, a.mapMedian ?? 0), scoreIsMapMaximum: false } : a));
      const calibrated = await calibrateViewsOn(blobs, detector, validation, views, (d, t) => ctx.progress(`calibrating${label}`, d, t), ctx.signal, config.falseRejectRate);
      calibrated.forEach(({ thresholds, metrics }, v) => trained.push({ matchColour, heatmapAboveMedian: mapOptions[v], metrics, thresholds, bank, poolSize, provider: extractor.provider }));
    } finally {
      await (detector ?? extractor).release();
    }
  }
  const asRequested = requested.colourReference !== undefined || requested.matchColour !== undefined || requested.heatmapAboveMedian !== undefined;
  const { chosen: best, reason } = trained.length > 1
    ? choosePreprocessing(trained)
    : { chosen: trained[0], reason: asRequested ? 'as requested' : `the plain recipe: validation holds fewer than ${MIN_IMAGES_PER_SIDE_TO_CHOOSE} good or ${MIN_IMAGES_PER_SIDE_TO_CHOOSE} defective images to choose on` };

  // matchColour is a training option, not part of the model.
  const modelConfig: Record<string, unknown> = { ...config, colourReference: best.matchColour ? colourReference : undefined, heatmapAboveMedian: best.heatmapAboveMedian, preprocessingReason: reason };
  delete modelConfig.matchColour;
  const bankSize = best.bank.length / config.dim;
  return {
    classes: ['anomaly'],
    config: { ...modelConfig, bankSize, trainImages: train.length, patchesSampled: best.poolSize, provider: best.provider.active, trainSeconds: (performance.now() - started) / 1000 },
    metrics: { validation: best.metrics },
    thresholds: { ...best.thresholds },
    files: [{ role: 'features.onnx', bytes: featureModel }, { role: 'scorer.onnx', bytes: buildScorer(best.bank, config.dim) }],
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

/** Patch features of every training image (a random subset of each), reduced to a greedy-coreset memory bank. */
async function memoryBank(extractor: PatchExtractor, train: DatasetSample[], blobs: ModeTrainingInput['data']['blobs'], ctx: JobContext, label: string): Promise<{ bank: Float32Array; poolSize: number }> {
  const config = extractor.config;
  const perImage = Math.max(1, Math.min(config.patchesPerImage, Math.floor((config.maxPoolPatches ?? Infinity) / train.length)));
  const pool = new Float32Array(train.length * perImage * config.dim);
  const random = seededRandom(config.seed);
  let poolSize = 0;
  for (const [i, sample] of train.entries()) {
    if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Training cancelled', { key: 'cancelled' });
    const grids = await extractor.gridsOf(extractor.prepare(await decodeRgb(await blobs.get(sample.sha256))));
    const patches = grids.flatMap((grid) => Array.from({ length: grid.rows * grid.cols }, (_, k) => grid.data.subarray(k * config.dim, (k + 1) * config.dim)));
    // A random subset of each image's patches (all of them when the image has fewer).
    const picks = patches.length <= perImage ? patches.map((_, k) => k) : sampleWithoutReplacement(patches.length, perImage, random);
    for (const p of picks) pool.set(patches[p], poolSize++ * config.dim);
    ctx.progress(`extracting features${label}`, i + 1, train.length);
  }
  ctx.progress(`selecting coreset${label}`, 0, 1);
  const points = pool.subarray(0, poolSize * config.dim);
  const chosen = greedyCoreset(points, config.dim, config.coresetSize, config.seed);
  const bank = new Float32Array(chosen.length * config.dim);
  chosen.forEach((index, k) => bank.set(points.subarray(index * config.dim, (index + 1) * config.dim), k * config.dim));
  ctx.progress(`selecting coreset${label}`, 1, 1);
  return { bank, poolSize };
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
  const [features, scorer] = ['features.onnx', 'scorer.onnx'].map((role) => modelFile(model, files, role));
  const config = model.config as unknown as AnomalyConfig & { bankSize: number };
  const key = model.files.map((f) => f.sha256).join('+');
  return AnomalyDetector.create(features, scorer, config, config.bankSize, provider, { cache: sessions, key });
}

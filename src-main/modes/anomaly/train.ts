import type { ExecutionProviderChoice } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type ColourStats, colourStats } from '../../images/colour-stats.ts';
import { decodeRgb } from '../../images/preprocess.ts';
import { seededRandom } from '../../model/init.ts';
import type { BackboneWeights } from '../../model/resnet50.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { DatasetSample } from '../../store/datasets.ts';
import type { ModelVersion } from '../../store/models.ts';
import type { Store } from '../../store/store.ts';
import { greedyCoreset } from './coreset.ts';
import { AnomalyDetector, type AnomalyConfig, buildPatchFeatureModel, DEFAULT_ANOMALY_CONFIG, PatchExtractor } from './detector.ts';
import { calibrateOn } from '../shared/evaluation.ts';
import { quantile } from '../../analysis/metrics.ts';
import { buildScorer } from './scorer.ts';
import { anomalyInputGeometry, defectShortSides } from './input-geometry.ts';
import { PATCH_LAYERS } from './patch-features.ts';
import { verifyModelFiles } from '../shared/model-files.ts';

export interface TrainAnomalyInput {
  datasetId: number;
  backbone: BackboneWeights;
  /** Digest of the backbone weights file, recorded with the model. */
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  config?: Partial<AnomalyConfig>;
  name?: string;
  actor: string;
  /** Match every image's colour statistics to the training average (default true). */
  matchColour?: boolean;
}

export interface TrainAnomalyResult {
  model: ModelVersion;
  seconds: number;
}

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
 * a greedy-coreset memory bank, then thresholds calibrated on the validation split. Registers a
 * candidate model version with its files, dataset snapshot, config, thresholds and metrics.
 */
export async function trainAnomaly(store: Store, input: TrainAnomalyInput, ctx: JobContext): Promise<TrainAnomalyResult> {
  const started = performance.now();
  const dataset = store.datasets.get(input.datasetId);
  const train = store.datasets.samples(dataset.id, 'train').filter((s) => s.label === 'good');
  const validation = store.datasets.samples(dataset.id, 'val').filter((s) => s.label !== 'unlabeled');
  if (train.length === 0) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no good images in its train split`);
  if (!validation.some((s) => s.label === 'good')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no good images in its val split to calibrate on`);
  const config: AnomalyConfig = { ...DEFAULT_ANOMALY_CONFIG, ...input.config };
  if (input.config?.inputWidth && input.config.inputHeight) {
    // An input size given by the user: every image is brought to it, as the plain PatchCore recipe does.
    config.trainScaleX = quantile(train.map((s) => config.inputWidth / s.width), 0.5);
    config.trainScaleY = quantile(train.map((s) => config.inputHeight / s.height), 0.5);
  } else {
    const stride = PATCH_LAYERS[config.layers].stride;
    const geometry = anomalyInputGeometry(train, defectShortSides(validation.filter((s) => s.label === 'defect')), stride);
    Object.assign(config, { inputWidth: geometry.inputWidth, inputHeight: geometry.inputHeight, trainScaleX: geometry.scale, trainScaleY: geometry.scale, ownSize: true, inputReason: geometry.reason });
  }

  if (config.colourReference === undefined && input.matchColour !== false) {
    // The training images' average colour statistics become the reference every image is matched to.
    const stats: ColourStats[] = [];
    for (const [i, sample] of train.entries()) {
      stats.push(colourStats(await decodeRgb(await store.blobs.get(sample.sha256))));
      ctx.progress('measuring colour', i + 1, train.length);
    }
    const average = (pick: (s: ColourStats) => number[]) => [0, 1, 2].map((c) => stats.reduce((a, s) => a + pick(s)[c], 0) / stats.length) as [number, number, number];
    config.colourReference = { mean: average((s) => s.mean), std: average((s) => s.std) };
  }
  const featureModel = buildPatchFeatureModel(input.backbone, config);
  const extractor = await PatchExtractor.create(featureModel, config, input.provider);
  let detector: AnomalyDetector | undefined;
  try {
    const perImage = Math.max(1, Math.min(config.patchesPerImage, Math.floor((config.maxPoolPatches ?? Infinity) / train.length)));
    const pool = new Float32Array(train.length * perImage * config.dim);
    const random = seededRandom(config.seed);
    let poolSize = 0;
    for (const [i, sample] of train.entries()) {
      if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Training cancelled');
      const grids = await extractor.gridsOf(extractor.prepare(await decodeRgb(await store.blobs.get(sample.sha256))));
      const patches = grids.flatMap((grid) => Array.from({ length: grid.rows * grid.cols }, (_, k) => grid.data.subarray(k * config.dim, (k + 1) * config.dim)));
      // A random subset of each image's patches (all of them when the image has fewer).
      const picks = patches.length <= perImage ? patches.map((_, k) => k) : sampleWithoutReplacement(patches.length, perImage, random);
      for (const p of picks) pool.set(patches[p], poolSize++ * config.dim);
      ctx.progress('extracting features', i + 1, train.length);
    }
    ctx.progress('selecting coreset', 0, 1);
    const points = pool.subarray(0, poolSize * config.dim);
    const chosen = greedyCoreset(points, config.dim, config.coresetSize, config.seed);
    const bank = new Float32Array(chosen.length * config.dim);
    chosen.forEach((index, k) => bank.set(points.subarray(index * config.dim, (index + 1) * config.dim), k * config.dim));
    ctx.progress('selecting coreset', 1, 1);

    detector = await AnomalyDetector.fromBank(extractor, bank);
    const { thresholds, metrics } = await calibrateOn(store, detector, validation, (d, t) => ctx.progress('calibrating', d, t), ctx.signal, config.falseRejectRate);

    const scorerModel = buildScorer(bank, config.dim);
    const files = [
      { role: 'features.onnx', bytes: featureModel },
      { role: 'scorer.onnx', bytes: scorerModel },
    ];
    const stored = await Promise.all(files.map(async (f) => ({ role: f.role, sha256: await store.blobs.put(f.bytes), bytes: f.bytes.length })));
    const seconds = (performance.now() - started) / 1000;
    const model = store.transaction(() => {
      const snapshotId = store.datasets.snapshot(dataset.id);
      const created = store.models.create({
        projectId: dataset.projectId,
        name: input.name ?? `anomaly ${dataset.name}`,
        mode: 'anomaly',
        classes: ['anomaly'],
        snapshotId,
        config: {
          ...config, backboneSha256: input.backboneSha256, bankSize: chosen.length, trainImages: train.length, patchesSampled: poolSize,
          provider: extractor.provider.active, trainSeconds: seconds,
        },
        metrics: { validation: metrics },
        thresholds: { ...thresholds },
        files: stored,
      });
      store.history.audit(input.actor, 'model.train', `model:${created.id}`, { mode: 'anomaly', datasetId: dataset.id, seconds });
      return created;
    });
    return { model, seconds };
  } finally {
    await (detector ?? extractor).release();
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


/** Loads a stored anomaly model version for inspection (sessions from `sessions` when given). */
export async function loadAnomalyDetector(store: Store, model: ModelVersion, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<AnomalyDetector> {
  if (model.mode !== 'anomaly') throw new ArgusError('invalid_argument', `Model ${model.id} is a ${model.mode} model, not an anomaly model`);
  const files = await verifyModelFiles(store, model);
  const [features, scorer] = ['features.onnx', 'scorer.onnx'].map((role) => {
    const bytes = files.get(role);
    if (!bytes) throw new ArgusError('bad_input', `Model ${model.id} lacks its ${role} file`);
    return bytes;
  });
  const config = model.config as unknown as AnomalyConfig & { bankSize: number };
  const key = model.files.map((f) => f.sha256).join('+');
  return AnomalyDetector.create(features, scorer, config, config.bankSize, provider, { cache: sessions, key });
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionProviderChoice, TrainingProgressInfo } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { calibrateOn } from '../shared/evaluation.ts';
import { inputSizeFor } from '../anomaly/train.ts';
import { verifyModelFiles } from '../shared/model-files.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import { quantile } from '../../analysis/metrics.ts';
import type { BackboneWeights } from '../../model/resnet50.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../../model/safetensors.ts';
import type { DatasetSample } from '../../store/datasets.ts';
import type { ModelVersion } from '../../store/models.ts';
import type { Store } from '../../store/store.ts';
import { loadTrainingImages } from './data.ts';
import { type SegmentModelConfig, SegmentDetector } from './detector.ts';
import { buildSegmentInferenceModel, initialHeadTensors } from './network.ts';
import { segmentTask, type SegmentTrainingConfig } from './trainer.ts';
import { FineTuner } from '../../training/fine-tuner.ts';

export interface TrainSegmentInput {
  datasetId: number;
  backbone: BackboneWeights;
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  /** Fine-tune from this segmentation model version instead of fresh FPN + head weights. */
  parentModelId?: number;
  config?: Partial<SegmentTrainingConfig>;
  name?: string;
  actor: string;
  /** Continue this (interrupted) run from its last checkpoint. */
  resumeRunId?: number;
  onProgress?: (p: TrainingProgressInfo) => void;
}

export interface TrainSegmentResult {
  model: ModelVersion;
  runId: number;
  seconds: number;
}

/** Network input for the training images (as anomaly mode picks it, unless requested) and the scale that maps images onto it. */
function inputGeometry(samples: DatasetSample[], longSide: number, requested?: { inputWidth?: number; inputHeight?: number }): { inputWidth: number; inputHeight: number; scale: number } {
  const fitted = inputSizeFor(samples, longSide);
  const inputWidth = requested?.inputWidth ?? fitted.inputWidth;
  const inputHeight = requested?.inputHeight ?? fitted.inputHeight;
  const scale = quantile(samples.map((s) => Math.min(inputWidth / s.width, inputHeight / s.height)), 0.5);
  return { inputWidth, inputHeight, scale };
}

/** Loss weight per class (background first): √(background pixels / class pixels), between 1 and 10. */
function classWeightsFrom(labelCounts: number[]): number[] {
  const background = Math.max(1, labelCounts[0]);
  return labelCounts.map((n, c) => (c === 0 ? 1 : Math.min(10, Math.max(1, Math.sqrt(background / Math.max(1, n))))));
}

export const DEFAULT_SEGMENT_TRAINING: Omit<SegmentTrainingConfig, 'classes' | 'inputWidth' | 'inputHeight' | 'scale' | 'classWeights' | 'stepsPerEpoch'> = {
  frozenStages: 2,
  batchSize: 8,
  epochs: 20,
  learningRate: 1e-4,
  warmupSteps: 50,
  optimizer: 'adamw',
  weightDecay: 1e-4,
  patience: 5,
  seed: 1,
  clipNorm: 5,
};

/**
 * Fine-tunes ResNet-50 + FPN + segmentation head on the dataset's labelled train images (masks,
 * polygons, or boxes as box-shaped targets), picks thresholds on its val split and registers a
 * candidate model version with the parent, dataset snapshot, config, metrics and the fused
 * forward-only network. The run is recorded; a killed run resumes from its last checkpoint.
 */
export async function trainSegment(store: Store, input: TrainSegmentInput, ctx: JobContext): Promise<TrainSegmentResult> {
  const started = performance.now();
  const resumed = input.resumeRunId !== undefined ? store.trainingRuns.get(input.resumeRunId) : undefined;
  if (resumed && resumed.status === 'succeeded') throw new ArgusError('invalid_argument', `Training run ${resumed.id} already finished (model ${resumed.resultModelId})`);
  const datasetId = resumed ? Number(resumed.config.datasetId) : input.datasetId;
  const dataset = store.datasets.get(datasetId);
  const project = store.projects.get(dataset.projectId);
  const classes = project.classes.map((c) => c.name);
  if (classes.length === 0) throw new ArgusError('bad_input', `Project "${project.name}" has no defect classes to learn`);
  if (project.classes.some((c, i) => c.index !== i + 1)) throw new ArgusError('bad_input', `Project "${project.name}" has gaps in its class numbering`);
  const labelled = (split: 'train' | 'val'): DatasetSample[] => store.datasets.samples(dataset.id, split).filter((s) => s.label === 'good' || (s.label === 'defect' && s.masks.length + s.boxes.length + s.polygons.length > 0));
  const trainSamples = labelled('train');
  const validationSamples = labelled('val');
  if (!trainSamples.some((s) => s.label === 'defect')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled defects in its train split`);
  if (validationSamples.length === 0) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled images in its val split`);

  const parentId = resumed ? resumed.parentModelId ?? undefined : input.parentModelId;
  const parent = parentId !== undefined ? store.models.get(parentId) : undefined;
  let initial: Map<string, Float32Tensor>;
  let config: SegmentTrainingConfig;
  if (resumed) {
    config = resumed.config.training as SegmentTrainingConfig;
  } else {
    const requested = input.config ?? {};
    const parentConfig = parent ? (parent.config as unknown as SegmentModelConfig) : undefined;
    const geometry = parentConfig
      ? { inputWidth: requested.inputWidth ?? parentConfig.inputWidth, inputHeight: requested.inputHeight ?? parentConfig.inputHeight, scale: parentConfig.scale }
      : inputGeometry(trainSamples, 512, requested);
    config = {
      ...DEFAULT_SEGMENT_TRAINING, classes, ...geometry, classWeights: [], stepsPerEpoch: 0, ...requested,
    } as SegmentTrainingConfig;
    config.scale = geometry.scale;
    // SGD needs a far larger step than AdamW's per-parameter normalised one.
    if (config.optimizer === 'sgd' && requested.learningRate === undefined) config.learningRate = 0.01;
    config.stepsPerEpoch = requested.stepsPerEpoch ?? Math.max(1, Math.ceil(trainSamples.length / config.batchSize));
    config.warmupSteps = Math.min(config.warmupSteps, Math.max(1, Math.floor((config.epochs * config.stepsPerEpoch) / 10)));
  }
  if (config.inputWidth % 32 || config.inputHeight % 32) throw new ArgusError('invalid_argument', 'The input size must be a multiple of 32');
  if (parent) {
    if (parent.mode !== 'segment') throw new ArgusError('invalid_argument', `Model ${parent.id} is a ${parent.mode} model; fine-tuning continues from a segmentation model`);
    if (parent.classes.join('\n') !== classes.join('\n')) throw new ArgusError('invalid_argument', `Model ${parent.id} knows classes [${parent.classes.join(', ')}], the project has [${classes.join(', ')}]`);
    const files = await verifyModelFiles(store, parent);
    const tuned = SafetensorsFile.parse(files.get('tuned.safetensors')!, `model ${parent.id} weights`);
    initial = new Map([...tuned.tensors.keys()].map((name) => [name, tuned.float32(name)]));
  } else {
    initial = initialHeadTensors(config, config.seed);
  }

  ctx.progress('reading labels', 0, trainSamples.length + validationSamples.length);
  const train = await loadTrainingImages(store, trainSamples, (d) => ctx.progress('reading labels', d, trainSamples.length + validationSamples.length));
  const validation = await loadTrainingImages(store, validationSamples, (d) => ctx.progress('reading labels', trainSamples.length + d, trainSamples.length + validationSamples.length));
  if (!resumed) {
    const counts = new Array(classes.length + 1).fill(0);
    for (const image of train) {
      if (!image.labels) counts[0] += image.sample.width * image.sample.height;
      else for (const v of image.labels) counts[v]++;
    }
    config.classWeights = input.config?.classWeights ?? classWeightsFrom(counts);
  }

  const run = resumed ?? store.transaction(() => store.trainingRuns.create({
    projectId: dataset.projectId, mode: 'segment', parentModelId: parent?.id ?? null, snapshotId: store.datasets.snapshot(dataset.id),
    config: { datasetId: dataset.id, training: config, name: input.name ?? null },
  }));
  if (resumed) store.trainingRuns.resumed(run.id);
  const checkpointDir = join(store.dataDir, 'training', `run-${run.id}`);
  store.trainingRuns.setCheckpoint(run.id, checkpointDir, run.progress);
  const trainer = new FineTuner(segmentTask(store, input.backbone, (n) => initial.get(n), config, train, validation), config, checkpointDir);
  try {
    const outcome = await trainer.train(input.provider, ctx.signal, (p) => {
      input.onProgress?.(p);
      if (p.phase === 'training') ctx.progress(`epoch ${p.epoch}/${p.epochs} · loss ${p.loss?.toFixed(4)}`, p.step, p.totalSteps);
      if (p.validation) store.trainingRuns.setCheckpoint(run.id, checkpointDir, p.step / p.totalSteps);
    });
    ctx.progress('calibrating', 0, validationSamples.length);
    const tuned = outcome.best;
    const network = buildSegmentInferenceModel(input.backbone, (n) => tuned.get(n) ?? initial.get(n), config);
    const modelConfig: SegmentModelConfig = { classes, inputWidth: config.inputWidth, inputHeight: config.inputHeight, frozenStages: config.frozenStages, scale: config.scale };
    const detector = await SegmentDetector.create(network, modelConfig, outcome.provider.active ?? 'cpu');
    const { thresholds, metrics } = await calibrateOn(store, detector, validationSamples, (d, t) => ctx.progress('calibrating', d, t), ctx.signal)
      .finally(() => detector.release());
    const weightsFile = Buffer.concat(encodeSafetensors(tuned));
    const files = [{ role: 'network.onnx', bytes: network }, { role: 'tuned.safetensors', bytes: weightsFile }];
    const stored = await Promise.all(files.map(async (f) => ({ role: f.role, sha256: await store.blobs.put(f.bytes), bytes: f.bytes.length })));
    const seconds = (performance.now() - started) / 1000;
    const model = store.transaction(() => {
      const created = store.models.create({
        projectId: dataset.projectId, parentId: parent?.id ?? null,
        name: input.name ?? (run.config.name as string | null) ?? `segment ${dataset.name}`,
        mode: 'segment', classes, snapshotId: run.snapshotId,
        config: {
          ...modelConfig, training: config, backboneSha256: input.backboneSha256, trainImages: train.length, runId: run.id,
          bestEpoch: outcome.bestEpoch, stoppedEarly: outcome.stoppedEarly, msPerStep: outcome.msPerStep, provider: outcome.provider.active, trainSeconds: seconds,
        },
        metrics: { validation: { ...metrics, iou: outcome.epochs.find((e) => e.epoch === outcome.bestEpoch)?.validation.iou }, initialValidation: outcome.initialValidation, epochs: outcome.epochs },
        thresholds: { ...thresholds },
        files: stored,
      });
      store.trainingRuns.finish(run.id, 'succeeded', { modelId: created.id });
      store.history.audit(input.actor, 'model.train', `model:${created.id}`, { mode: 'segment', datasetId: dataset.id, parent: parent?.id ?? null, runId: run.id, seconds });
      return created;
    });
    await rm(checkpointDir, { recursive: true, force: true });
    return { model, runId: run.id, seconds };
  } catch (error) {
    const cancelled = error instanceof ArgusError && error.code === 'cancelled';
    // A cancelled or failed run keeps its checkpoint: it can be resumed.
    store.trainingRuns.finish(run.id, cancelled ? 'cancelled' : 'failed', { error: (error as Error).message });
    throw error;
  }
}

/** Loads a stored segmentation model version for inspection. */
export async function loadSegmentDetector(store: Store, model: ModelVersion, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<SegmentDetector> {
  const files = await verifyModelFiles(store, model);
  const network = files.get('network.onnx');
  if (!network) throw new ArgusError('bad_input', `Model ${model.id} lacks its network.onnx file`);
  return SegmentDetector.create(network, model.config as unknown as SegmentModelConfig, provider, { cache: sessions, key: model.files.map((f) => f.sha256).join('+') });
}

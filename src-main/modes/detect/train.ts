import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionProviderChoice, TrainingProgressInfo } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { quantile } from '../../analysis/metrics.ts';
import { verifyModelFiles } from '../shared/model-files.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { BackboneWeights } from '../../model/resnet50.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../../model/safetensors.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { DatasetSample } from '../../store/datasets.ts';
import type { ModelVersion } from '../../store/models.ts';
import type { Store } from '../../store/store.ts';
import { FineTuner } from '../../training/fine-tuner.ts';
import { loadDetectImages } from './data.ts';
import { DetectDetector, type DetectModelConfig } from './detector.ts';
import { calibrateDetections, collectDetections, detectionMetrics } from './evaluate.ts';
import { detectInputGeometry } from './input-geometry.ts';
import { buildDetectInferenceModel, initialHeadTensors } from './network.ts';
import { detectTask, type DetectTrainingConfig } from './trainer.ts';

export interface TrainDetectInput {
  datasetId: number;
  backbone: BackboneWeights;
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  /** Fine-tune from this detection model version instead of fresh FPN + head weights. */
  parentModelId?: number;
  config?: Partial<DetectTrainingConfig>;
  name?: string;
  actor: string;
  /** Continue this (interrupted) run from its last checkpoint. */
  resumeRunId?: number;
  onProgress?: (p: TrainingProgressInfo) => void;
}

export const DEFAULT_DETECT_TRAINING: Omit<DetectTrainingConfig, 'classes' | 'inputWidth' | 'inputHeight' | 'scale' | 'stepsPerEpoch'> = {
  frozenStages: 2,
  towerDepth: 2,
  towerChannels: 128,
  batchSize: 8,
  epochs: 12,
  learningRate: 2e-4,
  warmupSteps: 100,
  optimizer: 'adamw',
  weightDecay: 1e-4,
  patience: 4,
  seed: 1,
  clipNorm: 5,
};

/**
 * Trains the FCOS-style detector (ResNet-50 + FPN P3–P7, focal + GIoU + centreness loss) on the
 * dataset's labelled train images (boxes, polygons, or mask regions as boxes), calibrates per-class
 * thresholds on its val split and registers a candidate model version. The run is recorded; a
 * killed run resumes from its last checkpoint.
 */
export async function trainDetect(store: Store, input: TrainDetectInput, ctx: JobContext): Promise<{ model: ModelVersion; runId: number; seconds: number }> {
  const started = performance.now();
  const resumed = input.resumeRunId !== undefined ? store.trainingRuns.get(input.resumeRunId) : undefined;
  if (resumed && resumed.status === 'succeeded') throw new ArgusError('invalid_argument', `Training run ${resumed.id} already finished (model ${resumed.resultModelId})`);
  const dataset = store.datasets.get(resumed ? Number(resumed.config.datasetId) : input.datasetId);
  const project = store.projects.get(dataset.projectId);
  const classes = project.classes.map((c) => c.name);
  if (classes.length === 0) throw new ArgusError('bad_input', `Project "${project.name}" has no defect classes to learn`);
  if (project.classes.some((c, i) => c.index !== i + 1)) throw new ArgusError('bad_input', `Project "${project.name}" has gaps in its class numbering`);
  const labelled = (split: 'train' | 'val'): DatasetSample[] => store.datasets.samples(dataset.id, split).filter((s) => s.label === 'good' || (s.label === 'defect' && s.masks.length + s.boxes.length + s.polygons.length > 0));
  const trainSamples = labelled('train');
  const validationSamples = labelled('val');
  if (!trainSamples.some((s) => s.label === 'defect')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled defects in its train split`);
  if (!validationSamples.some((s) => s.label === 'defect')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled defects in its val split to calibrate on`);

  const total = trainSamples.length + validationSamples.length;
  ctx.progress('reading labels', 0, total);
  const train = await loadDetectImages(store, trainSamples, classes.length, (d) => ctx.progress('reading labels', d, total));
  const validation = await loadDetectImages(store, validationSamples, classes.length, (d) => ctx.progress('reading labels', trainSamples.length + d, total));

  const parentId = resumed ? resumed.parentModelId ?? undefined : input.parentModelId;
  const parent = parentId !== undefined ? store.models.get(parentId) : undefined;
  let config: DetectTrainingConfig;
  if (resumed) {
    config = resumed.config.training as DetectTrainingConfig;
  } else {
    const requested = input.config ?? {};
    const parentConfig = parent ? (parent.config as unknown as DetectModelConfig) : undefined;
    // A requested input size is filled by the images, as segment mode fits them; else the data decide.
    const geometry = parentConfig ?? (requested.inputWidth && requested.inputHeight
      ? { inputWidth: requested.inputWidth, inputHeight: requested.inputHeight, scale: quantile(trainSamples.map((s) => Math.min(requested.inputWidth! / s.width, requested.inputHeight! / s.height)), 0.5) }
      : detectInputGeometry(trainSamples, train.flatMap((i) => i.boxes)));
    config = {
      ...DEFAULT_DETECT_TRAINING,
      ...(parentConfig ? { towerDepth: parentConfig.towerDepth, towerChannels: parentConfig.towerChannels, frozenStages: parentConfig.frozenStages } : {}),
      classes, inputWidth: geometry.inputWidth, inputHeight: geometry.inputHeight, stepsPerEpoch: 0, ...requested, scale: geometry.scale,
    } as DetectTrainingConfig;
    if (config.optimizer === 'sgd' && requested.learningRate === undefined) config.learningRate = 0.01;
    config.stepsPerEpoch = requested.stepsPerEpoch ?? Math.max(1, Math.ceil(trainSamples.length / config.batchSize));
    config.warmupSteps = Math.min(config.warmupSteps, Math.max(1, Math.floor((config.epochs * config.stepsPerEpoch) / 10)));
  }
  if (config.inputWidth % 32 || config.inputHeight % 32) throw new ArgusError('invalid_argument', 'The input size must be a multiple of 32');
  let initial: Map<string, Float32Tensor>;
  if (parent) {
    if (parent.mode !== 'detect') throw new ArgusError('invalid_argument', `Model ${parent.id} is a ${parent.mode} model; fine-tuning continues from a detection model`);
    if (parent.classes.join('\n') !== classes.join('\n')) throw new ArgusError('invalid_argument', `Model ${parent.id} knows classes [${parent.classes.join(', ')}], the project has [${classes.join(', ')}]`);
    const tuned = SafetensorsFile.parse((await verifyModelFiles(store, parent)).get('tuned.safetensors')!, `model ${parent.id} weights`);
    initial = new Map([...tuned.tensors.keys()].map((name) => [name, tuned.float32(name)]));
  } else {
    initial = initialHeadTensors(config, config.seed);
  }

  const run = resumed ?? store.transaction(() => store.trainingRuns.create({
    projectId: dataset.projectId, mode: 'detect', parentModelId: parent?.id ?? null, snapshotId: store.datasets.snapshot(dataset.id),
    config: { datasetId: dataset.id, training: config, name: input.name ?? null },
  }));
  if (resumed) store.trainingRuns.resumed(run.id);
  const checkpointDir = join(store.dataDir, 'training', `run-${run.id}`);
  store.trainingRuns.setCheckpoint(run.id, checkpointDir, run.progress);
  const trainer = new FineTuner(detectTask(store, input.backbone, (n) => initial.get(n), config, train, validation), config, checkpointDir);
  try {
    const outcome = await trainer.train(input.provider, ctx.signal, (p) => {
      input.onProgress?.(p);
      if (p.phase === 'training') ctx.progress(`epoch ${p.epoch}/${p.epochs} · loss ${p.loss?.toFixed(4)}`, p.step, p.totalSteps);
      if (p.validation) store.trainingRuns.setCheckpoint(run.id, checkpointDir, p.step / p.totalSteps);
    });
    const tuned = outcome.best;
    const network = buildDetectInferenceModel(input.backbone, (n) => tuned.get(n) ?? initial.get(n), config);
    const modelConfig: DetectModelConfig = {
      classes, inputWidth: config.inputWidth, inputHeight: config.inputHeight, frozenStages: config.frozenStages,
      towerDepth: config.towerDepth, towerChannels: config.towerChannels, scale: config.scale,
    };
    const detector = await DetectDetector.create(network, modelConfig, outcome.provider.active ?? 'cpu');
    const record = await collectDetections(store, detector, classes, validationSamples, (d, t) => ctx.progress('calibrating', d, t), ctx.signal)
      .finally(() => detector.release());
    const thresholds = calibrateDetections(record, classes);
    const metrics = detectionMetrics(record, classes, thresholds);
    const weightsFile = Buffer.concat(encodeSafetensors(tuned));
    const files = [{ role: 'network.onnx', bytes: network }, { role: 'tuned.safetensors', bytes: weightsFile }];
    const stored = await Promise.all(files.map(async (f) => ({ role: f.role, sha256: await store.blobs.put(f.bytes), bytes: f.bytes.length })));
    const seconds = (performance.now() - started) / 1000;
    const model = store.transaction(() => {
      const created = store.models.create({
        projectId: dataset.projectId, parentId: parent?.id ?? null,
        name: input.name ?? (run.config.name as string | null) ?? `detect ${dataset.name}`,
        mode: 'detect', classes, snapshotId: run.snapshotId,
        config: {
          ...modelConfig, training: config, backboneSha256: input.backboneSha256, trainImages: train.length, runId: run.id,
          bestEpoch: outcome.bestEpoch, stoppedEarly: outcome.stoppedEarly, msPerStep: outcome.msPerStep, provider: outcome.provider.active, trainSeconds: seconds,
        },
        metrics: { validation: metrics, initialValidation: outcome.initialValidation, epochs: outcome.epochs },
        thresholds: { ...thresholds },
        files: stored,
      });
      store.trainingRuns.finish(run.id, 'succeeded', { modelId: created.id });
      store.history.audit(input.actor, 'model.train', `model:${created.id}`, { mode: 'detect', datasetId: dataset.id, parent: parent?.id ?? null, runId: run.id, seconds });
      return created;
    });
    await rm(checkpointDir, { recursive: true, force: true });
    return { model, runId: run.id, seconds };
  } catch (error) {
    const cancelled = error instanceof ArgusError && error.code === 'cancelled';
    store.trainingRuns.finish(run.id, cancelled ? 'cancelled' : 'failed', { error: (error as Error).message });
    throw error;
  }
}

/** Loads a stored detection model version for inspection. */
export async function loadDetectDetector(store: Store, model: ModelVersion, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<DetectDetector> {
  const files = await verifyModelFiles(store, model);
  const network = files.get('network.onnx');
  if (!network) throw new ArgusError('bad_input', `Model ${model.id} lacks its network.onnx file`);
  return DetectDetector.create(network, model.config as unknown as DetectModelConfig, provider, { cache: sessions, key: model.files.map((f) => f.sha256).join('+') });
}

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelThresholds } from '../../contract/contract.ts';
import type { DatasetSummary, ExecutionProviderChoice, TrainableMode, TrainingProgressInfo } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../../model/safetensors.ts';
import type { DatasetSample } from '../../store/datasets.ts';
import type { ModelVersion } from '../../store/models.ts';
import type { Store } from '../../store/store.ts';
import type { TrainingRun } from '../../store/training-runs.ts';
import { FineTuner, type FineTuneSchedule, type FineTuneTask, type TrainingOutcome } from '../../training/fine-tuner.ts';
import { verifyModelFiles } from './model-files.ts';

/** What a fine-tuned mode's training is asked for (a new run, or the run to resume). */
export interface FineTuneRequest {
  datasetId: number;
  parentModelId?: number;
  resumeRunId?: number;
  provider: ExecutionProviderChoice;
  backboneSha256: string;
  name?: string;
  actor: string;
  onProgress?: (p: TrainingProgressInfo) => void;
}

/** The dataset, classes, labelled samples and parent a fine-tuning run works from. */
export interface FineTunePlan {
  started: number;
  mode: TrainableMode;
  resumed?: TrainingRun;
  dataset: DatasetSummary;
  classes: string[];
  trainSamples: DatasetSample[];
  validationSamples: DatasetSample[];
  parent?: ModelVersion;
}

/**
 * Checks and gathers what a supervised run needs: the run to resume (not a finished one), the
 * dataset (the resumed run's), the project's classes, the labelled train and val images (good
 * ones, and defective ones with labels), and the parent version (same mode and classes).
 */
export function planFineTune(store: Store, mode: TrainableMode, request: FineTuneRequest, options: { validationNeedsDefects: boolean }): FineTunePlan {
  const started = performance.now();
  const resumed = request.resumeRunId !== undefined ? store.trainingRuns.get(request.resumeRunId) : undefined;
  if (resumed && resumed.status === 'succeeded') throw new ArgusError('invalid_argument', `Training run ${resumed.id} already finished (model ${resumed.resultModelId})`);
  const dataset = store.datasets.get(resumed ? Number(resumed.config.datasetId) : request.datasetId);
  const project = store.projects.get(dataset.projectId);
  const classes = project.classes.map((c) => c.name);
  if (classes.length === 0) throw new ArgusError('bad_input', `Project "${project.name}" has no defect classes to learn`);
  if (project.classes.some((c, i) => c.index !== i + 1)) throw new ArgusError('bad_input', `Project "${project.name}" has gaps in its class numbering`);
  const labelled = (split: 'train' | 'val'): DatasetSample[] =>
    store.datasets.samples(dataset.id, split).filter((s) => s.label === 'good' || (s.label === 'defect' && s.masks.length + s.boxes.length + s.polygons.length > 0));
  const trainSamples = labelled('train');
  const validationSamples = labelled('val');
  if (!trainSamples.some((s) => s.label === 'defect')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled defects in its train split`);
  if (options.validationNeedsDefects ? !validationSamples.some((s) => s.label === 'defect') : validationSamples.length === 0) {
    throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled ${options.validationNeedsDefects ? 'defects' : 'images'} in its val split to calibrate on`);
  }
  const parentId = resumed ? resumed.parentModelId ?? undefined : request.parentModelId;
  const parent = parentId !== undefined ? store.models.get(parentId) : undefined;
  if (parent && parent.mode !== mode) throw new ArgusError('invalid_argument', `Model ${parent.id} is a ${parent.mode} model; fine-tuning continues from a ${mode} model`);
  if (parent && parent.classes.join('\n') !== classes.join('\n')) throw new ArgusError('invalid_argument', `Model ${parent.id} knows classes [${parent.classes.join(', ')}], the project has [${classes.join(', ')}]`);
  return { started, mode, resumed, dataset, classes, trainSamples, validationSamples, parent };
}

/** The parent version's trained tensors (its files verified), to start from. */
export async function parentTensors(store: Store, parent: ModelVersion): Promise<Map<string, Float32Tensor>> {
  const tuned = SafetensorsFile.parse((await verifyModelFiles(store, parent)).get('tuned.safetensors')!, `model ${parent.id} weights`);
  return new Map([...tuned.tensors.keys()].map((name) => [name, tuned.float32(name)]));
}

/** The schedule's steps per epoch (one pass over the train images unless asked) and a warm-up of at most a tenth of the run. */
export function completeSchedule<T extends FineTuneSchedule>(config: T, trainImages: number, requested: Partial<T>): T {
  // SGD needs a far larger step than AdamW's per-parameter normalised one.
  if (config.optimizer === 'sgd' && requested.learningRate === undefined) config.learningRate = 0.01;
  config.stepsPerEpoch = requested.stepsPerEpoch ?? Math.max(1, Math.ceil(trainImages / config.batchSize));
  config.warmupSteps = Math.min(config.warmupSteps, Math.max(1, Math.floor((config.epochs * config.stepsPerEpoch) / 10)));
  if (config.inputWidth % 32 || config.inputHeight % 32) throw new ArgusError('invalid_argument', 'The input size must be a multiple of 32');
  return config;
}

/** What a mode makes of the best weights: the forward-only network, its config, and its thresholds and validation metrics. */
export interface FineTunedModel {
  network: Uint8Array;
  modelConfig: object;
  thresholds: ModelThresholds;
  validation: object;
}

/**
 * Runs a fine-tuning task as a recorded training run: the run row (or the resumed one) with its
 * checkpoint folder, the fine-tuner, then `finish` (network, thresholds, metrics from the best
 * weights), and the candidate version registered with its files in one transaction. A cancelled or
 * failed run keeps its checkpoint, so it can be resumed.
 */
export async function runFineTune<C extends FineTuneSchedule>(
  store: Store, plan: FineTunePlan, request: FineTuneRequest, ctx: JobContext, config: C, trainImages: number,
  task: (checkpointDir: string) => FineTuneTask, finish: (outcome: TrainingOutcome) => Promise<FineTunedModel>,
): Promise<{ model: ModelVersion; runId: number; seconds: number }> {
  const { dataset, parent, resumed, mode } = plan;
  const run = resumed ?? store.transaction(() => store.trainingRuns.create({
    projectId: dataset.projectId, mode, parentModelId: parent?.id ?? null, snapshotId: store.datasets.snapshot(dataset.id),
    config: { datasetId: dataset.id, training: config, name: request.name ?? null },
  }));
  if (resumed) store.trainingRuns.resumed(run.id);
  const checkpointDir = join(store.dataDir, 'training', `run-${run.id}`);
  store.trainingRuns.setCheckpoint(run.id, checkpointDir, run.progress);
  try {
    const outcome = await new FineTuner(task(checkpointDir), config, checkpointDir).train(request.provider, ctx.signal, (p) => {
      request.onProgress?.(p);
      if (p.phase === 'training') ctx.progress(`epoch ${p.epoch}/${p.epochs} · loss ${p.loss?.toFixed(4)}`, p.step, p.totalSteps);
      if (p.validation) store.trainingRuns.setCheckpoint(run.id, checkpointDir, p.step / p.totalSteps);
    });
    ctx.progress('calibrating', 0, plan.validationSamples.length);
    const made = await finish(outcome);
    const files = [{ role: 'network.onnx', bytes: made.network }, { role: 'tuned.safetensors', bytes: Buffer.concat(encodeSafetensors(outcome.best)) }];
    const stored = await Promise.all(files.map(async (f) => ({ role: f.role, sha256: await store.blobs.put(f.bytes), bytes: f.bytes.length })));
    const seconds = (performance.now() - plan.started) / 1000;
    const model = store.transaction(() => {
      const created = store.models.create({
        projectId: dataset.projectId, parentId: parent?.id ?? null,
        name: request.name ?? (run.config.name as string | null) ?? `${mode} ${dataset.name}`,
        mode, classes: plan.classes, snapshotId: run.snapshotId,
        config: {
          ...made.modelConfig, training: config, backboneSha256: request.backboneSha256, trainImages, runId: run.id,
          bestEpoch: outcome.bestEpoch, stoppedEarly: outcome.stoppedEarly, msPerStep: outcome.msPerStep, provider: outcome.provider.active, trainSeconds: seconds,
        },
        metrics: { validation: made.validation, initialValidation: outcome.initialValidation, epochs: outcome.epochs },
        thresholds: { ...made.thresholds },
        files: stored,
      });
      store.trainingRuns.finish(run.id, 'succeeded', { modelId: created.id });
      store.history.audit(request.actor, 'model.train', `model:${created.id}`, { mode, datasetId: dataset.id, parent: parent?.id ?? null, runId: run.id, seconds });
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

/** A fine-tuned version's network file (verified) and the key its sessions are cached under. */
export async function fineTunedNetwork(store: Store, model: ModelVersion): Promise<{ network: Uint8Array; key: string }> {
  const network = (await verifyModelFiles(store, model)).get('network.onnx');
  if (!network) throw new ArgusError('bad_input', `Model ${model.id} lacks its network.onnx file`);
  return { network, key: model.files.map((f) => f.sha256).join('+') };
}

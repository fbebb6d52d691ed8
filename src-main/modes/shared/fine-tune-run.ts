import type { ModelThresholds, ModelVersionSummary as ModelVersion, TrainableMode } from '../../contract/contract.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import { ArgusError } from '../../contract/errors.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../../model/safetensors.ts';
import { FineTuner, type FineTuneSchedule, type FineTuneTask, type TrainingOutcome } from '../../training/fine-tuner.ts';
import { modelFile, type ModeTrainingInput, type TrainedModel } from '../model-mode.ts';

/** The classes and labelled samples a fine-tuning run works from. */
export interface FineTunePlan {
  classes: string[];
  trainSamples: DatasetSample[];
  validationSamples: DatasetSample[];
}

/**
 * Checks and gathers what a supervised run needs from the dataset: the project's classes, and the
 * labelled train and val images (good ones, and defective ones with labels). A parent version
 * must be of the same mode and know the same classes.
 */
export function planFineTune(input: ModeTrainingInput, mode: TrainableMode, options: { validationNeedsDefects: boolean; wholeImageClasses?: boolean }): FineTunePlan {
  const { dataset, classes: projectClasses } = input.data;
  const classes = projectClasses.map((c) => c.name);
  if (classes.length === 0) throw new ArgusError('bad_input', `Project "${dataset.projectName}" has no defect classes to learn`, { key: 'noClasses', params: { project: dataset.projectName } });
  if (projectClasses.some((c, i) => c.index !== i + 1)) throw new ArgusError('bad_input', `Project "${dataset.projectName}" has gaps in its class numbering`, { key: 'classGaps', params: { project: dataset.projectName } });
  const labelled = (split: 'train' | 'val'): DatasetSample[] =>
    input.data.samples(split).filter((s) => s.label === 'good'
      || (s.label === 'defect' && s.masks.length + s.boxes.length + s.polygons.length + (options.wholeImageClasses ? s.imageClasses.length : 0) > 0));
  const trainSamples = labelled('train');
  const validationSamples = labelled('val');
  if (!trainSamples.some((s) => s.label === 'defect')) throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled defects in its train split`, { key: 'noDefectsTrain', params: { dataset: dataset.name } });
  if (options.validationNeedsDefects ? !validationSamples.some((s) => s.label === 'defect') : validationSamples.length === 0) {
    throw new ArgusError('bad_input', `Dataset "${dataset.name}" has no labelled ${options.validationNeedsDefects ? 'defects' : 'images'} in its val split to calibrate on`, { key: 'noLabelledVal', params: { dataset: dataset.name } });
  }
  const parent = input.parent?.model;
  if (parent && parent.mode !== mode) throw new ArgusError('invalid_argument', `Model ${parent.id} is a ${parent.mode} model; fine-tuning continues from a ${mode} model`, { key: 'parentModeMismatch', params: { id: parent.id, mode } });
  if (parent && parent.classes.join('\n') !== classes.join('\n')) throw new ArgusError('invalid_argument', `Model ${parent.id} knows classes [${parent.classes.join(', ')}], the project has [${classes.join(', ')}]`, { key: 'parentClassesMismatch', params: { id: parent.id, classes: parent.classes.join(', '), projectClasses: classes.join(', ') } });
  return { classes, trainSamples, validationSamples };
}

/** The parent version's trained tensors, to start from. */
export function parentTensors(parent: { model: ModelVersion; files: Map<string, Uint8Array> }): Map<string, Float32Tensor> {
  const weights = modelFile(parent.model, parent.files, 'tuned.safetensors');
  const tuned = SafetensorsFile.parse(Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength), `model ${parent.model.id} weights`);
  return new Map([...tuned.tensors.keys()].map((name) => [name, tuned.float32(name)]));
}

/** The schedule's steps per epoch (one pass over the train images unless asked) and a warm-up of at most a tenth of the run. */
export function completeSchedule<T extends FineTuneSchedule>(config: T, trainImages: number, requested: Partial<T>): T {
  // SGD needs a far larger step than AdamW's per-parameter normalised one.
  if (config.optimizer === 'sgd' && requested.learningRate === undefined) config.learningRate = 0.01;
  config.stepsPerEpoch = requested.stepsPerEpoch ?? Math.max(1, Math.ceil(trainImages / config.batchSize));
  config.warmupSteps = Math.min(config.warmupSteps, Math.max(1, Math.floor((config.epochs * config.stepsPerEpoch) / 10)));
  if (config.inputWidth % 32 || config.inputHeight % 32) throw new ArgusError('invalid_argument', 'The input size must be a multiple of 32', { key: 'inputSize32' });
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
 * Runs a fine-tuning task in its recorded run (the schedule recorded first, checkpoints in the
 * run's folder, so an interrupted run resumes), then `finish` (network, thresholds, metrics from
 * the best weights). Returns the model to register: the forward network and the tuned weights.
 */
export async function runFineTune<C extends FineTuneSchedule>(
  input: ModeTrainingInput, plan: FineTunePlan, ctx: JobContext, config: C, trainImages: number,
  task: () => FineTuneTask, finish: (outcome: TrainingOutcome) => Promise<FineTunedModel>,
): Promise<TrainedModel> {
  const run = input.run;
  if (!run) throw new ArgusError('internal', 'A fine-tuning run needs its run record');
  run.recordSchedule(config as unknown as Record<string, unknown>);
  const outcome = await new FineTuner(task(), config, run.checkpointDir).train(input.provider, ctx.signal, (p) => {
    input.onProgress?.(p);
    if (p.phase === 'training') ctx.progress(`epoch ${p.epoch}/${p.epochs} · loss ${p.loss?.toFixed(4)}`, p.step, p.totalSteps);
    if (p.validation) run.progress(p.step / p.totalSteps);
  });
  ctx.progress('calibrating', 0, plan.validationSamples.length);
  const made = await finish(outcome);
  return {
    classes: plan.classes,
    config: {
      ...made.modelConfig, training: config, trainImages,
      bestEpoch: outcome.bestEpoch, stoppedEarly: outcome.stoppedEarly, msPerStep: outcome.msPerStep, provider: outcome.provider.active,
    },
    metrics: { validation: made.validation, initialValidation: outcome.initialValidation, epochs: outcome.epochs },
    thresholds: { ...made.thresholds },
    files: [{ role: 'network.onnx', bytes: made.network }, { role: 'tuned.safetensors', bytes: Buffer.concat(encodeSafetensors(outcome.best)) }],
  };
}

/** A fine-tuned version's network file and the key its sessions are cached under. */
export function fineTunedNetwork(model: ModelVersion, files: Map<string, Uint8Array>): { network: Uint8Array; key: string } {
  return { network: modelFile(model, files, 'network.onnx'), key: model.files.map((f) => f.sha256).join('+') };
}

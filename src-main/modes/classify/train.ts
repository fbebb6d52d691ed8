import { type ExecutionProviderChoice, FINE_TUNE_DEFAULTS, type ModelVersionSummary as ModelVersion, type TrainingValidation } from '../../contract/contract.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import { ArgusError } from '../../contract/errors.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { FineTuneSchedule, FineTuneTask, ValidationAccumulator } from '../../training/fine-tuner.ts';
import { inputSizeFor } from '../anomaly/train.ts';
import type { ModeTrainingInput, TrainedModel } from '../model-mode.ts';
import { calibrateOn } from '../shared/evaluation.ts';
import { completeSchedule, fineTunedNetwork, parentTensors, planFineTune, runFineTune } from '../shared/fine-tune-run.ts';
import { ClassifyBatcher, classWeightsFrom, imageClassOf, imageClassSetOf, type LabelledImage, multiLabelTargets, positiveWeightsFrom, singleLabelTargets } from './data.ts';
import { ClassifyDetector, type ClassifyModelConfig } from './detector.ts';
import { buildClassifyInferenceModel, buildFrozenFeatureModel, buildTrainingGraphs, type ClassifyNetworkConfig, frozenOutputs, initialHeadTensors, targetNames } from './network.ts';

export interface ClassifyTrainingConfig extends ClassifyNetworkConfig, FineTuneSchedule {
  hasGood: boolean;
  smoothing: number;
  /** Single-label: each class's loss weight; multi-label: each class's positive-term weight. */
  classWeights: number[];
}

export const DEFAULT_CLASSIFY_TRAINING: Omit<ClassifyTrainingConfig, 'classes' | 'inputWidth' | 'inputHeight' | 'hasGood' | 'classWeights' | 'stepsPerEpoch'> = {
  ...FINE_TUNE_DEFAULTS.classify,
  warmupSteps: 30,
  optimizer: 'adamw',
  weightDecay: 1e-4,
  patience: 4,
  seed: 1,
  clipNorm: 5,
  smoothing: 0.1,
};

/** The network input for the images: their median aspect, the long side their median size rounded to 32 (64–448). */
function inputGeometry(samples: { width: number; height: number }[]): { inputWidth: number; inputHeight: number } {
  const sides = samples.map((s) => Math.max(s.width, s.height)).sort((a, b) => a - b);
  const longSide = Math.min(448, Math.max(64, Math.round(sides[Math.floor(sides.length / 2)] / 32) * 32));
  return inputSizeFor(samples as never, longSide);
}

/**
 * Accuracy (and the loss) of the validation batches: the most probable class is the labelled one,
 * or (multi-label) every class's sigmoid is on the right side of 0.5. A multi-label target row has a
 * class present where its positive term outweighs its negative one (the positive weight is at most
 * 10, so with ε ≤ 0.1 an absent class's ε/2·10 stays below 1 − ε/2).
 */
function accuracy(numClasses: number, multiLabel: boolean): ValidationAccumulator {
  let right = 0;
  let seen = 0;
  return {
    add(batch, outputs, valid) {
      const logits = outputs.logits.data as Float32Array;
      const target = batch.targets.target.data as Float32Array;
      const negative = batch.targets.target_negative?.data as Float32Array | undefined;
      for (let b = 0; b < valid; b++) {
        const row = b * numClasses;
        let correct: boolean;
        if (multiLabel) {
          correct = true;
          for (let j = 0; j < numClasses; j++) if ((logits[row + j] > 0) !== (target[row + j] > negative![row + j])) correct = false;
        } else {
          let predicted = 0;
          let truth = 0;
          for (let j = 1; j < numClasses; j++) {
            if (logits[row + j] > logits[row + predicted]) predicted = j;
            if (target[row + j] > target[row + truth]) truth = j;
          }
          correct = predicted === truth;
        }
        if (correct) right++;
        seen++;
      }
    },
    result: (loss): TrainingValidation => ({ loss, accuracy: seen ? right / seen : 0 }),
  };
}

/** Each image's classes for the loss: its class index (single-label) or the set of its defect classes (multi-label). */
type ImageClasses = { sample: DatasetSample; classes: number[] };

function labelledImages(samples: ImageClasses['sample'][], multiLabel: boolean, hasGood: boolean): ImageClasses[] {
  return samples.flatMap((sample) => {
    if (multiLabel) {
      const present = imageClassSetOf(sample);
      return present ? [{ sample, classes: present }] : [];
    }
    const classIndex = imageClassOf(sample, hasGood);
    return classIndex === null ? [] : [{ sample, classes: [classIndex] }];
  });
}

/** The loss weights from the train split's label counts. */
function classWeights(train: ImageClasses[], k: number, multiLabel: boolean): number[] {
  const carrying = Array.from({ length: k }, (_, c) => train.filter((t) => t.classes.includes(c)).length);
  return multiLabel ? positiveWeightsFrom(carrying, train.length) : classWeightsFrom(carrying);
}

/**
 * Fine-tunes ResNet-50 with a classifier on whole-image classes: "good" (when the train split has
 * good images) and the project's defect classes, each defective image taking its class label or
 * the class most of its labelled regions carry; multi-label, one sigmoid per defect class, each
 * image carrying all its classes. Label smoothing, class weights from the label counts, early
 * stages frozen; thresholds calibrated on the val split.
 */
export async function trainClassify(input: ModeTrainingInput, ctx: JobContext): Promise<TrainedModel> {
  const plan = planFineTune(input, 'classify', { validationNeedsDefects: false, wholeImageClasses: true });
  const resumed = input.run?.resumedTraining as unknown as ClassifyTrainingConfig | undefined;
  const requested = input.config as Partial<ClassifyTrainingConfig>;
  const parentConfig = input.parent?.model.config as unknown as ClassifyModelConfig | undefined;
  const multiLabel = resumed?.multiLabel ?? requested.multiLabel ?? parentConfig?.multiLabel ?? false;
  if (parentConfig && (parentConfig.multiLabel ?? false) !== multiLabel) {
    throw new ArgusError('invalid_argument', `Model ${input.parent!.model.id} is ${multiLabel ? 'single' : 'multi'}-label; fine-tune a ${multiLabel ? 'multi' : 'single'}-label model from ImageNet or from a model of the same kind`, { key: 'labelKindMismatch', params: { id: input.parent!.model.id } });
  }
  const hasGood = !multiLabel && (resumed?.hasGood ?? plan.trainSamples.some((s) => s.label === 'good'));
  const train = labelledImages(plan.trainSamples, multiLabel, hasGood);
  const validation = labelledImages(plan.validationSamples, multiLabel, hasGood);
  if (validation.length === 0) throw new ArgusError('bad_input', `Dataset "${input.data.dataset.name}" has no labelled images in its val split to calibrate on`, { key: 'noLabelledVal', params: { dataset: input.data.dataset.name } });
  const classes = [...(hasGood ? ['good'] : []), ...plan.classes];
  let config: ClassifyTrainingConfig;
  if (resumed) {
    config = resumed;
  } else {
    const geometry = parentConfig ? { inputWidth: parentConfig.inputWidth, inputHeight: parentConfig.inputHeight } : inputGeometry(train.map((t) => t.sample));
    config = completeSchedule({
      ...DEFAULT_CLASSIFY_TRAINING, ...geometry, classes, hasGood, classWeights: classWeights(train, classes.length, multiLabel), stepsPerEpoch: 0, ...requested, multiLabel,
    } as ClassifyTrainingConfig, train.length, requested);
  }
  const initial: Map<string, Float32Tensor> = input.parent ? parentTensors(input.parent) : initialHeadTensors(config, config.seed);
  const k = classes.length;
  const withTargets = (images: ImageClasses[]): LabelledImage[] => images.map(({ sample, classes: present }) => ({
    sample,
    targets: multiLabel ? multiLabelTargets(present, k, config.smoothing, config.classWeights) : singleLabelTargets(present[0], k, config.smoothing, config.classWeights),
  }));
  const [trainImages, validationImages] = [withTargets(train), withTargets(validation)];
  const geometry = { inputWidth: config.inputWidth, inputHeight: config.inputHeight, numClasses: k, targetNames: targetNames(config) };
  const blobs = input.data.blobs;
  const task = (): FineTuneTask => {
    const validationBatches = new ClassifyBatcher(blobs, validationImages, geometry, () => 0);
    return {
      graphs: buildTrainingGraphs(input.backbone, (n) => initial.get(n), config, config.batchSize),
      frozenModel: buildFrozenFeatureModel(input.backbone, config),
      frozenOutputs: frozenOutputs(config),
      trainingBatches: (random) => {
        const batcher = new ClassifyBatcher(blobs, trainImages, geometry, random);
        return (size) => batcher.trainingBatch(size);
      },
      validationBatch: (from, size) => validationBatches.validationBatch(from, size),
      validationCount: validation.length,
      validation: () => accuracy(k, multiLabel),
    };
  };
  const trained = await runFineTune(input, plan, ctx, config, train.length, task, async (outcome) => {
    const network = buildClassifyInferenceModel(input.backbone, (n) => outcome.best.get(n) ?? initial.get(n));
    const modelConfig: ClassifyModelConfig = { classes, inputWidth: config.inputWidth, inputHeight: config.inputHeight, frozenStages: config.frozenStages, hasGood, ...(multiLabel ? { multiLabel } : {}) };
    const detector = await ClassifyDetector.create(network, modelConfig, outcome.provider.active ?? 'cpu');
    const calibrated = await calibrateOn(blobs, detector, plan.validationSamples, (d, t) => ctx.progress('calibrating', d, t), ctx.signal, config.falseRejectRate)
      .finally(() => detector.release());
    const { metrics } = calibrated;
    // Image labels say nothing about pixels: a region is where the winning class's activation map
    // (scaled to 0…image score) reaches half the NG threshold, so every NG image shows where the
    // network looked.
    const thresholds = { ...calibrated.thresholds, pixel: { threshold: calibrated.thresholds.image.ng / 2, goodMedian: 0 } };
    return { network, modelConfig, thresholds, validation: { ...metrics, accuracy: outcome.epochs.find((e) => e.epoch === outcome.bestEpoch)?.validation.accuracy } };
  });
  return { ...trained, classes };
}

/** Loads a stored classifier version for inspection. */
export async function loadClassifyDetector(model: ModelVersion, files: Map<string, Uint8Array>, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<ClassifyDetector> {
  const { network, key } = fineTunedNetwork(model, files);
  return ClassifyDetector.create(network, model.config as unknown as ClassifyModelConfig, provider, { cache: sessions, key });
}


import { type ExecutionProviderChoice, FINE_TUNE_DEFAULTS, type ModelVersionSummary as ModelVersion } from '../../contract/contract.ts';
import { quantile } from '../../analysis/metrics.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { ModeTrainingInput, TrainedModel } from '../model-mode.ts';
import { inputSizeFor } from '../anomaly/train.ts';
import { calibrateOn } from '../shared/evaluation.ts';
import { completeSchedule, fineTunedNetwork, parentTensors, planFineTune, runFineTune } from '../shared/fine-tune-run.ts';
import { loadTrainingImages } from './data.ts';
import { type SegmentModelConfig, SegmentDetector } from './detector.ts';
import { buildSegmentInferenceModel, initialHeadTensors } from './network.ts';
import { segmentTask, type SegmentTrainingConfig } from './trainer.ts';

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
  ...FINE_TUNE_DEFAULTS.segment,
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
export async function trainSegment(input: ModeTrainingInput, ctx: JobContext): Promise<TrainedModel> {
  const plan = planFineTune(input, 'segment', { validationNeedsDefects: false });
  const { classes, trainSamples, validationSamples } = plan;
  const parent = input.parent;
  const resumed = input.run?.resumedTraining;
  const blobs = input.data.blobs;
  let config: SegmentTrainingConfig;
  if (resumed) {
    config = resumed as unknown as SegmentTrainingConfig;
  } else {
    const requested = input.config as Partial<SegmentTrainingConfig>;
    const parentConfig = parent ? (parent.model.config as unknown as SegmentModelConfig) : undefined;
    const geometry = parentConfig
      ? { inputWidth: requested.inputWidth ?? parentConfig.inputWidth, inputHeight: requested.inputHeight ?? parentConfig.inputHeight, scale: parentConfig.scale }
      : inputGeometry(trainSamples, 512, requested);
    config = completeSchedule({ ...DEFAULT_SEGMENT_TRAINING, classes, ...geometry, classWeights: [], stepsPerEpoch: 0, ...requested, scale: geometry.scale } as SegmentTrainingConfig, trainSamples.length, requested);
  }
  const initial: Map<string, Float32Tensor> = parent ? parentTensors(parent) : initialHeadTensors(config, config.seed);

  const total = trainSamples.length + validationSamples.length;
  ctx.progress('reading labels', 0, total);
  const train = await loadTrainingImages(blobs, trainSamples, (d) => ctx.progress('reading labels', d, total));
  const validation = await loadTrainingImages(blobs, validationSamples, (d) => ctx.progress('reading labels', trainSamples.length + d, total));
  if (!resumed) {
    const counts = new Array(classes.length + 1).fill(0);
    for (const image of train) {
      if (!image.labels) counts[0] += image.sample.width * image.sample.height;
      else for (const v of image.labels) counts[v]++;
    }
    config.classWeights = (input.config as Partial<SegmentTrainingConfig>).classWeights ?? classWeightsFrom(counts);
  }

  return runFineTune(input, plan, ctx, config, train.length, () => segmentTask(blobs, input.backbone, (n) => initial.get(n), config, train, validation), async (outcome) => {
    const network = buildSegmentInferenceModel(input.backbone, (n) => outcome.best.get(n) ?? initial.get(n), config);
    const modelConfig: SegmentModelConfig = { classes, inputWidth: config.inputWidth, inputHeight: config.inputHeight, frozenStages: config.frozenStages, scale: config.scale, imageScore: 'max-log-odds' };
    const detector = await SegmentDetector.create(network, modelConfig, outcome.provider.active ?? 'cpu');
    const { thresholds, metrics } = await calibrateOn(blobs, detector, validationSamples, (d, t) => ctx.progress('calibrating', d, t), ctx.signal, config.falseRejectRate)
      .finally(() => detector.release());
    return { network, modelConfig, thresholds, validation: { ...metrics, iou: outcome.epochs.find((e) => e.epoch === outcome.bestEpoch)?.validation.iou } };
  });
}

/** Loads a stored segmentation model version for inspection. */
export async function loadSegmentDetector(model: ModelVersion, files: Map<string, Uint8Array>, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<SegmentDetector> {
  const { network, key } = fineTunedNetwork(model, files);
  return SegmentDetector.create(network, model.config as unknown as SegmentModelConfig, provider, { cache: sessions, key });
}

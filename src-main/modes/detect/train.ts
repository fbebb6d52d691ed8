import { type ExecutionProviderChoice, FINE_TUNE_DEFAULTS, type ModelVersionSummary as ModelVersion } from '../../contract/contract.ts';
import { quantile } from '../../analysis/metrics.ts';
import type { JobContext } from '../../jobs/job-runner.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import type { SessionCache } from '../../runtime/sessions.ts';
import type { ModeTrainingInput, TrainedModel } from '../model-mode.ts';
import { completeSchedule, fineTunedNetwork, parentTensors, planFineTune, runFineTune } from '../shared/fine-tune-run.ts';
import { loadDetectImages } from './data.ts';
import { DetectDetector, type DetectModelConfig } from './detector.ts';
import { calibrateDetections, collectDetections, detectionMetrics } from './evaluate.ts';
import { detectInputGeometry } from './input-geometry.ts';
import { chooseNmsIou, type JudgedDecoding, NMS_IOU_CANDIDATES } from './nms-choice.ts';
import { buildDetectInferenceModel, initialHeadTensors } from './network.ts';
import { detectTask, type DetectTrainingConfig } from './trainer.ts';

export const DEFAULT_DETECT_TRAINING: Omit<DetectTrainingConfig, 'classes' | 'inputWidth' | 'inputHeight' | 'scale' | 'stepsPerEpoch'> = {
  towerDepth: 4,
  towerChannels: 128,
  towerNorm: 'group',
  ...FINE_TUNE_DEFAULTS.detect,
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
export async function trainDetect(input: ModeTrainingInput, ctx: JobContext): Promise<TrainedModel> {
  const plan = planFineTune(input, 'detect', { validationNeedsDefects: true });
  const { classes, trainSamples, validationSamples } = plan;
  const parent = input.parent;
  const resumed = input.run?.resumedTraining;
  const blobs = input.data.blobs;
  const total = trainSamples.length + validationSamples.length;
  ctx.progress('reading labels', 0, total);
  const train = await loadDetectImages(blobs, trainSamples, classes.length, (d) => ctx.progress('reading labels', d, total));
  const validation = await loadDetectImages(blobs, validationSamples, classes.length, (d) => ctx.progress('reading labels', trainSamples.length + d, total));

  let config: DetectTrainingConfig;
  if (resumed) {
    config = resumed as unknown as DetectTrainingConfig;
  } else {
    const requested = input.config as Partial<DetectTrainingConfig>;
    const parentConfig = parent ? (parent.model.config as unknown as DetectModelConfig) : undefined;
    // A requested input size is filled by the images, as segment mode fits them; else the data decide.
    const geometry = parentConfig ?? (requested.inputWidth && requested.inputHeight
      ? { inputWidth: requested.inputWidth, inputHeight: requested.inputHeight, scale: quantile(trainSamples.map((s) => Math.min(requested.inputWidth! / s.width, requested.inputHeight! / s.height)), 0.5) }
      : detectInputGeometry(trainSamples, train.flatMap((i) => i.boxes)));
    config = completeSchedule({
      ...DEFAULT_DETECT_TRAINING,
      ...(parentConfig ? { towerDepth: parentConfig.towerDepth, towerChannels: parentConfig.towerChannels, towerNorm: parentConfig.towerNorm, frozenStages: parentConfig.frozenStages } : {}),
      classes, inputWidth: geometry.inputWidth, inputHeight: geometry.inputHeight, stepsPerEpoch: 0, ...requested, scale: geometry.scale,
    } as DetectTrainingConfig, trainSamples.length, requested);
  }
  const initial: Map<string, Float32Tensor> = parent ? parentTensors(parent) : initialHeadTensors(config, config.seed);

  return runFineTune(input, plan, ctx, config, train.length, () => detectTask(blobs, input.backbone, (n) => initial.get(n), config, train, validation), async (outcome) => {
    const network = buildDetectInferenceModel(input.backbone, (n) => outcome.best.get(n) ?? initial.get(n), config);
    const base: DetectModelConfig = {
      classes, inputWidth: config.inputWidth, inputHeight: config.inputHeight, frozenStages: config.frozenStages,
      towerDepth: config.towerDepth, towerChannels: config.towerChannels, towerNorm: config.towerNorm, scale: config.scale,
    };
    const judged: JudgedDecoding[] = [];
    for (const [k, nmsIou] of NMS_IOU_CANDIDATES.entries()) {
      const modelConfig = { ...base, nmsIou };
      const detector = await DetectDetector.create(network, modelConfig, outcome.provider.active ?? 'cpu');
      const total = NMS_IOU_CANDIDATES.length * validationSamples.length;
      const record = await collectDetections(blobs, detector, classes, validationSamples, (d) => ctx.progress('calibrating', k * validationSamples.length + d, total), ctx.signal)
        .finally(() => detector.release());
      const thresholds = calibrateDetections(record, classes, config.falseRejectRate);
      judged.push({ modelConfig, thresholds, validation: detectionMetrics(record, classes, thresholds) });
    }
    const chosen = chooseNmsIou(judged);
    return { network, modelConfig: { ...chosen.modelConfig, nmsIouReason: chosen.reason }, thresholds: chosen.thresholds, validation: chosen.validation };
  });
}

/** Loads a stored detection model version for inspection. */
export async function loadDetectDetector(model: ModelVersion, files: Map<string, Uint8Array>, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<DetectDetector> {
  const { network, key } = fineTunedNetwork(model, files);
  return DetectDetector.create(network, model.config as unknown as DetectModelConfig, provider, { cache: sessions, key });
}

import type * as ort from 'onnxruntime-node';
import type {
  DatasetSummary, DefectClass, ExecutionProviderChoice, GroupThresholds, GuardMetrics, ModelThresholds, ModelVersionSummary as ModelVersion, Split,
  TrainingProgressInfo, TrainModelInput,
} from '../contract/contract.ts';
import type { DatasetSample } from '../contract/dataset-sample.ts';
import { ArgusError } from '../contract/errors.ts';
import type { ImageAnalyser } from '../analysis/analysis.ts';
import type { RgbImage } from '../images/preprocess.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import type { BackboneWeights } from '../model/resnet50.ts';
import type { SessionCache } from '../runtime/sessions.ts';

/** Stored images and masks, read by content digest (the application's blob store). */
export interface BlobReader {
  get(sha256: string): Promise<Buffer>;
}

/** The dataset a mode learns from, as the application hands it over: its samples by split, its project's classes, and its blobs. */
export interface TrainingData {
  dataset: DatasetSummary;
  /** The project's defect classes, in index order. */
  classes: DefectClass[];
  samples(split: Split): DatasetSample[];
  blobs: BlobReader;
}

/** A recorded fine-tuning run the mode trains in: where its checkpoints are, and the schedule of a run being resumed. */
export interface TrainingRunLedger {
  checkpointDir: string;
  /** The schedule the interrupted run was training with (resume only). */
  resumedTraining?: Record<string, unknown>;
  /** Records the schedule before the first step, so an interrupted run resumes with it. */
  recordSchedule(training: Record<string, unknown>): void;
  /** After each validation: the share of the run done. */
  progress(fraction: number): void;
}

/** What every mode's training takes; the application fills it in from storage and stores the result. */
export interface ModeTrainingInput {
  data: TrainingData;
  backbone: BackboneWeights;
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  /** Fine-tuned modes: the version to continue from, with its (verified) files. */
  parent?: { model: ModelVersion; files: Map<string, Uint8Array> };
  /** Fine-tuned modes: the recorded run. */
  run?: TrainingRunLedger;
  /** The mode's own training options (from `trainingConfig`). */
  config: Record<string, unknown>;
  onProgress?: (p: TrainingProgressInfo) => void;
}

/** A trained model version before it is registered: the application stores its files and records it. */
export interface TrainedModel {
  classes: string[];
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  thresholds: ModelThresholds;
  files: { role: string; bytes: Uint8Array }[];
}

/**
 * A model mode: how it trains, loads for inspection, evaluates, and is optimised. The service,
 * the CLI, the optimiser and the training worker look modes up in the registry instead of
 * branching on the mode's name.
 */
export interface ModelModeDefinition {
  readonly mode: TrainModelInput['mode'];
  /** Fine-tuned modes train in a worker thread with per-epoch checkpoints, and can resume and continue from a parent. */
  readonly fineTuned: boolean;
  /** The training options of an API request this mode uses, in its config's names. */
  trainingConfig(input: TrainModelInput): Record<string, unknown>;
  train(input: ModeTrainingInput, ctx: JobContext): Promise<TrainedModel>;
  /** A model version ready to inspect, from its files (verified by the caller). */
  loadDetector(model: ModelVersion, files: Map<string, Uint8Array>, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<ImageAnalyser>;
  evaluate(blobs: BlobReader, detector: ImageAnalyser, model: ModelVersion, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal): Promise<object>;
  /** What an int8/fp16 copy must keep: measured on validation by the accuracy guard. */
  guardMetrics(blobs: BlobReader, detector: ImageAnalyser, model: ModelVersion, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal): Promise<GuardMetrics>;
  /**
   * Station adaptation, for modes that can learn a station's good frames without retraining:
   * the model files that change (by role) and the group's thresholds. The caller registers the child.
   */
  adapt?(model: ModelVersion, files: Map<string, Uint8Array>, frames: AdaptationFrames): Promise<ModelAdaptation>;
  optimisation: {
    /** The model file that carries the network. */
    role: string;
    /** An image as that network receives it (for int8 calibration). */
    networkInput(model: ModelVersion, image: RgbImage): Promise<ort.Tensor>;
    /** Whether an optimised copy's thresholds are calibrated again (raw distances move with precision; probabilities do not). */
    recalibrate: boolean;
  };
}

export interface AdaptationFrames {
  count: number;
  load(index: number): Promise<RgbImage>;
  falseRejectRate?: number;
  provider: ExecutionProviderChoice;
  onProgress?: (stage: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ModelAdaptation {
  files: Map<string, Uint8Array>;
  /** What changes in the child's config. */
  config: Record<string, unknown>;
  thresholds: GroupThresholds;
  /** Entries of the child's memory banks (every pyramid level), and how many came from the group's frames. */
  bankSize: number;
  fromGroup: number;
}

/** One of a model version's files by role; a version without it is refused with a clear error. */
export function modelFile(model: Pick<ModelVersion, 'id'>, files: Map<string, Uint8Array>, role: string): Uint8Array {
  const bytes = files.get(role);
  if (!bytes) throw new ArgusError('bad_input', `Model ${model.id} lacks its ${role} file`, { key: 'modelFileMissing', params: { id: model.id } });
  return bytes;
}

/** Keeps only the options a request set. */
export function definedOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** Fine-tuning options every supervised mode takes from an API request. */
export function fineTuneOptions(input: TrainModelInput): Record<string, unknown> {
  return definedOptions({
    inputWidth: input.inputSize?.[0], inputHeight: input.inputSize?.[1], epochs: input.epochs, batchSize: input.batchSize,
    learningRate: input.learningRate, frozenStages: input.frozenStages, stepsPerEpoch: input.stepsPerEpoch, optimizer: input.optimizer,
    falseRejectRate: input.falseRejectRate,
  });
}

import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, GroupThresholds, GuardMetrics, TrainingProgressInfo, TrainModelInput } from '../contract/contract.ts';
import type { ImageAnalyser } from '../analysis/analysis.ts';
import type { RgbImage } from '../images/preprocess.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import type { BackboneWeights } from '../model/resnet50.ts';
import type { SessionCache } from '../runtime/sessions.ts';
import type { DatasetSample } from '../store/datasets.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';

/** What every mode's training takes (the worker or the service fills in the backbone). */
export interface ModeTrainingInput {
  datasetId: number;
  backbone: BackboneWeights;
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  parentModelId?: number;
  resumeRunId?: number;
  /** The mode's own training options (from `trainingConfig`). */
  config: Record<string, unknown>;
  name?: string;
  actor: string;
  onProgress?: (p: TrainingProgressInfo) => void;
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
  train(store: Store, input: ModeTrainingInput, ctx: JobContext): Promise<{ model: ModelVersion; runId?: number; seconds: number }>;
  loadDetector(store: Store, model: ModelVersion, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<ImageAnalyser>;
  evaluate(store: Store, detector: ImageAnalyser, model: ModelVersion, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal): Promise<object>;
  /** What an int8/fp16 copy must keep: measured on validation by the accuracy guard. */
  guardMetrics(store: Store, detector: ImageAnalyser, model: ModelVersion, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal): Promise<GuardMetrics>;
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
  /** Entries of the child's memory bank, and how many came from the group's frames. */
  bankSize: number;
  fromGroup: number;
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
  });
}

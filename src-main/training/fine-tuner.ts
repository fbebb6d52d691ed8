import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport, TrainingProgressInfo, TrainingValidation } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { seededRandom } from '../model/init.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../model/safetensors.ts';
import { createSession } from '../runtime/sessions.ts';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { GRAD, Optimizer, type OptimizerKind, type TrainedTensor } from './optimizers.ts';

/** The schedule every fine-tuned mode shares. */
export interface FineTuneSchedule {
  batchSize: number;
  epochs: number;
  stepsPerEpoch: number;
  learningRate: number;
  warmupSteps: number;
  optimizer: OptimizerKind;
  weightDecay: number;
  /** Stop when the validation loss has not improved for this many epochs. */
  patience: number;
  seed: number;
  clipNorm: number;
  inputWidth: number;
  inputHeight: number;
  /**
   * Calibration after training: the NG threshold rejects at most this share of the good val
   * images (the miss rate it costs is in the validation metrics); unset, it is F1-optimal
   * (detect: the class thresholds, raised to reject at most 0.5 % of good images).
   */
  falseRejectRate?: number;
}

export interface TrainingGraphs {
  /** Forward and backward: frozen features + targets + parameters in; the loss (and its parts) and each parameter's gradient (`<name>.grad`) out. */
  step: Uint8Array;
  /** Forward + loss without update, for validation: loss and the mode's outputs. */
  evaluate: Uint8Array;
  /** Trained tensors in graph-input order, with their initial values. */
  parameters: TrainedTensor[];
}

/** A batch as the graphs take it: uint8 pixels [batch, h, w, 3] and the mode's target tensors. */
export interface FineTuneBatch {
  pixels: Uint8Array;
  targets: Record<string, ort.Tensor>;
}

/** Collects a mode's validation measures over the validation batches of one epoch. */
export interface ValidationAccumulator {
  /** `valid`: how many leading images of the batch are real (the last batch repeats its last image). */
  add(batch: FineTuneBatch, outputs: ort.InferenceSession.OnnxValueMapType, valid: number): void;
  result(loss: number): TrainingValidation;
}

/** What a mode gives the fine-tuner: its graphs, the frozen part, batches and validation measures. */
export interface FineTuneTask {
  graphs: TrainingGraphs;
  /** Stem and frozen stages as an inference graph (input "image"), and the outputs the step graph takes. */
  frozenModel: Uint8Array;
  frozenOutputs: string[];
  /** A batch source for training, seeded per epoch so that a resumed run draws what it would have. */
  trainingBatches(random: () => number): (size: number) => Promise<FineTuneBatch>;
  validationBatch(from: number, size: number): Promise<FineTuneBatch>;
  validationCount: number;
  validation(): ValidationAccumulator;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validation: TrainingValidation;
  seconds: number;
}

export interface TrainingOutcome {
  /** Weights of the epoch with the lowest validation loss. */
  best: Map<string, Float32Tensor>;
  bestEpoch: number;
  /** Validation before the first step: what training improved on. */
  initialValidation: TrainingValidation | null;
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  provider: ExecutionProviderReport;
  msPerStep: number;
}

interface CheckpointState {
  epoch: number;
  step: number;
  bestLoss: number;
  bestEpoch: number;
  initialValidation: TrainingValidation | null;
  epochs: EpochRecord[];
}

/** Learning rate at a step: linear warm-up, then cosine decay to zero. */
export function learningRateAt(step: number, config: Pick<FineTuneSchedule, 'learningRate' | 'warmupSteps'>, totalSteps: number): number {
  if (step < config.warmupSteps) return (config.learningRate * (step + 1)) / config.warmupSteps;
  const progress = (step - config.warmupSteps) / Math.max(1, totalSteps - config.warmupSteps);
  return config.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/**
 * Fine-tunes the unfrozen part of a network for any mode. Each step: a batch from the mode's
 * augmenting batcher, the frozen stages as an inference session, the step graph (forward, loss,
 * gradients) in one onnxruntime run, then the optimizer's update of the parameters in place (the
 * step graph reads them from the same buffers). A checkpoint (parameters, optimizer state,
 * history) is written atomically after every epoch; when one exists, training continues from it.
 */
export class FineTuner {
  constructor(private readonly task: FineTuneTask, private readonly config: FineTuneSchedule, private readonly checkpointDir: string) {}

  get checkpointPath(): string {
    return `${this.checkpointDir}/checkpoint.safetensors`;
  }

  get bestPath(): string {
    return `${this.checkpointDir}/best.safetensors`;
  }

  async train(provider: ExecutionProviderChoice, signal: AbortSignal, onProgress: (p: TrainingProgressInfo) => void): Promise<TrainingOutcome> {
    const { config, task } = this;
    const { graphs } = task;
    const cancelled = (): void => {
      if (signal.aborted) throw new ArgusError('cancelled', 'Training cancelled', { key: 'cancelled' });
    };
    const totalSteps = config.epochs * config.stepsPerEpoch;
    onProgress({ phase: 'preparing', epoch: 0, epochs: config.epochs, step: 0, totalSteps, loss: null, learningRate: 0, etaSeconds: null });
    const frozen = await createSession({ model: task.frozenModel, provider, spinning: true });
    const active = frozen.report.active ?? 'cpu';
    const [step, evaluate] = await Promise.all([
      createSession({ model: graphs.step, provider: active, spinning: true }),
      createSession({ model: graphs.evaluate, provider: active, spinning: true }),
    ]);
    try {
      // The trained tensors, copied (the graphs' initial values stay as they were) and updated in place.
      const trained: TrainedTensor[] = graphs.parameters.map((p) => ({ name: p.name, data: p.data.slice(), dims: p.dims }));
      const optimizer = new Optimizer({ kind: config.optimizer, weightDecay: config.weightDecay, clipNorm: config.clipNorm }, trained);
      const params = new Map(trained.map((p) => [p.name, new ort.Tensor('float32', p.data, p.dims)]));
      // What a checkpoint holds: each parameter and its optimizer state.
      const values = new Map<string, TrainedTensor>();
      for (const p of trained) {
        values.set(p.name, p);
        for (const s of optimizer.stateNames) values.set(`${p.name}.${s}`, { name: `${p.name}.${s}`, data: optimizer.state.get(`${p.name}.${s}`)!, dims: p.dims });
      }
      let state: CheckpointState = { epoch: 0, step: 0, bestLoss: Infinity, bestEpoch: -1, initialValidation: null, epochs: [] };
      if (existsSync(this.checkpointPath)) state = this.restore(values);
      // Every event carries the finished epochs' losses, for the loss chart.
      const emit = (p: TrainingProgressInfo): void =>
        onProgress({ ...p, history: state.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, validationLoss: e.validation.loss })) });

      const nextBatch = task.trainingBatches(seededRandom(config.seed + state.epoch));
      const features = async (batch: FineTuneBatch): Promise<Record<string, ort.Tensor>> => {
        const out = await frozen.session.run({ image: new ort.Tensor('uint8', batch.pixels, [config.batchSize, config.inputHeight, config.inputWidth, 3]) });
        return Object.fromEntries(task.frozenOutputs.map((k) => [k, out[k]]));
      };
      const validate = async (): Promise<TrainingValidation> => {
        const accumulator = task.validation();
        let lossSum = 0;
        let batches = 0;
        for (let from = 0; from < task.validationCount; from += config.batchSize) {
          cancelled();
          const batch = await task.validationBatch(from, config.batchSize);
          const out = await evaluate.session.run({ ...(await features(batch)), ...batch.targets, ...Object.fromEntries(params) });
          lossSum += (out.loss.data as Float32Array)[0];
          batches++;
          accumulator.add(batch, out, Math.min(config.batchSize, task.validationCount - from));
        }
        return accumulator.result(batches ? lossSum / batches : NaN);
      };

      if (state.epoch === 0 && !state.initialValidation) {
        emit({ phase: 'validating', epoch: 0, epochs: config.epochs, step: 0, totalSteps, loss: null, learningRate: 0, etaSeconds: null });
        state.initialValidation = await validate();
      }
      let stepMs = 0;
      let stepsTimed = 0;
      let stoppedEarly = false;
      const started = performance.now();
      const startStep = state.step;
      for (let epoch = state.epoch; epoch < config.epochs; epoch++) {
        const epochStarted = performance.now();
        let lossSum = 0;
        for (let k = 0; k < config.stepsPerEpoch; k++) {
          cancelled();
          const batch = await nextBatch(config.batchSize);
          cancelled();
          const t0 = performance.now();
          const inputs = await features(batch);
          cancelled();
          const lr = learningRateAt(state.step, config, totalSteps);
          const t = state.step + 1;
          const out = await step.session.run({ ...inputs, ...batch.targets, ...Object.fromEntries(params) });
          const loss = (out.loss.data as Float32Array)[0];
          if (!Number.isFinite(loss)) throw new ArgusError('internal', `Training diverged at step ${t} (loss ${loss}); lower the learning rate`, { key: 'trainingDiverged', params: { step: t } });
          optimizer.step((name) => out[`${name}${GRAD}`].data as Float32Array, lr, t);
          stepMs += performance.now() - t0;
          stepsTimed++;
          lossSum += loss;
          state.step++;
          const perStep = (performance.now() - started) / (state.step - startStep);
          emit({
            phase: 'training', epoch: epoch + 1, epochs: config.epochs, step: state.step, totalSteps, loss, learningRate: lr,
            etaSeconds: ((totalSteps - state.step) * perStep) / 1000, lossParts: lossParts(out),
          });
        }
        const trainLoss = lossSum / config.stepsPerEpoch;
        const progress = { epoch: epoch + 1, epochs: config.epochs, step: state.step, totalSteps, loss: trainLoss, learningRate: learningRateAt(state.step, config, totalSteps), etaSeconds: null };
        emit({ phase: 'validating', ...progress });
        const result = await validate();
        state.epochs.push({ epoch: epoch + 1, trainLoss, validation: result, seconds: (performance.now() - epochStarted) / 1000 });
        state.epoch = epoch + 1;
        if (result.loss < state.bestLoss) {
          state.bestLoss = result.loss;
          state.bestEpoch = epoch + 1;
          await writeFileAtomic(this.bestPath, encodeSafetensors(toTensors(trained)));
        }
        await this.save([...values.values()], state);
        emit({ phase: 'validating', ...progress, validation: result });
        if (epoch + 1 - state.bestEpoch >= config.patience && epoch + 1 < config.epochs) {
          stoppedEarly = true;
          break;
        }
      }
      const best = SafetensorsFile.read(this.bestPath);
      return {
        best: new Map(graphs.parameters.map((p) => [p.name, best.float32(p.name)])),
        bestEpoch: state.bestEpoch, initialValidation: state.initialValidation, epochs: state.epochs, stoppedEarly, provider: frozen.report,
        msPerStep: stepsTimed ? stepMs / stepsTimed : 0,
      };
    } finally {
      await Promise.all([frozen.session.release(), step.session.release(), evaluate.session.release()]);
    }
  }

  private async save(values: TrainedTensor[], state: CheckpointState): Promise<void> {
    await writeFileAtomic(this.checkpointPath, encodeSafetensors(toTensors(values), { 'argus.training': JSON.stringify(state) }));
  }

  /** Parameters and optimizer state from the checkpoint, copied into their buffers; returns where training stood. */
  private restore(values: Map<string, TrainedTensor>): CheckpointState {
    const file = SafetensorsFile.read(this.checkpointPath);
    const stateText = file.metadata['argus.training'];
    if (!stateText) throw new ArgusError('bad_input', `${this.checkpointPath} is not an Argus training checkpoint`, { key: 'badCheckpoint', params: { path: this.checkpointPath } });
    for (const [name, tensor] of values) {
      if (!file.has(name)) throw new ArgusError('bad_input', `Checkpoint ${this.checkpointPath} lacks ${name}; it belongs to a different network`, { key: 'badCheckpoint', params: { path: this.checkpointPath } });
      const t = file.float32(name);
      if (t.dims.join(',') !== tensor.dims.join(',')) throw new ArgusError('bad_input', `Checkpoint tensor ${name} is [${t.dims}], the network needs [${tensor.dims}]`, { key: 'badCheckpoint', params: { path: this.checkpointPath } });
      tensor.data.set(t.data);
    }
    return JSON.parse(stateText) as CheckpointState;
  }
}

/** The step's named loss terms (outputs "loss_<part>"), for the live loss split. */
function lossParts(out: ort.InferenceSession.OnnxValueMapType): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const [name, value] of Object.entries(out)) if (name.startsWith('loss_')) parts[name.slice(5)] = (value.data as Float32Array)[0];
  return parts;
}

function toTensors(values: TrainedTensor[]): Map<string, Float32Tensor> {
  return new Map(values.map((t) => [t.name, { data: t.data, dims: t.dims }]));
}

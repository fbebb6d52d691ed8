import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport, TrainingProgressInfo, TrainingValidation } from '../api/contract.ts';
import { ArgusError } from '../api/errors.ts';
import { seededRandom } from '../model/init.ts';
import type { BackboneWeights } from '../model/resnet50.ts';
import { encodeSafetensors, type Float32Tensor, SafetensorsFile } from '../model/safetensors.ts';
import { createSession } from '../runtime/sessions.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { Store } from '../store/store.ts';
import { NEXT, type OptimizerKind } from '../training/optimizers.ts';
import { type Batch, LOGIT_STRIDE, SegmentBatcher, type TrainingImage } from './data.ts';
import { buildFrozenFeatureModel, buildTrainingGraphs, frozenOutputs, type SegmentNetworkConfig } from './network.ts';

export interface SegmentTrainingConfig extends SegmentNetworkConfig {
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
  /** Image → network scale (the training images' median fit to the input size). */
  scale: number;
  /** Loss weight per class, background first. */
  classWeights: number[];
  clipNorm: number;
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
export function learningRateAt(step: number, config: Pick<SegmentTrainingConfig, 'learningRate' | 'warmupSteps'>, totalSteps: number): number {
  if (step < config.warmupSteps) return (config.learningRate * (step + 1)) / config.warmupSteps;
  const progress = (step - config.warmupSteps) / Math.max(1, totalSteps - config.warmupSteps);
  return config.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/**
 * Fine-tunes the unfrozen part of ResNet-50 + FPN + segmentation head. Each step: a batch from the
 * augmenting batcher, the frozen stages as an inference session, then the step graph (forward,
 * loss, gradients, update) in one onnxruntime run. Parameters and optimizer state stay as
 * onnxruntime tensors between steps. A checkpoint (parameters, optimizer state, history) is
 * written atomically after every epoch; with `resume`, training continues from it.
 */
export class SegmentTrainer {
  constructor(
    private readonly store: Store,
    private readonly backbone: BackboneWeights,
    private readonly initial: (name: string) => Float32Tensor | undefined,
    private readonly config: SegmentTrainingConfig,
    private readonly checkpointDir: string,
  ) {}

  get checkpointPath(): string {
    return `${this.checkpointDir}/checkpoint.safetensors`;
  }

  get bestPath(): string {
    return `${this.checkpointDir}/best.safetensors`;
  }

  async train(train: TrainingImage[], validation: TrainingImage[], provider: ExecutionProviderChoice, signal: AbortSignal, onProgress: (p: TrainingProgressInfo) => void): Promise<TrainingOutcome> {
    const config = this.config;
    const cancelled = (): void => {
      if (signal.aborted) throw new ArgusError('cancelled', 'Training cancelled');
    };
    const totalSteps = config.epochs * config.stepsPerEpoch;
    onProgress({ phase: 'preparing', epoch: 0, epochs: config.epochs, step: 0, totalSteps, loss: null, learningRate: 0, etaSeconds: null });
    const graphs = buildTrainingGraphs(this.backbone, this.initial, config, config.batchSize, config.classWeights, {
      kind: config.optimizer, weightDecay: config.weightDecay, clipNorm: config.clipNorm,
    });
    const frozen = await createSession({ model: buildFrozenFeatureModel(this.backbone, config), provider });
    const active = frozen.report.active ?? 'cpu';
    const [step, evaluate] = await Promise.all([
      createSession({ model: graphs.step, provider: active }),
      createSession({ model: graphs.evaluate, provider: active }),
    ]);
    try {
      const params = new Map<string, ort.Tensor>();
      const states = new Map<string, ort.Tensor>();
      for (const p of graphs.parameters) {
        params.set(p.name, new ort.Tensor('float32', p.data, p.dims));
        for (const s of graphs.optimizer.stateNames) states.set(`${p.name}.${s}`, new ort.Tensor('float32', new Float32Array(p.data.length), p.dims));
      }
      let state: CheckpointState = { epoch: 0, step: 0, bestLoss: Infinity, bestEpoch: -1, initialValidation: null, epochs: [] };
      if (existsSync(this.checkpointPath)) state = this.restore(params, states);
      // Every event carries the finished epochs' losses, for the loss chart.
      const emit = (p: TrainingProgressInfo): void =>
        onProgress({ ...p, history: state.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, validationLoss: e.validation.loss })) });

      const trainBatches = new SegmentBatcher(this.store, train, this.geometry(), seededRandom(config.seed + state.epoch));
      const validationBatches = new SegmentBatcher(this.store, validation, this.geometry(), seededRandom(config.seed));
      const features = async (batch: Batch): Promise<Record<string, ort.Tensor>> => {
        const out = await frozen.session.run({ image: new ort.Tensor('uint8', batch.pixels, [config.batchSize, config.inputHeight, config.inputWidth, 3]) });
        return Object.fromEntries(frozenOutputs(config).map((k) => [k, out[k]]));
      };
      const targetTensor = (batch: Batch): ort.Tensor =>
        new ort.Tensor('float32', batch.target, [config.batchSize, config.classes.length + 1, config.inputHeight / LOGIT_STRIDE, config.inputWidth / LOGIT_STRIDE]);

      if (state.epoch === 0 && !state.initialValidation) {
        emit({ phase: 'validating', epoch: 0, epochs: config.epochs, step: 0, totalSteps, loss: null, learningRate: 0, etaSeconds: null });
        state.initialValidation = await this.validate(evaluate.session, validationBatches, validation.length, features, targetTensor, params, cancelled);
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
          const batch = await trainBatches.trainingBatch(config.batchSize);
          cancelled();
          const t0 = performance.now();
          const inputs = await features(batch);
          cancelled();
          const lr = learningRateAt(state.step, config, totalSteps);
          const t = state.step + 1;
          const scalars: Record<string, ort.Tensor> = { lr: scalar(lr) };
          if (config.optimizer === 'adamw') {
            scalars.bias_correction1 = scalar(1 / (1 - 0.9 ** t));
            scalars.bias_correction2 = scalar(1 / (1 - 0.999 ** t));
          }
          const out = await step.session.run({ ...inputs, target: targetTensor(batch), ...Object.fromEntries(params), ...Object.fromEntries(states), ...scalars });
          for (const name of params.keys()) params.set(name, out[`${name}${NEXT}`]);
          for (const name of states.keys()) states.set(name, out[`${name}${NEXT}`]);
          const loss = (out.loss.data as Float32Array)[0];
          if (!Number.isFinite(loss)) throw new ArgusError('internal', `Training diverged at step ${t} (loss ${loss}); lower the learning rate`);
          stepMs += performance.now() - t0;
          stepsTimed++;
          lossSum += loss;
          state.step++;
          const perStep = (performance.now() - started) / (state.step - startStep);
          emit({
            phase: 'training', epoch: epoch + 1, epochs: config.epochs, step: state.step, totalSteps, loss, learningRate: lr,
            etaSeconds: ((totalSteps - state.step) * perStep) / 1000,
          });
        }
        emit({ phase: 'validating', epoch: epoch + 1, epochs: config.epochs, step: state.step, totalSteps, loss: lossSum / config.stepsPerEpoch, learningRate: learningRateAt(state.step, config, totalSteps), etaSeconds: null });
        const result = await this.validate(evaluate.session, validationBatches, validation.length, features, targetTensor, params, cancelled);
        state.epochs.push({ epoch: epoch + 1, trainLoss: lossSum / config.stepsPerEpoch, validation: result, seconds: (performance.now() - epochStarted) / 1000 });
        state.epoch = epoch + 1;
        if (result.loss < state.bestLoss) {
          state.bestLoss = result.loss;
          state.bestEpoch = epoch + 1;
          await writeFileAtomic(this.bestPath, encodeSafetensors(toTensors(params)));
        }
        await this.save(params, states, state);
        emit({ phase: 'validating', epoch: epoch + 1, epochs: config.epochs, step: state.step, totalSteps, loss: lossSum / config.stepsPerEpoch, learningRate: learningRateAt(state.step, config, totalSteps), etaSeconds: null, validation: result });
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

  private geometry() {
    return { inputWidth: this.config.inputWidth, inputHeight: this.config.inputHeight, numClasses: this.config.classes.length, scale: this.config.scale };
  }

  private async validate(
    session: ort.InferenceSession, batches: SegmentBatcher, count: number,
    features: (b: Batch) => Promise<Record<string, ort.Tensor>>, targetTensor: (b: Batch) => ort.Tensor,
    params: Map<string, ort.Tensor>, cancelled: () => void,
  ): Promise<TrainingValidation> {
    const { batchSize, classes } = this.config;
    const planes = classes.length + 1;
    const intersection = new Float64Array(planes);
    const union = new Float64Array(planes);
    let lossSum = 0;
    let batchesRun = 0;
    for (let from = 0; from < count; from += batchSize) {
      cancelled();
      const batch = await batches.validationBatch(from, batchSize);
      const out = await session.run({ ...(await features(batch)), target: targetTensor(batch), ...Object.fromEntries(params) });
      lossSum += (out.loss.data as Float32Array)[0];
      batchesRun++;
      const logits = out.seg_logits.data as Float32Array;
      const plane = logits.length / (batchSize * planes);
      for (let b = 0; b < Math.min(batchSize, count - from); b++) {
        for (let p = 0; p < plane; p++) {
          let predicted = 0;
          let truth = 0;
          for (let c = 0; c < planes; c++) {
            const i = (b * planes + c) * plane + p;
            if (logits[i] > logits[(b * planes + predicted) * plane + p]) predicted = c;
            if (batch.target[i] === 1) truth = c;
          }
          for (let c = 1; c < planes; c++) {
            if (predicted === c && truth === c) intersection[c]++;
            if (predicted === c || truth === c) union[c]++;
          }
        }
      }
    }
    const iou: Record<string, number> = {};
    classes.forEach((name, i) => (iou[name] = union[i + 1] ? intersection[i + 1] / union[i + 1] : 0));
    return { loss: batchesRun ? lossSum / batchesRun : NaN, iou };
  }

  private async save(params: Map<string, ort.Tensor>, states: Map<string, ort.Tensor>, state: CheckpointState): Promise<void> {
    const tensors = new Map([...toTensors(params), ...toTensors(states)]);
    await writeFileAtomic(this.checkpointPath, encodeSafetensors(tensors, { 'argus.training': JSON.stringify(state) }));
  }

  private restore(params: Map<string, ort.Tensor>, states: Map<string, ort.Tensor>): CheckpointState {
    const file = SafetensorsFile.read(this.checkpointPath);
    const stateText = file.metadata['argus.training'];
    if (!stateText) throw new ArgusError('bad_input', `${this.checkpointPath} is not an Argus training checkpoint`);
    for (const map of [params, states]) {
      for (const [name, tensor] of map) {
        if (!file.has(name)) throw new ArgusError('bad_input', `Checkpoint ${this.checkpointPath} lacks ${name}; it belongs to a different network`);
        const t = file.float32(name);
        if (t.dims.join(',') !== tensor.dims.join(',')) throw new ArgusError('bad_input', `Checkpoint tensor ${name} is [${t.dims}], the network needs [${tensor.dims}]`);
        map.set(name, new ort.Tensor('float32', t.data, tensor.dims));
      }
    }
    return JSON.parse(stateText) as CheckpointState;
  }
}

const scalar = (value: number): ort.Tensor => new ort.Tensor('float32', Float32Array.of(value), []);

function toTensors(values: Map<string, ort.Tensor>): Map<string, Float32Tensor> {
  return new Map([...values].map(([name, t]) => [name, { data: t.data as Float32Array, dims: t.dims as number[] }]));
}

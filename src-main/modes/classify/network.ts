import { seededRandom } from '../../model/init.ts';
import type { Head } from '../../model/heads.ts';
import { stageOutputsHead } from '../../model/heads.ts';
import { buildNetwork } from '../../model/network.ts';
import { GraphBuilder, type Value } from '../../model/onnx-graph.ts';
import { type BackboneStages, type BackboneWeights, buildResNetStage, RESNET50_STAGES, type TensorLookup, STAGE_CHANNELS, STAGE_KEYS, STAGE_STRIDES } from '../../model/resnet50.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import { addGradients } from '../../training/autodiff.ts';
import type { TrainingGraphs } from '../../training/fine-tuner.ts';
import { outputGradients } from '../../training/optimizers.ts';

/** What fixes the shape of the classifier and which part of it learns. */
export interface ClassifyNetworkConfig {
  /** Output classes in logit order: "good" first when the project's images include good ones, then the defect classes. */
  classes: string[];
  inputWidth: number;
  inputHeight: number;
  /** ResNet stages kept frozen after the stem: 3 trains layer4 and the classifier only. */
  frozenStages: 1 | 2 | 3;
  /**
   * Several defect classes per image: one sigmoid per class (binary cross-entropy) over the defect
   * classes only, a good image being the one with none; otherwise one softmax over all classes.
   */
  multiLabel?: boolean;
}

/** The step graph's target inputs: one for softmax cross-entropy, two (positive and negative terms) for the multi-label loss. */
export const targetNames = (config: Pick<ClassifyNetworkConfig, 'multiLabel'>): string[] => (config.multiLabel ? ['target', 'target_negative'] : ['target']);

const C5_CHANNELS = 2048;

/** The frozen part's output the step graph takes: the last frozen stage. */
export const frozenOutputs = (config: ClassifyNetworkConfig): (typeof STAGE_KEYS)[number][] => [STAGE_KEYS[config.frozenStages - 1]];

export function buildFrozenFeatureModel(backbone: BackboneWeights, config: ClassifyNetworkConfig): Uint8Array {
  return buildNetwork({ name: 'argus-classify-frozen', backbone, input: 'pixels', heads: [stageOutputsHead(frozenOutputs(config))], stages: config.frozenStages as 2 | 3 });
}

export function isTrainedTensor(config: ClassifyNetworkConfig, name: string): boolean {
  if (!name.endsWith('.weight') && !name.endsWith('.bias')) return false;
  if (name.startsWith('cls_head.')) return true;
  return RESNET50_STAGES.slice(config.frozenStages).some((s) => name.startsWith(`${s.name}.`));
}

/** A fresh classifier: small random weights (as torchvision's fc init) and zero biases. */
export function initialHeadTensors(config: ClassifyNetworkConfig, seed: number): Map<string, Float32Tensor> {
  const random = seededRandom(seed);
  const bound = 1 / Math.sqrt(C5_CHANNELS);
  const k = config.classes.length;
  return new Map([
    ['cls_head.weight', { dims: [k, C5_CHANNELS, 1, 1], data: Float32Array.from({ length: k * C5_CHANNELS }, () => (random() * 2 - 1) * bound) }],
    ['cls_head.bias', { dims: [k], data: new Float32Array(k) }],
  ]);
}

/**
 * Class maps and logits from C5: the classifier as a 1×1 convolution gives one map per class
 * (the class activation map), and their spatial means are the logits, the same as global average
 * pooling followed by the linear layer.
 */
function classMapsAndLogits(g: GraphBuilder, c5: Value, tensors: TensorLookup): { maps: Value; logits: Value } {
  const param = (name: string): Value => {
    const t = tensors(name);
    if (!t) throw new Error(`classifier weights lack ${name}`);
    return g.initializer(name, t.data, t.dims);
  };
  const maps = g.conv('cls_head', c5, param('cls_head.weight'), param('cls_head.bias'));
  const [n, k] = maps.shape;
  const logits = g.node('ReduceMean', [maps], { axes: [2, 3], keepdims: 0 }, [n, k], 'cls_head.pool');
  return { maps, logits };
}

/** The classifier as a network head: outputs "logits" [N, K] and "class_maps" [N, K, h, w]. */
export function classifierHead(tensors: TensorLookup): Head {
  return {
    name: 'classifier',
    attach(g, { stages }) {
      if (!stages.c5) throw new Error('the classifier needs layer4');
      const { maps, logits } = classMapsAndLogits(g, stages.c5, tensors);
      g.output(logits, 'logits');
      g.output(maps, 'class_maps');
    },
  };
}

function buildForward(name: string, backbone: BackboneWeights, tensors: TensorLookup, config: ClassifyNetworkConfig, batch: number): { g: GraphBuilder; logits: Value; loss: Value } {
  const g = new GraphBuilder(name, { trainable: (n) => isTrainedTensor(config, n) });
  const frozen = config.frozenStages - 1;
  let h = g.input(STAGE_KEYS[frozen], 'float32', [batch, STAGE_CHANNELS[frozen], config.inputHeight / STAGE_STRIDES[frozen], config.inputWidth / STAGE_STRIDES[frozen]]);
  const stages = {} as BackboneStages;
  for (let s = config.frozenStages; s < 4; s++) {
    h = buildResNetStage(g, backbone, h, s, tensors);
    stages[STAGE_KEYS[s]] = h;
  }
  const { logits } = classMapsAndLogits(g, stages.c5!, tensors);
  const [target, negative] = targetNames(config).map((n) => g.input(n, 'float32', logits.shape));
  return { g, logits, loss: config.multiLabel ? binaryCrossEntropy(g, logits, target, negative) : crossEntropy(g, logits, target) };
}

/**
 * Cross-entropy against the batch's target rows: each row is the label-smoothed one-hot vector
 * already scaled by its class weight, so the loss is −Σ target·log softmax(logits) / batch.
 */
export function crossEntropy(g: GraphBuilder, logits: Value, target: Value): Value {
  const [n] = logits.shape as number[];
  const logp = g.node('LogSoftmax', [logits], { axis: 1 }, logits.shape, 'loss');
  const weighted = g.node('Mul', [target, logp], {}, logits.shape, 'loss');
  const total = g.node('ReduceSum', [weighted, g.constInts('loss.axes', [0, 1])], { keepdims: 0 }, [], 'loss');
  return g.node('Mul', [total, g.constFloats('loss.scale', [-1 / n], [])], {}, [], 'loss');
}

/**
 * Multi-label loss: Σ [positive·softplus(−x) + negative·softplus(x)] / batch, i.e. binary
 * cross-entropy with logits where the batcher's rows carry the smoothed labels t (times each
 * class's positive weight) and 1 − t.
 */
export function binaryCrossEntropy(g: GraphBuilder, logits: Value, positive: Value, negative: Value): Value {
  const [n] = logits.shape as number[];
  const shape = logits.shape;
  const present = g.node('Mul', [positive, g.node('Softplus', [g.node('Neg', [logits], {}, shape, 'loss')], {}, shape, 'loss')], {}, shape, 'loss');
  const absent = g.node('Mul', [negative, g.node('Softplus', [logits], {}, shape, 'loss')], {}, shape, 'loss');
  const total = g.node('ReduceSum', [g.node('Add', [present, absent], {}, shape, 'loss'), g.constInts('loss.axes', [0, 1])], { keepdims: 0 }, [], 'loss');
  return g.node('Mul', [total, g.constFloats('loss.scale', [1 / n], [])], {}, [], 'loss');
}

export function buildTrainingGraphs(backbone: BackboneWeights, tensors: TensorLookup, config: ClassifyNetworkConfig, batch: number): TrainingGraphs {
  const train = buildForward('argus-classify-step', backbone, tensors, config, batch);
  const { loss } = train;
  const params = train.g.parameters.map((p) => p.value);
  const grads = addGradients(train.g, loss, params);
  train.g.output(loss, 'loss');
  outputGradients(train.g, params, grads);

  const evaluation = buildForward('argus-classify-eval', backbone, tensors, config, batch);
  evaluation.g.output(evaluation.loss, 'loss');
  evaluation.g.output(evaluation.logits, 'logits');
  return {
    step: train.g.toBytes(),
    evaluate: evaluation.g.toBytes(),
    parameters: train.g.parameters.map((p) => ({ name: p.value.name, data: p.data, dims: p.value.shape as number[] })),
  };
}

/** The forward-only classifier for inspection (uint8 pixels in), trained weights fused in. */
export function buildClassifyInferenceModel(backbone: BackboneWeights, tensors: TensorLookup): Uint8Array {
  return buildNetwork({ name: 'argus-classify', backbone, input: 'pixels', extraTensors: tensors, heads: [classifierHead(tensors)] });
}

import { buildFpn, initFpnWeights } from '../../model/fpn.ts';
import { initSegmentationHead, segmentationHead, segmentationLogits } from '../../model/heads.ts';
import { buildNetwork } from '../../model/network.ts';
import { GraphBuilder, type Value } from '../../model/onnx-graph.ts';
import { type BackboneStages, type BackboneWeights, buildResNetStage, RESNET50_STAGES, type TensorLookup, STAGE_CHANNELS, STAGE_KEYS, STAGE_STRIDES } from '../../model/resnet50.ts';
import { stageOutputsHead } from '../../model/heads.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import { addGradients } from '../../training/autodiff.ts';
import { segmentationLoss } from '../../training/losses.ts';
import type { TrainingGraphs } from '../../training/fine-tuner.ts';
import { outputGradients } from '../../training/optimizers.ts';

/** What fixes the shape of the segmentation network and which part of it learns. */
export interface SegmentNetworkConfig {
  /** Defect class names; class i+1 in masks and logits, 0 is background. */
  classes: string[];
  /** Network input (training crops and inference), multiples of 32. */
  inputWidth: number;
  inputHeight: number;
  /** ResNet stages kept frozen after the stem: 2 freezes layer1–layer2 and trains layer3–layer4. */
  frozenStages: 1 | 2 | 3;
}


/** Frozen-part outputs the training graph takes as inputs: C2 (for the FPN) and the last frozen stage. */
export function frozenOutputs(config: SegmentNetworkConfig): (typeof STAGE_KEYS)[number][] {
  return config.frozenStages === 1 ? ['c2'] : ['c2', STAGE_KEYS[config.frozenStages - 1]];
}

/** Stem and frozen stages as an inference graph: uint8 pixels in, frozen features out. */
export function buildFrozenFeatureModel(backbone: BackboneWeights, config: SegmentNetworkConfig): Uint8Array {
  return buildNetwork({
    name: 'argus-segment-frozen', backbone, input: 'pixels',
    heads: [stageOutputsHead(frozenOutputs(config))], stages: config.frozenStages as 2 | 3,
  });
}

/** Trained tensor names: the unfrozen stages' (BatchNorm-folded) convs, the FPN and the head. */
export function isTrainedTensor(config: SegmentNetworkConfig, name: string): boolean {
  if (!name.endsWith('.weight') && !name.endsWith('.bias')) return false;
  if (name.startsWith('fpn.') || name.startsWith('seg_head.')) return true;
  return RESNET50_STAGES.slice(config.frozenStages).some((s) => name.startsWith(`${s.name}.`));
}

/** Fresh FPN and head weights; defect logits start at a 1% prior so early training is stable (as RetinaNet). */
export function initialHeadTensors(config: SegmentNetworkConfig, seed: number): Map<string, Float32Tensor> {
  const tensors = new Map([...initFpnWeights(seed), ...initSegmentationHead(config.classes.length, seed + 1)]);
  const bias = tensors.get('seg_head.predictor.bias')!.data;
  for (let c = 1; c < bias.length; c++) bias[c] = -Math.log(99);
  return tensors;
}

interface ForwardParts {
  g: GraphBuilder;
  logits: Value;
  target: Value;
}

function buildForward(name: string, backbone: BackboneWeights, tensors: TensorLookup, config: SegmentNetworkConfig, batch: number): ForwardParts {
  const g = new GraphBuilder(name, { trainable: (n) => isTrainedTensor(config, n) });
  const size = (stage: number): number[] => [batch, STAGE_CHANNELS[stage], config.inputHeight / STAGE_STRIDES[stage], config.inputWidth / STAGE_STRIDES[stage]];
  const stages: BackboneStages = {} as BackboneStages;
  stages.c2 = g.input('c2', 'float32', size(0));
  let h = stages.c2;
  if (config.frozenStages > 1) {
    h = g.input(STAGE_KEYS[config.frozenStages - 1], 'float32', size(config.frozenStages - 1));
    stages[STAGE_KEYS[config.frozenStages - 1]] = h;
  }
  for (let s = config.frozenStages; s < 4; s++) {
    h = buildResNetStage(g, backbone, h, s, tensors);
    stages[STAGE_KEYS[s]] = h;
  }
  const fpn = buildFpn(g, stages, tensors, { withP6: false });
  const logits = segmentationLogits(g, fpn, tensors);
  const target = g.input('target', 'float32', logits.shape);
  return { g, logits, target };
}

/**
 * The training step graph (forward, focal + Dice loss, and the reverse-mode gradients the optimizer applies)
 * and the validation graph, for a fixed batch and input size.
 */
export function buildTrainingGraphs(backbone: BackboneWeights, tensors: TensorLookup, config: SegmentNetworkConfig, batch: number, classWeights: number[]): TrainingGraphs {
  const train = buildForward('argus-segment-step', backbone, tensors, config, batch);
  const { loss, focal, dice } = segmentationLoss(train.g, train.logits, train.target, { classWeights });
  const params = train.g.parameters.map((p) => p.value);
  const grads = addGradients(train.g, loss, params);
  train.g.output(loss);
  train.g.output(focal);
  train.g.output(dice);
  outputGradients(train.g, params, grads);

  const evaluation = buildForward('argus-segment-eval', backbone, tensors, config, batch);
  const evalLoss = segmentationLoss(evaluation.g, evaluation.logits, evaluation.target, { classWeights });
  evaluation.g.output(evalLoss.loss);
  evaluation.g.output(evaluation.logits, 'seg_logits');
  return {
    step: train.g.toBytes(),
    evaluate: evaluation.g.toBytes(),
    parameters: train.g.parameters.map((p) => ({ name: p.value.name, data: p.data, dims: p.value.shape as number[] })),
  };
}

/** The forward-only network for inspection (any image size, uint8 pixels in), trained weights fused in. */
export function buildSegmentInferenceModel(backbone: BackboneWeights, tensors: TensorLookup, config: SegmentNetworkConfig): Uint8Array {
  return buildNetwork({
    name: 'argus-segment', backbone, input: 'pixels', extraTensors: tensors,
    heads: [segmentationHead(config.classes.length, tensors)],
  });
}

import { buildFpn, FPN_CHANNELS, type FpnLevels, initFpnWeights } from '../../model/fpn.ts';
import type { Head } from '../../model/heads.ts';
import { kaimingUniform, seededRandom } from '../../model/init.ts';
import { buildNetwork } from '../../model/network.ts';
import { groupNorm } from '../../model/group-norm.ts';
import { GraphBuilder, type Value } from '../../model/onnx-graph.ts';
import { type BackboneStages, type BackboneWeights, buildResNetStage, RESNET50_STAGES, type TensorLookup, STAGE_CHANNELS, STAGE_KEYS, STAGE_STRIDES } from '../../model/resnet50.ts';
import { stageOutputsHead } from '../../model/heads.ts';
import type { Float32Tensor } from '../../model/safetensors.ts';
import { addGradients } from '../../training/autodiff.ts';
import type { TrainingGraphs } from '../../training/fine-tuner.ts';
import { outputGradients } from '../../training/optimizers.ts';
import { detectionLoss, type DetectionTargets } from './loss.ts';

/** What fixes the shape of the detector and which part of it learns. */
export interface DetectNetworkConfig {
  /** Defect class names; class i+1 in annotations, channel i of the class logits. */
  classes: string[];
  /** Network input of training (crops) and of one inspection tile, multiples of 32. */
  inputWidth: number;
  inputHeight: number;
  /** ResNet stages kept frozen after the stem: 2 freezes layer1–layer2 and trains layer3–layer4. */
  frozenStages: 1 | 2 | 3;
  /** 3×3 conv + ReLU layers in each of the class and box towers, and their width. */
  towerDepth: number;
  towerChannels: number;
  /** Group normalisation after each tower conv (FCOS); versions trained before it have none. */
  towerNorm?: 'group';
}

/** Pyramid levels the head runs on (P3–P7) and their strides. */
export const DETECT_LEVELS = [
  { name: 'p3', stride: 8 }, { name: 'p4', stride: 16 }, { name: 'p5', stride: 32 }, { name: 'p6', stride: 64 }, { name: 'p7', stride: 128 },
] as const;

/** Groups of the towers' group normalisation (Wu & He's default). */
const TOWER_GROUPS = 32;

/** Class logits start at this prior probability so the many negatives do not swamp early training (RetinaNet). */
const CLASS_PRIOR = 0.01;

/** Feature-map size of each level for an input size (stride-2 3×3 convs round up). */
export function levelSizes(inputWidth: number, inputHeight: number): { stride: number; width: number; height: number }[] {
  const sizes: { stride: number; width: number; height: number }[] = [];
  for (const level of DETECT_LEVELS) {
    const previous = sizes[sizes.length - 1];
    const width = level.stride <= 32 ? Math.ceil(inputWidth / level.stride) : Math.ceil(previous.width / 2);
    const height = level.stride <= 32 ? Math.ceil(inputHeight / level.stride) : Math.ceil(previous.height / 2);
    sizes.push({ stride: level.stride, width, height });
  }
  return sizes;
}

/** The frozen stage whose output the trainable part starts from. */
function frozenOutput(config: DetectNetworkConfig): (typeof STAGE_KEYS)[number] {
  return STAGE_KEYS[config.frozenStages - 1];
}

/** Frozen-part outputs the training graph takes: the last frozen stage, and C3 for P3 when layer2 is frozen below it. */
export function frozenOutputs(config: DetectNetworkConfig): (typeof STAGE_KEYS)[number][] {
  return config.frozenStages === 3 ? ['c3', 'c4'] : [frozenOutput(config)];
}

/** Stem and frozen stages as an inference graph: uint8 pixels in, the frozen outputs the training graph takes. */
export function buildFrozenFeatureModel(backbone: BackboneWeights, config: DetectNetworkConfig): Uint8Array {
  return buildNetwork({
    name: 'argus-detect-frozen', backbone, input: 'pixels',
    heads: [stageOutputsHead(frozenOutputs(config))], stages: config.frozenStages as 2 | 3,
  });
}

/** Trained tensor names: the unfrozen stages' (BatchNorm-folded) convs, the FPN and the head. */
export function isTrainedTensor(config: DetectNetworkConfig, name: string): boolean {
  if (!name.endsWith('.weight') && !name.endsWith('.bias')) return false;
  if (name.startsWith('fpn.') || name.startsWith('det_head.')) return true;
  return RESNET50_STAGES.slice(config.frozenStages).some((s) => name.startsWith(`${s.name}.`));
}

function headShapes(config: DetectNetworkConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const conv = (name: string, out: number, inChannels: number): void => {
    shapes.set(`${name}.weight`, [out, inChannels, 3, 3]);
    shapes.set(`${name}.bias`, [out]);
  };
  conv('det_head.p6', FPN_CHANNELS, FPN_CHANNELS);
  conv('det_head.p7', FPN_CHANNELS, FPN_CHANNELS);
  for (const tower of ['cls_tower', 'box_tower']) {
    for (let j = 0; j < config.towerDepth; j++) {
      conv(`det_head.${tower}.${j}`, config.towerChannels, j === 0 ? FPN_CHANNELS : config.towerChannels);
      if (config.towerNorm === 'group') {
        shapes.set(`det_head.${tower}.${j}.gn.weight`, [config.towerChannels]);
        shapes.set(`det_head.${tower}.${j}.gn.bias`, [config.towerChannels]);
      }
    }
  }
  conv('det_head.cls_logits', config.classes.length, config.towerChannels);
  conv('det_head.box_pred', 4, config.towerChannels);
  conv('det_head.ctr_pred', 1, config.towerChannels);
  return shapes;
}

/**
 * Fresh FPN and head weights: kaiming-uniform towers and pyramid convs, predictors drawn from
 * N(0, 0.01²) with zero bias, class logits biased to a 1% prior (as FCOS and RetinaNet).
 */
export function initialHeadTensors(config: DetectNetworkConfig, seed: number): Map<string, Float32Tensor> {
  const random = seededRandom(seed + 1);
  const tensors = new Map(initFpnWeights(seed));
  for (const [name, dims] of headShapes(config)) {
    const count = dims.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('.gn.weight')) data = new Float32Array(count).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(count).fill(name.startsWith('det_head.cls_logits') ? -Math.log((1 - CLASS_PRIOR) / CLASS_PRIOR) : 0);
    else if (/cls_logits|box_pred|ctr_pred/.test(name)) data = normal(count, 0.01, random);
    else data = kaimingUniform(dims, 1, random);
    tensors.set(name, { dims, data });
  }
  return tensors;
}

function normal(count: number, std: number, random: () => number): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return data;
}

interface LevelOutputs {
  /** Class logits [N, C, h, w], box regression before exp [N, 4, h, w] (ltrb in strides), centreness logit [N, 1, h, w]. */
  cls: Value;
  box: Value;
  ctr: Value;
}

/** P6/P7 (stride-2 convs from P5, as FCOS) and the shared class/box towers on P3–P7. */
function detectionHeadOutputs(g: GraphBuilder, fpn: FpnLevels, tensors: TensorLookup, config: DetectNetworkConfig): LevelOutputs[] {
  // One value per weight, shared by every level (a second initializer would be a second parameter).
  const shared = new Map<string, Value>();
  const param = (name: string): Value => {
    const t = tensors(name);
    if (!t) throw new Error(`detection head weights lack ${name}`);
    return shared.get(name) ?? shared.set(name, g.initializer(name, t.data, t.dims)).get(name)!;
  };
  const conv = (name: string, x: Value, stride = 1, layer = name): Value => g.conv(layer, x, param(`${name}.weight`), param(`${name}.bias`), { pad: 1, stride });
  const p6 = conv('det_head.p6', fpn.p5, 2);
  const p7 = conv('det_head.p7', g.relu('det_head.p6.relu', p6), 2);
  const levels = [fpn.p3!, fpn.p4, fpn.p5, p6, p7];
  return levels.map((x, k) => {
    const tower = (kind: string): Value => {
      let h = x;
      for (let j = 0; j < config.towerDepth; j++) {
        const layer = `det_head.${kind}.${j}`;
        h = conv(layer, h, 1, `${layer}.l${k}`);
        if (config.towerNorm === 'group') h = groupNorm(g, `${layer}.gn.l${k}`, h, param(`${layer}.gn.weight`), param(`${layer}.gn.bias`), TOWER_GROUPS);
        h = g.relu(`${layer}.l${k}`, h);
      }
      return h;
    };
    const clsFeatures = tower('cls_tower');
    const boxFeatures = tower('box_tower');
    return {
      cls: conv('det_head.cls_logits', clsFeatures, 1, `det_head.cls_logits.l${k}`),
      box: conv('det_head.box_pred', boxFeatures, 1, `det_head.box_pred.l${k}`),
      ctr: conv('det_head.ctr_pred', boxFeatures, 1, `det_head.ctr_pred.l${k}`),
    };
  });
}

/** Levels flattened and joined along positions: [N, channels, Σ h·w] per output kind. */
function flattenLevels(g: GraphBuilder, levels: LevelOutputs[]): LevelOutputs {
  const join = (kind: keyof LevelOutputs): Value => {
    const parts = levels.map((level, k) => {
      const [n, c, h, w] = level[kind].shape as number[];
      return g.node('Reshape', [level[kind], g.constInts('det.flat', [n, c, h * w])], {}, [n, c, h * w], `det.flat.${kind}.${k}`);
    });
    const [n, c] = parts[0].shape as number[];
    const total = parts.reduce((a, p) => a + (p.shape[2] as number), 0);
    return g.node('Concat', parts, { axis: 2 }, [n, c, total], `det.concat.${kind}`);
  };
  return { cls: join('cls'), box: join('box'), ctr: join('ctr') };
}

interface ForwardParts {
  g: GraphBuilder;
  outputs: LevelOutputs;
  targets: DetectionTargets;
}

function buildForward(name: string, backbone: BackboneWeights, tensors: TensorLookup, config: DetectNetworkConfig, batch: number): ForwardParts {
  const g = new GraphBuilder(name, { trainable: (n) => isTrainedTensor(config, n) });
  const size = (stage: number): number[] => [batch, STAGE_CHANNELS[stage], config.inputHeight / STAGE_STRIDES[stage], config.inputWidth / STAGE_STRIDES[stage]];
  const stages = {} as BackboneStages;
  for (const key of frozenOutputs(config)) stages[key] = g.input(key, 'float32', size(STAGE_KEYS.indexOf(key)));
  let h = stages[frozenOutput(config)]!;
  for (let s = config.frozenStages; s < 4; s++) {
    h = buildResNetStage(g, backbone, h, s, tensors);
    stages[STAGE_KEYS[s]] = h;
  }
  const fpn = buildFpn(g, stages, tensors, { withP6: false, finest: 3 });
  const outputs = flattenLevels(g, detectionHeadOutputs(g, fpn, tensors, config));
  const [n, classes, positions] = outputs.cls.shape as number[];
  const targets = {
    cls: g.input('target_cls', 'float32', [n, classes, positions]),
    box: g.input('target_box', 'float32', [n, 4, positions]),
    ctr: g.input('target_ctr', 'float32', [n, 1, positions]),
    positive: g.input('target_positive', 'float32', [n, 1, positions]),
    invPositives: g.input('target_inv_positives', 'float32', [1, 1, 1]),
    invCentreness: g.input('target_inv_centreness', 'float32', [1, 1, 1]),
  };
  return { g, outputs, targets };
}

/**
 * The training step graph (forward, focal + GIoU + centreness loss, and the reverse-mode gradients
 * the optimizer applies) and the validation graph, for a fixed batch and input size.
 */
export function buildTrainingGraphs(backbone: BackboneWeights, tensors: TensorLookup, config: DetectNetworkConfig, batch: number): TrainingGraphs {
  const train = buildForward('argus-detect-step', backbone, tensors, config, batch);
  const loss = detectionLoss(train.g, train.outputs, train.targets);
  const params = train.g.parameters.map((p) => p.value);
  const grads = addGradients(train.g, loss.loss, params);
  for (const v of [loss.loss, loss.cls, loss.box, loss.ctr]) train.g.output(v);
  outputGradients(train.g, params, grads);

  const evaluation = buildForward('argus-detect-eval', backbone, tensors, config, batch);
  const evalLoss = detectionLoss(evaluation.g, evaluation.outputs, evaluation.targets);
  evaluation.g.output(evalLoss.loss);
  evaluation.g.output(evaluation.g.sigmoid('det.scores', evaluation.outputs.cls), 'cls_scores');
  evaluation.g.output(evaluation.g.node('Exp', [evaluation.outputs.box], {}, evaluation.outputs.box.shape, 'det.box'), 'box_strides');
  evaluation.g.output(evaluation.g.sigmoid('det.ctr', evaluation.outputs.ctr), 'centreness');
  return {
    step: train.g.toBytes(),
    evaluate: evaluation.g.toBytes(),
    parameters: train.g.parameters.map((p) => ({ name: p.value.name, data: p.data, dims: p.value.shape as number[] })),
  };
}

/**
 * The detection head for inspection (any image size): per level, class probabilities
 * "cls_pK" [N, C, h, w], box distances in strides "box_pK" [N, 4, h, w] (left, top, right,
 * bottom from the cell centre) and centreness "ctr_pK" [N, 1, h, w].
 */
export function detectionHead(config: DetectNetworkConfig, tensors: TensorLookup): Head {
  return {
    name: `detection:${config.classes.length}`,
    attach(g, { stages }) {
      const fpn = buildFpn(g, stages, tensors, { withP6: false, finest: 3 });
      detectionHeadOutputs(g, fpn, tensors, config).forEach((level, k) => {
        const name = DETECT_LEVELS[k].name;
        g.output(g.sigmoid(`det.out.cls.${name}`, level.cls), `cls_${name}`);
        g.output(g.node('Exp', [level.box], {}, level.box.shape, `det.out.box.${name}`), `box_${name}`);
        g.output(g.sigmoid(`det.out.ctr.${name}`, level.ctr), `ctr_${name}`);
      });
    },
  };
}

/** The forward-only detector for inspection (uint8 pixels in), trained weights fused in. */
export function buildDetectInferenceModel(backbone: BackboneWeights, tensors: TensorLookup, config: DetectNetworkConfig): Uint8Array {
  return buildNetwork({ name: 'argus-detect', backbone, input: 'pixels', extraTensors: tensors, heads: [detectionHead(config, tensors)] });
}

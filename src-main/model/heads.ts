import { FPN_CHANNELS, type FpnLevels } from './fpn.ts';
import { kaimingUniform, seededRandom } from './init.ts';
import type { GraphBuilder, Value } from './onnx-graph.ts';
import type { BackboneStages, BackboneWeights, TensorLookup } from './resnet50.ts';
import type { Float32Tensor } from './safetensors.ts';

/** What a head can attach to: backbone stages always, FPN levels built on first use. */
export interface NetworkFeatures {
  stages: BackboneStages;
  fpn(): FpnLevels;
}

/** A network head: adds its layers and graph outputs on top of the shared backbone. */
export interface Head {
  readonly name: string;
  attach(g: GraphBuilder, features: NetworkFeatures): void;
}

/** ImageNet classifier (global average pool + fc): checks that imported weights are sane. */
export function imagenetClassifierHead(weights: BackboneWeights): Head {
  return {
    name: 'imagenet-classifier',
    attach(g, { stages }) {
      if (!stages.c5) throw new Error('the ImageNet classifier needs layer4');
      const pooled = g.flatten('head.flatten', g.globalAveragePool('head.avgpool', stages.c5));
      const fcWeight = weights.tensors.float32('fc.weight');
      const fcBias = weights.tensors.float32('fc.bias');
      const w = g.initializer('fc.weight', fcWeight.data, fcWeight.dims);
      const b = g.initializer('fc.bias', fcBias.data, fcBias.dims);
      g.output(g.linear('fc', pooled, w, b), 'logits');
    },
  };
}

/** Exposes backbone stages as graph outputs (golden checks and feature extraction). */
export function stageOutputsHead(names: (keyof BackboneStages)[]): Head {
  return {
    name: `stages:${names.join(',')}`,
    attach(g, { stages }) {
      for (const n of names) {
        const stage = stages[n];
        if (!stage) throw new Error(`stage ${n} is not built`);
        g.output(stage, n);
      }
    },
  };
}

/** Channels of the segmentation head's per-level branches (Panoptic/semantic FPN uses 128). */
export const SEG_HEAD_CHANNELS = 128;

/** Tensor names and shapes of the segmentation head for `numClasses` defect classes (+ background). */
export function segmentationHeadShapes(numClasses: number): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [level, depth] of SEG_LEVELS) {
    for (let j = 0; j < depth; j++) {
      shapes.set(`seg_head.${level}.${j}.weight`, [SEG_HEAD_CHANNELS, j === 0 ? FPN_CHANNELS : SEG_HEAD_CHANNELS, 3, 3]);
      shapes.set(`seg_head.${level}.${j}.bias`, [SEG_HEAD_CHANNELS]);
    }
  }
  shapes.set('seg_head.predictor.weight', [numClasses + 1, SEG_HEAD_CHANNELS, 1, 1]);
  shapes.set('seg_head.predictor.bias', [numClasses + 1]);
  return shapes;
}

/** Number of conv+upsample steps that bring each FPN level to 1/4 resolution. */
const SEG_LEVELS: ['p2' | 'p3' | 'p4' | 'p5', number][] = [['p2', 1], ['p3', 1], ['p4', 2], ['p5', 3]];

/**
 * Semantic-FPN segmentation head: each of P2–P5 goes through 3×3 conv + ReLU (+ ×2 nearest
 * upsampling per step) down to 1/4 resolution, the branches are summed, and a 1×1 conv gives
 * per-pixel logits for background + each class: [N, classes+1, H/4, W/4].
 */
export function segmentationLogits(g: GraphBuilder, fpn: FpnLevels, tensors: TensorLookup): Value {
  const param = (name: string): Value => {
    const t = tensors(name);
    if (!t) throw new Error(`segmentation head weights lack ${name}`);
    return g.initializer(name, t.data, t.dims);
  };
  let sum: Value | undefined;
  for (const [level, depth] of SEG_LEVELS) {
    let x = fpn[level];
    if (!x) throw new Error(`the segmentation head needs FPN level ${level}`);
    for (let j = 0; j < depth; j++) {
      const name = `seg_head.${level}.${j}`;
      x = g.relu(name, g.conv(name, x, param(`${name}.weight`), param(`${name}.bias`), { pad: 1 }));
      if (level !== 'p2') x = g.upsample(`${name}.up`, x, 2, 'nearest');
    }
    sum = sum ? g.add(`seg_head.sum.${level}`, sum, x) : x;
  }
  return g.conv('seg_head.predictor', sum!, param('seg_head.predictor.weight'), param('seg_head.predictor.bias'));
}

/** The segmentation head as a network head with graph output "seg_logits". */
export function segmentationHead(numClasses: number, tensors: TensorLookup): Head {
  return {
    name: `segmentation:${numClasses}`,
    attach(g, features) {
      g.output(segmentationLogits(g, features.fpn(), tensors), 'seg_logits');
    },
  };
}

/** Fresh head weights (kaiming-uniform convs, zero biases), reproducible from the seed. */
export function initSegmentationHead(numClasses: number, seed: number): Map<string, Float32Tensor> {
  const random = seededRandom(seed);
  const weights = new Map<string, Float32Tensor>();
  for (const [name, dims] of segmentationHeadShapes(numClasses)) {
    weights.set(name, { dims, data: name.endsWith('.bias') ? new Float32Array(dims[0]) : kaimingUniform(dims, 1, random) });
  }
  return weights;
}

import type { Float32Tensor } from './safetensors.ts';
import { GraphBuilder, type Value } from './onnx-graph.ts';
import { kaimingUniform, seededRandom } from './init.ts';
import { type BackboneStages, STAGE_CHANNELS, type TensorLookup } from './resnet50.ts';

export const FPN_CHANNELS = 256;

export interface FpnLevels {
  /** Absent when the FPN was built from P3. */
  p2?: Value;
  p3: Value;
  p4: Value;
  p5: Value;
  /** P6 (stride-2 max-pool of P5), for detection heads; segmentation does not build it. */
  p6?: Value;
}


/** Shapes of every FPN tensor, for validating stored weights. */
export function fpnTensorShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  STAGE_CHANNELS.forEach((c, i) => {
    shapes.set(`fpn.inner_blocks.${i}.0.weight`, [FPN_CHANNELS, c, 1, 1]);
    shapes.set(`fpn.inner_blocks.${i}.0.bias`, [FPN_CHANNELS]);
    shapes.set(`fpn.layer_blocks.${i}.0.weight`, [FPN_CHANNELS, FPN_CHANNELS, 3, 3]);
    shapes.set(`fpn.layer_blocks.${i}.0.bias`, [FPN_CHANNELS]);
  });
  return shapes;
}

/** Fresh FPN weights as torchvision initialises them: kaiming_uniform_(a=1), zero bias. */
export function initFpnWeights(seed: number): Map<string, Float32Tensor> {
  const random = seededRandom(seed);
  const weights = new Map<string, Float32Tensor>();
  for (const [name, dims] of fpnTensorShapes()) {
    weights.set(name, { dims, data: name.endsWith('.bias') ? new Float32Array(dims[0]) : kaimingUniform(dims, 1, random) });
  }
  return weights;
}

export interface FpnOptions {
  /** Build P6 as a stride-2 max-pool of P5 (torchvision's LastLevelMaxPool). */
  withP6?: boolean;
  /** Finest level built: 2 (P2, for segmentation) or 3 (P3, for detection heads, which skip C2). */
  finest?: 2 | 3;
}

/**
 * Feature Pyramid Network as torchvision's resnet_fpn_backbone: 1×1 lateral convs on C2–C5,
 * top-down nearest ×2 upsampling and addition, 3×3 output convs (256 channels), and optionally P6
 * as a stride-2 max-pool of P5. With `finest: 3` the C2 lateral and P2 are not built.
 */
export function buildFpn(g: GraphBuilder, stages: BackboneStages, tensors: TensorLookup, options: FpnOptions = {}): FpnLevels {
  const { withP6 = true, finest = 2 } = options;
  const param = (name: string): Value => {
    const t = tensors(name);
    if (!t) throw new Error(`FPN weights lack ${name}`);
    return g.initializer(name, t.data, t.dims);
  };
  if (!stages.c4 || !stages.c5) throw new Error('the FPN needs layer3 and layer4 (C4, C5)');
  const inputs = [stages.c2, stages.c3, stages.c4, stages.c5];
  const lateral = (i: number): Value =>
    g.conv(`fpn.inner_blocks.${i}`, inputs[i], param(`fpn.inner_blocks.${i}.0.weight`), param(`fpn.inner_blocks.${i}.0.bias`));
  const output = (i: number, x: Value): Value =>
    g.conv(`fpn.layer_blocks.${i}`, x, param(`fpn.layer_blocks.${i}.0.weight`), param(`fpn.layer_blocks.${i}.0.bias`), { pad: 1 });

  const results: Value[] = new Array(4);
  let top = lateral(3);
  results[3] = output(3, top);
  for (let i = 2; i >= finest - 2; i--) {
    top = g.add(`fpn.top_down.${i}`, lateral(i), g.upsample(`fpn.upsample.${i}`, top, 2, 'nearest'));
    results[i] = output(i, top);
  }
  const [p2, p3, p4, p5] = results;
  return { p2, p3, p4, p5, p6: withP6 ? g.maxPool('fpn.p6', p5, 1, 2, 0) : undefined };
}

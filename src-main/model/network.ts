import { buildFpn, type FpnLevels } from './fpn.ts';
import type { Head } from './heads.ts';
import { GraphBuilder } from './onnx-graph.ts';
import { type BackboneWeights, buildResNet50, imageInput, type TensorLookup } from './resnet50.ts';

export interface NetworkSpec {
  name: string;
  backbone: BackboneWeights;
  /**
   * Weights of FPN and heads by name (stored with a model version, or freshly initialised), and
   * fine-tuned (BatchNorm-folded) backbone convs that replace the imported ones.
   */
  extraTensors?: TensorLookup;
  input: 'pixels' | 'normalized';
  heads: Head[];
  /** Backbone stages to build (3 stops after layer3, 2 after layer2). */
  stages?: 2 | 3 | 4;
}

/** ResNet-50 (+ FPN when a head asks for it) with the given heads, serialised to ONNX. */
export function buildNetwork(spec: NetworkSpec): Uint8Array {
  const g = new GraphBuilder(spec.name);
  const { x } = imageInput(g, spec.input, spec.backbone.normalization);
  const stages = buildResNet50(g, spec.backbone, x, spec.stages ?? 4, spec.extraTensors);
  let fpn: FpnLevels | undefined;
  const features = {
    stages,
    fpn: (): FpnLevels => (fpn ??= buildFpn(g, stages, spec.extraTensors ?? (() => undefined))),
  };
  for (const head of spec.heads) head.attach(g, features);
  g.setMetadata('argus.heads', spec.heads.map((h) => h.name).join(','));
  g.setMetadata('argus.input', spec.input);
  return g.toBytes();
}

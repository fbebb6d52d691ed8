import { type Dim, GraphBuilder, ModelBuildError, type Value } from './onnx-graph.ts';

/** Keeps the variance's square root away from 0 (PyTorch's GroupNorm default). */
const EPSILON = 1e-5;

/**
 * Group normalisation (Wu & He) of an NCHW value: each image's channels in `groups` groups,
 * each group brought to zero mean and unit variance over its channels and pixels, then scaled and
 * shifted per channel. Built from Reshape, ReduceMean and arithmetic, so that the same graph runs
 * at any input size for inspection and `addGradients` differentiates it for training.
 */
export function groupNorm(g: GraphBuilder, layer: string, x: Value, gamma: Value, beta: Value, groups: number): Value {
  const [n, c] = g.expectRank(layer, x, 4);
  if (typeof c !== 'number' || c % groups) throw new ModelBuildError(layer, `${String(c)} channels do not split into ${groups} groups`);
  const fixed = x.shape.every((d): d is number => typeof d === 'number');
  const perGroup: Dim = fixed ? (x.shape as number[]).slice(1).reduce((a, b) => a * b, 1) / groups : { sym: `${layer}.group`, div: 1 };
  const groupedShape = fixed ? [n as number, groups, perGroup as number] : [0, groups, -1];
  const grouped = g.node('Reshape', [x, g.constInts(`${layer}.grouped`, groupedShape)], {}, [n, groups, perGroup], layer);
  const statShape: Dim[] = [n, groups, 1];
  const mean = g.node('ReduceMean', [grouped], { axes: [2], keepdims: 1 }, statShape, layer);
  const centred = g.node('Sub', [grouped, mean], {}, grouped.shape, layer);
  const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred], {}, grouped.shape, layer)], { axes: [2], keepdims: 1 }, statShape, layer);
  const spread = g.node('Sqrt', [g.node('Add', [variance, g.constFloats(`${layer}.epsilon`, [EPSILON], [])], {}, statShape, layer)], {}, statShape, layer);
  const normalised = g.node('Div', [centred, spread], {}, grouped.shape, layer);
  const shape = fixed ? g.constInts(`${layer}.shape`, x.shape as number[]) : g.node('Shape', [x], {}, [4], layer, 'int64');
  const restored = g.node('Reshape', [normalised, shape], {}, x.shape, layer);
  const perChannel = (v: Value, name: string): Value => g.node('Reshape', [v, g.constInts(`${layer}.${name}`, [1, c, 1, 1])], {}, [1, c, 1, 1], layer);
  return g.node('Add', [g.node('Mul', [restored, perChannel(gamma, 'gamma')], {}, x.shape, layer), perChannel(beta, 'beta')], {}, x.shape, layer);
}

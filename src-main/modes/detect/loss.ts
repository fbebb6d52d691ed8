import type { Dim, GraphBuilder, Value } from '../../model/onnx-graph.ts';
import { shapeOf } from '../../training/autodiff.ts';

export interface DetectionOutputs {
  /** Class logits [N, C, P] over all positions P of all levels. */
  cls: Value;
  /** Box regression before exp [N, 4, P]: log of left, top, right, bottom in strides. */
  box: Value;
  /** Centreness logits [N, 1, P]. */
  ctr: Value;
}

export interface DetectionTargets {
  /** One-hot classes at positive positions, zeros elsewhere [N, C, P]. */
  cls: Value;
  /** Target distances in strides [N, 4, P] (any positive value at negative positions). */
  box: Value;
  /** Centreness of positive positions, 0 elsewhere [N, 1, P]; also the box loss weight. */
  ctr: Value;
  /** 1 at positive positions [N, 1, P]. */
  positive: Value;
  /** 1 / max(1, positives) and 1 / max(ε, Σ centreness targets), each [1, 1, 1]. */
  invPositives: Value;
  invCentreness: Value;
}

export interface DetectionLossOptions {
  /** Focal loss balance and focusing (0.25 and 2, as Lin et al.). */
  alpha?: number;
  gamma?: 2;
}

/** log(exp(distance)) stays below this in the loss, so that exp never overflows at positions no target constrains. */
const MAX_LOG_DISTANCE = 8;
const EPS = 1e-6;

/**
 * FCOS's loss: sigmoid focal loss over all positions for the classes (normalised by the positives),
 * GIoU loss of the ltrb boxes weighted by the centreness targets, and centreness BCE on the
 * positives. Built from ops `addGradients` differentiates (Softplus keeps log σ finite for any
 * logit; min and max are (a + b ∓ |a − b|) / 2).
 */
export function detectionLoss(g: GraphBuilder, out: DetectionOutputs, target: DetectionTargets, options: DetectionLossOptions = {}): { loss: Value; cls: Value; box: Value; ctr: Value } {
  g.expectSameShape('det.loss', out.cls, target.cls);
  g.expectSameShape('det.loss', out.box, target.box);
  const alpha = options.alpha ?? 0.25;
  const [n, , positions] = shapeOf(out.cls);
  const scalar = (name: string, v: number): Value => g.constFloats(name, [v], []);
  const op = (name: string, inputs: Value[], shape: Dim[] = inputs[0].shape): Value => g.node(name, inputs, {}, shape, 'det.loss');
  const mul = (a: Value, b: Value, shape: Dim[] = widest(a, b)): Value => op('Mul', [a, b], shape);
  const add = (a: Value, b: Value, shape: Dim[] = widest(a, b)): Value => op('Add', [a, b], shape);
  const sub = (a: Value, b: Value, shape: Dim[] = widest(a, b)): Value => op('Sub', [a, b], shape);
  const sumAll = (x: Value): Value => g.node('ReduceSum', [x, g.constInts('det.loss.axes', [0, 1, 2])], { keepdims: 1 }, [1, 1, 1], 'det.loss');
  const sumChannels = (x: Value): Value => g.node('ReduceSum', [x, g.constInts('det.loss.channel', [1])], { keepdims: 1 }, [n, 1, positions], 'det.loss');
  const one = scalar('det.loss.one', 1);

  // Focal loss: −α t (1−p)² log p − (1−α)(1−t) p² log(1−p), with log p = −softplus(−x).
  const x = out.cls;
  const p = g.sigmoid('det.loss.p', x);
  const logP = op('Neg', [op('Softplus', [op('Neg', [x])])]);
  const logNotP = op('Neg', [op('Softplus', [x])]);
  const q = sub(one, p, x.shape);
  const positive = mul(mul(target.cls, mul(q, q)), mul(logP, scalar('det.loss.alpha', -alpha), x.shape));
  const negative = mul(mul(sub(one, target.cls, x.shape), mul(p, p)), mul(logNotP, scalar('det.loss.beta', -(1 - alpha)), x.shape));
  const cls = mul(sumAll(add(positive, negative)), target.invPositives);

  // GIoU of boxes given as distances from the same point: widths add left + right.
  const clamped = halfOf(g, sub(add(out.box, scalar('det.loss.max', MAX_LOG_DISTANCE), out.box.shape), op('Abs', [sub(out.box, scalar('det.loss.max2', MAX_LOG_DISTANCE), out.box.shape)])));
  const predicted = op('Exp', [clamped]);
  const difference = op('Abs', [sub(predicted, target.box)]);
  const both = add(predicted, target.box);
  const lower = halfOf(g, sub(both, difference));
  const upper = halfOf(g, add(both, difference));
  const horizontal = g.constFloats('det.loss.h', [1, 0, 1, 0], [1, 4, 1]);
  const vertical = g.constFloats('det.loss.v', [0, 1, 0, 1], [1, 4, 1]);
  const extent = (v: Value, axis: Value): Value => sumChannels(mul(v, axis, v.shape));
  const area = (v: Value): Value => mul(extent(v, horizontal), extent(v, vertical));
  const eps = scalar('det.loss.eps', EPS);
  const intersection = area(lower);
  const union = add(sub(add(area(predicted), area(target.box)), intersection), eps);
  const enclosing = add(area(upper), eps);
  const iou = op('Div', [intersection, union]);
  const giou = sub(iou, op('Div', [sub(enclosing, union), enclosing]));
  const box = mul(sumAll(mul(target.ctr, sub(one, giou))), target.invCentreness);

  // Centreness: binary cross-entropy softplus(z) − t·z on the positives.
  const z = out.ctr;
  const ctr = mul(sumAll(mul(target.positive, sub(op('Softplus', [z]), mul(target.ctr, z)))), target.invPositives);

  const flat = (v: Value, name: string): Value => g.node('Reshape', [v, g.constInts('det.loss.flat', [1])], {}, [1], 'det.loss', 'float32', name);
  return { loss: flat(add(add(cls, box), ctr), 'loss'), cls: flat(cls, 'loss_class'), box: flat(box, 'loss_box'), ctr: flat(ctr, 'loss_centreness') };
}

const halfOf = (g: GraphBuilder, v: Value): Value => g.node('Mul', [v, g.constFloats('det.loss.half', [0.5], [])], {}, v.shape, 'det.loss');

/** The broadcast shape of two values (the larger of each dimension). */
function widest(a: Value, b: Value): number[] {
  const sa = shapeOf(a);
  const sb = shapeOf(b);
  const rank = Math.max(sa.length, sb.length);
  return Array.from({ length: rank }, (_, i) => Math.max(sa[sa.length - rank + i] ?? 1, sb[sb.length - rank + i] ?? 1));
}

import type { GraphBuilder, Value } from '../model/onnx-graph.ts';
import { shapeOf } from './autodiff.ts';

export interface SegmentationLossOptions {
  /** Per-class weight (background first) against class imbalance. */
  classWeights: number[];
  /** Focusing parameter of the focal loss (2, as Lin et al.). */
  gamma?: number;
  /** Weight of the Dice term next to the focal term. */
  diceWeight?: number;
}

/**
 * Focal loss (softmax over background + classes, per-class weights) plus soft Dice over the defect
 * classes, for logits and a one-hot target of the same shape [N, C, h, w]. Built from plain ONNX
 * ops so `addGradients` can differentiate it. Output: the loss as a one-element tensor.
 */
export function segmentationLoss(g: GraphBuilder, logits: Value, target: Value, options: SegmentationLossOptions): { loss: Value; focal: Value; dice: Value } {
  g.expectSameShape('loss', logits, target);
  const [n, classes, h, w] = shapeOf(logits);
  if (options.classWeights.length !== classes) throw new Error(`loss: ${options.classWeights.length} class weights for ${classes} classes`);
  const gamma = options.gamma ?? 2;
  const shape = logits.shape;
  const perClass = [1, classes, 1, 1];
  const scalar = (name: string, v: number): Value => g.constFloats(name, [v], []);
  const op = (name: string, inputs: Value[], attrs = {}, outShape = shape): Value => g.node(name, inputs, attrs, outShape, 'loss');
  const sumAll = (x: Value, axes: number[]): Value => g.node('ReduceSum', [x, g.constInts('loss.axes', axes)], { keepdims: 1 }, shapeOf(x).map((d, i) => (axes.includes(i) ? 1 : d)), 'loss');

  const logp = op('LogSoftmax', [logits], { axis: 1 });
  const p = op('Exp', [logp]);
  // (1 − p)^γ for integer γ as repeated products, so the gradient only needs Mul.
  const q = op('Sub', [scalar('loss.one', 1), p]);
  let modulator = q;
  for (let k = 1; k < gamma; k++) modulator = op('Mul', [modulator, q]);
  const weighted = op('Mul', [target, g.constFloats('loss.class_weights', options.classWeights, perClass)]);
  const terms = op('Mul', [weighted, op('Mul', [modulator, logp])]);
  const focal = op('Mul', [sumAll(terms, [0, 1, 2, 3]), scalar('loss.focal_scale', -1 / (n * h * w))], {}, [1, 1, 1, 1]);

  // Soft Dice per class over the whole batch, averaged over the defect classes (not background).
  const smooth = scalar('loss.smooth', 1);
  const intersection = sumAll(op('Mul', [p, target]), [0, 2, 3]);
  const total = sumAll(op('Add', [p, target]), [0, 2, 3]);
  const ratio = op('Div', [
    op('Add', [op('Mul', [intersection, scalar('loss.two', 2)], {}, perClass), smooth], {}, perClass),
    op('Add', [total, smooth], {}, perClass),
  ], {}, perClass);
  const defectMask = Array.from({ length: classes }, (_, c) => (c === 0 ? 0 : 1 / (classes - 1)));
  const meanRatio = sumAll(op('Mul', [ratio, g.constFloats('loss.defect_mask', defectMask, perClass)], {}, perClass), [1]);
  const dice = op('Sub', [scalar('loss.one_d', 1), meanRatio], {}, [1, 1, 1, 1]);

  const combined = op('Add', [focal, op('Mul', [dice, scalar('loss.dice_weight', options.diceWeight ?? 1)], {}, [1, 1, 1, 1])], {}, [1, 1, 1, 1]);
  const flat = (v: Value, name: string): Value => g.node('Reshape', [v, g.constInts('loss.flat', [1])], {}, [1], 'loss', 'float32', name);
  return { loss: flat(combined, 'loss'), focal: flat(focal, 'loss_focal'), dice: flat(dice, 'loss_dice') };
}

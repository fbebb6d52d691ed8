import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../model/init.ts';
import { groupNorm } from '../model/group-norm.ts';
import { GraphBuilder, type Value } from '../model/onnx-graph.ts';
import { evaluateReference, type F64 } from '../../test-support/reference-ops.ts';
import { addGradients } from './autodiff.ts';
import { segmentationLoss } from './losses.ts';
import { detectionLoss } from '../modes/detect/loss.ts';
import { binaryCrossEntropy, crossEntropy } from '../modes/classify/network.ts';
import { multiLabelTargets } from '../modes/classify/data.ts';

interface InputSpec {
  name: string;
  shape: number[];
  /** Values in (0.5, 1.5) instead of (−1, 1), for ops defined on positive numbers. */
  positive?: boolean;
  /** A fixed input the gradient is not taken for (e.g. a one-hot target). */
  fixed?: Float32Array;
}

const random = seededRandom(7);
const randomValues = (n: number, positive = false): Float32Array =>
  Float32Array.from({ length: n }, () => (positive ? 0.5 + random() : random() * 2 - 1));
const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Builds y = f(inputs), differentiates L = Σ y·R (R random) with `addGradients`, runs the gradient
 * graph in onnxruntime (float32) and compares every gradient element with a central difference
 * of L computed in float64 by the reference evaluator. Returns the worst relative error.
 */
async function gradientError(specs: InputSpec[], build: (g: GraphBuilder, x: Value[]) => Value): Promise<number> {
  const g = new GraphBuilder('gradient-check');
  const inputs = specs.map((s) => g.input(s.name, 'float32', s.shape));
  const y = build(g, inputs);
  const shape = y.shape as number[];
  const weights = g.constFloats('check.r', Array.from(randomValues(numel(shape))), shape);
  const summed = g.node('ReduceSum', [g.node('Mul', [y, weights], {}, shape, 'check')], { keepdims: 0 }, [], 'check');
  const loss = g.node('Reshape', [summed, g.constInts('check.flat', [1])], {}, [1], 'check');
  const forwardNodes = g.nodes.length;
  const trained = inputs.filter((_, i) => !specs[i].fixed);
  const grads = addGradients(g, loss, trained);
  for (const x of trained) g.output(grads.get(x.name)!, `d_${x.name}`);

  const data = specs.map((s) => s.fixed ?? randomValues(numel(s.shape), s.positive));
  const session = await ort.InferenceSession.create(g.toBytes());
  const feeds = Object.fromEntries(specs.map((s, i) => [s.name, new ort.Tensor('float32', data[i], s.shape)]));
  const out = await session.run(feeds);
  await session.release();

  const reference = (values: Float64Array[]): number => {
    const map = new Map<string, F64>(specs.map((s, i) => [s.name, { data: values[i], shape: s.shape }]));
    return evaluateReference(g, map, forwardNodes).get(loss.name)!.data[0];
  };
  let worst = 0;
  const h = 1e-5;
  const base = data.map((d) => Float64Array.from(d));
  specs.forEach((s, i) => {
    if (s.fixed) return;
    const analytic = out[`d_${s.name}`].data as Float32Array;
    expect(analytic.length).toBe(numel(s.shape));
    let scale = 1e-3;
    const numeric = new Float64Array(analytic.length);
    for (let k = 0; k < analytic.length; k++) {
      const plus = base.map((b) => b.slice());
      const minus = base.map((b) => b.slice());
      plus[i][k] += h;
      minus[i][k] -= h;
      numeric[k] = (reference(plus) - reference(minus)) / (2 * h);
      scale = Math.max(scale, Math.abs(numeric[k]));
    }
    for (let k = 0; k < analytic.length; k++) worst = Math.max(worst, Math.abs(analytic[k] - numeric[k]) / scale);
  });
  return worst;
}

const TOLERANCE = 1e-4;
const conv = (stride: number, pad: number) => (g: GraphBuilder, [x, w, b]: Value[]) => g.conv('conv', x, w, b, { stride, pad });

describe('reverse-mode gradients match float64 finite differences', () => {
  const cases: [string, InputSpec[], (g: GraphBuilder, x: Value[]) => Value][] = [
    ['Conv 1×1', [{ name: 'x', shape: [2, 3, 4, 4] }, { name: 'w', shape: [5, 3, 1, 1] }, { name: 'b', shape: [5] }], conv(1, 0)],
    ['Conv 1×1 stride 2', [{ name: 'x', shape: [2, 3, 6, 6] }, { name: 'w', shape: [4, 3, 1, 1] }, { name: 'b', shape: [4] }], conv(2, 0)],
    ['Conv 3×3 pad 1', [{ name: 'x', shape: [2, 3, 5, 5] }, { name: 'w', shape: [4, 3, 3, 3] }, { name: 'b', shape: [4] }], conv(1, 1)],
    ['Conv 3×3 stride 2 pad 1', [{ name: 'x', shape: [2, 2, 6, 6] }, { name: 'w', shape: [3, 2, 3, 3] }, { name: 'b', shape: [3] }], conv(2, 1)],
    ['Conv 3×3 stride 2, odd size', [{ name: 'x', shape: [1, 2, 7, 7] }, { name: 'w', shape: [3, 2, 3, 3] }, { name: 'b', shape: [3] }], conv(2, 1)],
    ['Identity', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.node('Identity', [x], {}, x.shape, 'id')],
    ['Relu', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.relu('relu', x)],
    ['Sigmoid', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.sigmoid('sigmoid', x)],
    ['Add (broadcast)', [{ name: 'a', shape: [2, 3, 4, 4] }, { name: 'b', shape: [1, 3, 1, 1] }], (g, [a, b]) => g.node('Add', [a, b], {}, a.shape, 'add')],
    ['Sub (broadcast)', [{ name: 'a', shape: [2, 3, 4] }, { name: 'b', shape: [4] }], (g, [a, b]) => g.node('Sub', [a, b], {}, a.shape, 'sub')],
    ['Mul (broadcast)', [{ name: 'a', shape: [2, 3, 4] }, { name: 'b', shape: [3, 1] }], (g, [a, b]) => g.node('Mul', [a, b], {}, a.shape, 'mul')],
    ['Div', [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [2, 3], positive: true }], (g, [a, b]) => g.node('Div', [a, b], {}, a.shape, 'div')],
    ['Neg', [{ name: 'x', shape: [5] }], (g, [x]) => g.node('Neg', [x], {}, x.shape, 'neg')],
    ['Exp', [{ name: 'x', shape: [2, 5] }], (g, [x]) => g.node('Exp', [x], {}, x.shape, 'exp')],
    ['Softplus', [{ name: 'x', shape: [2, 5] }], (g, [x]) => g.node('Softplus', [x], {}, x.shape, 'softplus')],
    ['Abs (away from 0)', [{ name: 'x', shape: [2, 5], positive: true }], (g, [x]) => g.node('Abs', [g.node('Sub', [x, g.constFloats('one', [1], [])], {}, x.shape, 'shift')], {}, x.shape, 'abs')],
    ['Log', [{ name: 'x', shape: [2, 5], positive: true }], (g, [x]) => g.node('Log', [x], {}, x.shape, 'log')],
    ['Sqrt', [{ name: 'x', shape: [2, 5], positive: true }], (g, [x]) => g.node('Sqrt', [x], {}, x.shape, 'sqrt')],
    ['LogSoftmax', [{ name: 'x', shape: [2, 4, 3, 3] }], (g, [x]) => g.node('LogSoftmax', [x], { axis: 1 }, x.shape, 'lsm')],
    ['Softmax', [{ name: 'x', shape: [2, 4, 3, 3] }], (g, [x]) => g.node('Softmax', [x], { axis: 1 }, x.shape, 'sm')],
    ['ReduceSum (keepdims)', [{ name: 'x', shape: [2, 3, 4, 4] }], (g, [x]) => g.node('ReduceSum', [x, g.constInts('axes', [0, 2, 3])], { keepdims: 1 }, [1, 3, 1, 1], 'rs')],
    ['ReduceSum (no keepdims)', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.node('ReduceSum', [x, g.constInts('axes', [1])], { keepdims: 0 }, [2, 4], 'rs')],
    ['ReduceMean', [{ name: 'x', shape: [2, 3, 4, 4] }], (g, [x]) => g.node('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }, [2, 3, 1, 1], 'rm')],
    ['Resize nearest ×2', [{ name: 'x', shape: [2, 3, 3, 4] }], (g, [x]) => g.upsample('up', x, 2, 'nearest')],
    ['Concat', [{ name: 'a', shape: [2, 2, 3, 3] }, { name: 'b', shape: [2, 3, 3, 3] }], (g, [a, b]) => g.concatChannels('cat', [a, b])],
    ['Reshape', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.node('Reshape', [x, g.constInts('shape', [6, 4])], {}, [6, 4], 'reshape')],
    ['Transpose', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.transpose('t', x, [2, 0, 1])],
    ['a value used twice (gradients add up)', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.node('Mul', [x, g.relu('r', x)], {}, x.shape, 'mul')],
    ['GroupNorm (2 groups of 2 channels) with scale and shift', [{ name: 'x', shape: [2, 4, 3, 3] }, { name: 'gamma', shape: [4] }, { name: 'beta', shape: [4] }],
      (g, [x, gamma, beta]) => groupNorm(g, 'gn', x, gamma, beta, 2)],
    ['FPN-style block: conv, upsample, add, relu', [
      { name: 'c4', shape: [1, 4, 2, 2] }, { name: 'c3', shape: [1, 3, 4, 4] },
      { name: 'w4', shape: [2, 4, 1, 1] }, { name: 'w3', shape: [2, 3, 1, 1] }, { name: 'w', shape: [2, 2, 3, 3] },
    ], (g, [c4, c3, w4, w3, w]) => {
      const top = g.upsample('up', g.conv('lat4', c4, w4, null), 2, 'nearest');
      return g.relu('out', g.conv('out', g.add('sum', g.conv('lat3', c3, w3, null), top), w, null, { pad: 1 }));
    }],
  ];
  for (const [name, specs, build] of cases) {
    it(name, async () => {
      expect(await gradientError(specs, build)).toBeLessThan(TOLERANCE);
    });
  }

  it('focal + Dice segmentation loss', async () => {
    const shape = [2, 3, 3, 3];
    const target = new Float32Array(numel(shape));
    for (let n = 0; n < 2; n++) for (let p = 0; p < 9; p++) target[(n * 3 + ((p * 7 + n) % 3)) * 9 + p] = 1;
    const error = await gradientError([{ name: 'logits', shape }, { name: 'target', shape, fixed: target }], (g, [logits, t]) =>
      segmentationLoss(g, logits, t, { classWeights: [0.25, 1, 2] }).loss);
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('classifier: 1×1 class maps, their spatial mean, weighted label-smoothed cross-entropy', async () => {
    // Rows as the classify batcher makes them: class weight × (one-hot · 0.9 + 0.1 / K).
    const target = Float32Array.from([1.5 * 0.025, 1.5 * 0.925, 1.5 * 0.025, 1.5 * 0.025, 0.025, 0.025, 0.025, 0.925]);
    const error = await gradientError([
      { name: 'c5', shape: [2, 6, 3, 3] }, { name: 'w', shape: [4, 6, 1, 1] }, { name: 'b', shape: [4] }, { name: 'target', shape: [2, 4], fixed: target },
    ], (g, [c5, w, b, t]) => {
      const maps = g.conv('cls_head', c5, w, b);
      const logits = g.node('ReduceMean', [maps], { axes: [2, 3], keepdims: 0 }, [2, 4], 'cls_head.pool');
      return g.node('Reshape', [crossEntropy(g, logits, t), g.constInts('flat', [1])], {}, [1], 'loss');
    });
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('multi-label classifier: binary cross-entropy with logits, smoothed labels and positive weights', async () => {
    // Rows as the multi-label batcher makes them: image 1 carries classes 0 and 2, image 2 none (good).
    const rows = [multiLabelTargets([0, 2], 3, 0.1, [2, 1, 3]), multiLabelTargets([], 3, 0.1, [2, 1, 3])];
    const positive = Float32Array.from(rows.flatMap((r) => [...r[0]]));
    const negative = Float32Array.from(rows.flatMap((r) => [...r[1]]));
    const error = await gradientError([
      { name: 'logits', shape: [2, 3] }, { name: 'positive', shape: [2, 3], fixed: positive }, { name: 'negative', shape: [2, 3], fixed: negative },
    ], (g, [x, p, n]) => g.node('Reshape', [binaryCrossEntropy(g, x, p, n), g.constInts('flat', [1])], {}, [1], 'loss'));
    expect(error).toBeLessThan(TOLERANCE);
  });

  it('focal + GIoU + centreness detection loss', async () => {
    const [n, classes, positions] = [2, 3, 5];
    const cls = new Float32Array(n * classes * positions);
    const box = new Float32Array(n * 4 * positions).fill(1);
    const ctr = new Float32Array(n * positions);
    const positive = new Float32Array(n * positions);
    // Positions 1 and 3 of each image are positives with distinct boxes and classes.
    for (let b = 0; b < n; b++) {
      for (const p of [1, 3]) {
        cls[(b * classes + ((p + b) % classes)) * positions + p] = 1;
        for (let c = 0; c < 4; c++) box[(b * 4 + c) * positions + p] = 0.5 + 0.3 * c + 0.2 * b + 0.1 * p;
        ctr[b * positions + p] = 0.4 + 0.1 * p;
        positive[b * positions + p] = 1;
      }
    }
    const error = await gradientError([
      { name: 'cls', shape: [n, classes, positions] }, { name: 'box', shape: [n, 4, positions] }, { name: 'ctr', shape: [n, 1, positions] },
      { name: 't_cls', shape: [n, classes, positions], fixed: cls }, { name: 't_box', shape: [n, 4, positions], fixed: box },
      { name: 't_ctr', shape: [n, 1, positions], fixed: ctr }, { name: 't_pos', shape: [n, 1, positions], fixed: positive },
      { name: 'inv_pos', shape: [1, 1, 1], fixed: Float32Array.of(1 / 4) }, { name: 'inv_ctr', shape: [1, 1, 1], fixed: Float32Array.of(1 / ctr.reduce((a, v) => a + v, 0)) },
    ], (g, [c, bx, z, tc, tb, tz, tp, ip, ic]) => detectionLoss(g, { cls: c, box: bx, ctr: z }, { cls: tc, box: tb, ctr: tz, positive: tp, invPositives: ip, invCentreness: ic }).loss);
    expect(error).toBeLessThan(TOLERANCE);
  });
});

import { type Dim, type GraphBuilder, ModelBuildError, type NodeRecord, type Value } from '../model/onnx-graph.ts';

/**
 * Reverse-mode differentiation of a graph built with GraphBuilder: appends the nodes that compute
 * d(loss)/d(value) for every value in `wrt` and returns them by value name. Only nodes on a path
 * from a `wrt` value to the loss are differentiated; everything else (frozen layers, constants)
 * costs nothing. Gradients are themselves standard ONNX ops, so the step runs on any EP.
 */
export function addGradients(g: GraphBuilder, loss: Value, wrt: Value[]): Map<string, Value> {
  if (numel(shapeOf(loss)) !== 1) throw new ModelBuildError('autodiff', `the loss must be a single number, got [${loss.shape}]`);
  const nodes = g.nodes.slice();
  // Values that depend on a differentiated value, found forwards.
  const live = new Set(wrt.map((v) => v.name));
  for (const node of nodes) if (node.inputs.some((v) => v && live.has(v.name))) live.add(node.output.name);
  if (!live.has(loss.name)) throw new ModelBuildError('autodiff', 'the loss does not depend on any trained value');

  const grads = new Map<string, Value>();
  const accumulate = (target: Value, grad: Value): void => {
    const previous = grads.get(target.name);
    grads.set(target.name, previous ? g.node('Add', [previous, grad], {}, target.shape, `grad/${target.name}`) : grad);
  };
  grads.set(loss.name, g.constFloats('grad/seed', [1], shapeOf(loss)));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dy = grads.get(node.output.name);
    if (!dy || !live.has(node.output.name)) continue;
    const wanted = node.inputs.map((v) => v !== null && live.has(v.name));
    const rule = RULES[node.op];
    if (!rule) throw new ModelBuildError(node.layer, `no gradient rule for ${node.op}`);
    const inputGrads = rule(new GradientOps(g, `grad/${node.layer}`), node, dy, wanted);
    inputGrads.forEach((grad, k) => {
      const input = node.inputs[k];
      if (grad && input && wanted[k]) accumulate(input, grad);
    });
  }
  const result = new Map<string, Value>();
  for (const v of wrt) {
    // A trained value the loss does not reach gets a zero gradient rather than a missing one.
    result.set(v.name, grads.get(v.name) ?? g.constFloats(`grad/zero/${v.name}`, new Array(numel(shapeOf(v))).fill(0), shapeOf(v)));
  }
  return result;
}

type Rule = (ops: GradientOps, node: NodeRecord, dy: Value, wanted: boolean[]) => (Value | null)[];

export function shapeOf(v: Value): number[] {
  if (!v.shape.every((d): d is number => typeof d === 'number')) {
    throw new ModelBuildError(v.name, 'training graphs need fixed shapes');
  }
  return v.shape;
}

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Small op constructors with shape bookkeeping, used by the gradient rules. */
class GradientOps {
  constructor(readonly g: GraphBuilder, readonly layer: string) {}

  op(op: string, inputs: (Value | null)[], shape: Dim[], attrs: NodeRecord['attrs'] = {}): Value {
    return this.g.node(op, inputs, attrs, shape, this.layer);
  }

  ints(values: number[]): Value {
    return this.g.constInts(`${this.layer}.i64`, values);
  }

  scalar(value: number): Value {
    return this.g.constFloats(`${this.layer}.c`, [value], []);
  }

  mul(a: Value, b: Value, shape = broadcastShape(a, b)): Value {
    return this.op('Mul', [a, b], shape);
  }

  neg(a: Value): Value {
    return this.op('Neg', [a], a.shape);
  }

  /** Sum over the listed axes, keeping them as size 1. */
  sumKeep(x: Value, axes: number[]): Value {
    const shape = shapeOf(x).map((d, i) => (axes.includes(i) ? 1 : d));
    return this.op('ReduceSum', [x, this.ints(axes)], shape, { keepdims: 1 });
  }

  reshape(x: Value, shape: number[]): Value {
    return this.op('Reshape', [x, this.ints(shape)], shape);
  }

  expand(x: Value, shape: number[]): Value {
    return this.op('Expand', [x, this.ints(shape)], shape);
  }

  transpose(x: Value, perm: number[]): Value {
    return this.op('Transpose', [x], perm.map((p) => x.shape[p]), { perm });
  }

  /** Sums a broadcast gradient back to the shape of the input it came from. */
  unbroadcast(dy: Value, target: Value): Value {
    const out = shapeOf(dy);
    const want = shapeOf(target);
    if (out.length === want.length && out.every((d, i) => d === want[i])) return dy;
    const padded = [...new Array(out.length - want.length).fill(1), ...want];
    const axes = out.map((d, i) => (padded[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
    const summed = axes.length ? this.sumKeep(dy, axes) : dy;
    return out.length === want.length ? summed : this.reshape(summed, want);
  }
}

function broadcastShape(a: Value, b: Value): number[] {
  const x = shapeOf(a);
  const y = shapeOf(b);
  const rank = Math.max(x.length, y.length);
  const pad = (s: number[]): number[] => [...new Array(rank - s.length).fill(1), ...s];
  const [px, py] = [pad(x), pad(y)];
  return px.map((d, i) => Math.max(d, py[i]));
}

const attrInts = (node: NodeRecord, key: string, fallback: number[]): number[] => (node.attrs[key] as number[] | undefined) ?? fallback;

function convGradients(ops: GradientOps, node: NodeRecord, dy: Value, wanted: boolean[]): (Value | null)[] {
  const [x, w, b] = node.inputs as Value[];
  const [n, cIn, h, wd] = shapeOf(x);
  const [cOut, inPerGroup, kh, kw] = shapeOf(w);
  const [, , hy, wy] = shapeOf(dy);
  const [stride] = attrInts(node, 'strides', [1, 1]);
  const [pad] = attrInts(node, 'pads', [0, 0, 0, 0]);
  const [dilation] = attrInts(node, 'dilations', [1, 1]);
  if ((node.attrs.group ?? 1) !== 1 || cIn !== inPerGroup) throw new ModelBuildError(node.layer, 'no gradient rule for grouped convolution');
  if (dilation !== 1) throw new ModelBuildError(node.layer, 'no gradient rule for dilated convolution');
  const grads: (Value | null)[] = [null, null, null];

  if (wanted[0] && stride === 1 && kh > 1 && pad < kh && pad < kw) {
    // Stride 1: dx is dy convolved with the kernel flipped in space and in/out channels swapped,
    // which onnxruntime's CPU EP runs ~1.4× faster than the ConvTranspose below.
    const flipped = ops.op('Slice', [ops.transpose(w, [1, 0, 2, 3]), ops.ints([-1, -1]), ops.ints([-kh - 1, -kw - 1]), ops.ints([2, 3]), ops.ints([-1, -1])], [cIn, cOut, kh, kw]);
    grads[0] = ops.op('Conv', [dy, flipped], [n, cIn, h, wd], { kernel_shape: [kh, kw], strides: [1, 1], pads: [kh - 1 - pad, kw - 1 - pad, kh - 1 - pad, kw - 1 - pad] });
  } else if (wanted[0]) {
    // dx is the transposed convolution of dy with the same kernel; output_padding restores the
    // rows a strided window skipped at the end.
    const outPad = [h - ((hy - 1) * stride + kh - 2 * pad), wd - ((wy - 1) * stride + kw - 2 * pad)];
    grads[0] = ops.op('ConvTranspose', [dy, w], [n, cIn, h, wd], {
      kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad], output_padding: outPad,
    });
  }
  if (wanted[1]) {
    // dW[:, :, ky, kx] = dy · x(ky, kx)ᵀ over all positions, where x(ky, kx) is the padded input
    // seen through the kernel tap (ky, kx) with the stride: one matrix product per tap. (As one
    // convolution of the input with dy as a kernel the same sums ran 2–2.5× slower on
    // onnxruntime's CPU EP: a thin product per input channel.)
    const positions = n * hy * wy;
    const dy2 = ops.reshape(ops.transpose(dy, [1, 0, 2, 3]), [cOut, positions]);
    const padded = pad > 0 ? ops.op('Pad', [x, ops.ints([0, 0, pad, pad, 0, 0, pad, pad])], [n, cIn, h + 2 * pad, wd + 2 * pad]) : x;
    const taps: Value[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const whole = kh === 1 && kw === 1 && stride === 1 && pad === 0;
        const tap = whole ? x : ops.op('Slice', [padded, ops.ints([ky, kx]), ops.ints([ky + stride * (hy - 1) + 1, kx + stride * (wy - 1) + 1]), ops.ints([2, 3]), ops.ints([stride, stride])], [n, cIn, hy, wy]);
        const x2 = ops.reshape(ops.transpose(tap, [1, 0, 2, 3]), [cIn, positions]);
        taps.push(ops.op('Gemm', [dy2, x2], [cOut, cIn], { transB: 1 }));
      }
    }
    grads[1] = taps.length === 1
      ? ops.reshape(taps[0], [cOut, cIn, 1, 1])
      : ops.reshape(ops.op('Concat', taps.map((t) => ops.reshape(t, [cOut, cIn, 1])), [cOut, cIn, kh * kw], { axis: 2 }), [cOut, cIn, kh, kw]);
  }
  if (b && wanted[2]) grads[2] = ops.reshape(ops.sumKeep(dy, [0, 2, 3]), [cOut]);
  return grads;
}

function reduceGradient(ops: GradientOps, node: NodeRecord, dy: Value, scale: boolean): Value {
  const x = node.inputs[0] as Value;
  const shape = shapeOf(x);
  const axes = node.op === 'ReduceSum'
    ? ops.g.constantDataInt(node.inputs[1]?.name ?? '') ?? []
    : attrInts(node, 'axes', shape.map((_, i) => i));
  const all = axes.length === 0 ? shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + shape.length : a));
  const keep = shape.map((d, i) => (all.includes(i) ? 1 : d));
  const kept = node.attrs.keepdims === 0 ? ops.reshape(dy, keep) : dy;
  const grad = ops.expand(kept, shape);
  if (!scale) return grad;
  const count = all.reduce((a, i) => a * shape[i], 1);
  return ops.mul(grad, ops.scalar(1 / count), shape);
}

const RULES: Record<string, Rule> = {
  Identity: (_ops, _node, dy) => [dy],
  Add: (ops, node, dy) => node.inputs.map((v) => ops.unbroadcast(dy, v!)),
  Sub: (ops, node, dy, wanted) => [ops.unbroadcast(dy, node.inputs[0]!), wanted[1] ? ops.unbroadcast(ops.neg(dy), node.inputs[1]!) : null],
  Mul: (ops, node, dy, wanted) => {
    const [a, b] = node.inputs as Value[];
    return [wanted[0] ? ops.unbroadcast(ops.mul(dy, b), a) : null, wanted[1] ? ops.unbroadcast(ops.mul(dy, a), b) : null];
  },
  Div: (ops, node, dy, wanted) => {
    const [a, b] = node.inputs as Value[];
    const da = wanted[0] ? ops.unbroadcast(ops.op('Div', [dy, b], dy.shape), a) : null;
    const db = wanted[1] ? ops.unbroadcast(ops.neg(ops.mul(dy, ops.op('Div', [node.output, b], node.output.shape))), b) : null;
    return [da, db];
  },
  Neg: (ops, _node, dy) => [ops.neg(dy)],
  // Sign of a ReLU output is 1 where it passed the input and 0 where it clipped it.
  Relu: (ops, node, dy) => [ops.mul(dy, ops.op('Sign', [node.output], node.output.shape))],
  Sigmoid: (ops, node, dy) => {
    const y = node.output;
    const oneMinus = ops.op('Sub', [ops.scalar(1), y], y.shape);
    return [ops.mul(ops.mul(dy, y), oneMinus)];
  },
  // d softplus(x)/dx = sigmoid(x); softplus keeps log σ(x) = −softplus(−x) finite for any logit.
  Softplus: (ops, node, dy) => [ops.mul(dy, ops.op('Sigmoid', [node.inputs[0]], dy.shape))],
  Abs: (ops, node, dy) => [ops.mul(dy, ops.op('Sign', [node.inputs[0]], dy.shape))],
  Exp: (ops, node, dy) => [ops.mul(dy, node.output)],
  Log: (ops, node, dy) => [ops.op('Div', [dy, node.inputs[0]], dy.shape)],
  Sqrt: (ops, node, dy) => [ops.op('Div', [ops.mul(dy, ops.scalar(0.5)), node.output], dy.shape)],
  LogSoftmax: (ops, node, dy) => {
    const axis = Number(node.attrs.axis ?? -1);
    const y = node.output;
    const rank = y.shape.length;
    const sum = ops.sumKeep(dy, [axis < 0 ? axis + rank : axis]);
    return [ops.op('Sub', [dy, ops.mul(ops.op('Exp', [y], y.shape), sum, shapeOf(y))], y.shape)];
  },
  Softmax: (ops, node, dy) => {
    const axis = Number(node.attrs.axis ?? -1);
    const y = node.output;
    const sum = ops.sumKeep(ops.mul(dy, y), [axis < 0 ? axis + y.shape.length : axis]);
    return [ops.mul(y, ops.op('Sub', [dy, sum], y.shape))];
  },
  ReduceSum: (ops, node, dy) => [reduceGradient(ops, node, dy, false), null],
  ReduceMean: (ops, node, dy) => [reduceGradient(ops, node, dy, true)],
  Conv: convGradients,
  Resize: (ops, node, dy) => {
    // Nearest ×2 copies each input pixel into a 2×2 block: its gradient sums the block.
    const scales = ops.g.constantData(node.inputs[2]?.name ?? '');
    if (node.attrs.mode !== 'nearest' || !scales || scales[2] !== 2 || scales[3] !== 2) {
      throw new ModelBuildError(node.layer, 'gradient of Resize is implemented for nearest ×2 only');
    }
    const x = node.inputs[0] as Value;
    const pooled = ops.op('AveragePool', [dy], x.shape, { kernel_shape: [2, 2], strides: [2, 2] });
    return [ops.mul(pooled, ops.scalar(4), shapeOf(x)), null, null];
  },
  Concat: (ops, node, dy) => {
    const axis = Number(node.attrs.axis);
    let offset = 0;
    return node.inputs.map((v) => {
      const size = shapeOf(v!)[axis];
      const grad = ops.op('Slice', [dy, ops.ints([offset]), ops.ints([offset + size]), ops.ints([axis])], v!.shape);
      offset += size;
      return grad;
    });
  },
  Reshape: (ops, node, dy) => [ops.reshape(dy, shapeOf(node.inputs[0]!)), null],
  Transpose: (ops, node, dy) => {
    const perm = node.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ops.transpose(dy, inverse)];
  },
};

export const DIFFERENTIABLE_OPS = Object.keys(RULES);

import type { GraphBuilder, NodeRecord } from '../src-main/model/onnx-graph.ts';

/** A float64 tensor for reference computations. */
export interface F64 {
  data: Float64Array;
  shape: number[];
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const stridesOf = (shape: number[]): number[] => {
  const strides = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
};

function broadcast(a: F64, b: F64, f: (x: number, y: number) => number): F64 {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]): number[] => [...new Array(rank - s.length).fill(1), ...s];
  const [sa, sb] = [pad(a.shape), pad(b.shape)];
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const [ta, tb, to] = [stridesOf(sa), stridesOf(sb), stridesOf(shape)];
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const k = Math.floor(i / to[d]) % shape[d];
      if (sa[d] !== 1) ia += k * ta[d];
      if (sb[d] !== 1) ib += k * tb[d];
    }
    data[i] = f(a.data[ia], b.data[ib]);
  }
  return { data, shape };
}

const map = (x: F64, f: (v: number) => number): F64 => ({ data: x.data.map(f), shape: x.shape });

function reduce(x: F64, axes: number[], keepdims: boolean, mean: boolean): F64 {
  const all = axes.length ? axes.map((a) => (a < 0 ? a + x.shape.length : a)) : x.shape.map((_, i) => i);
  const kept = x.shape.map((d, i) => (all.includes(i) ? 1 : d));
  const [ts, tk] = [stridesOf(x.shape), stridesOf(kept)];
  const data = new Float64Array(size(kept));
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let d = 0; d < x.shape.length; d++) if (!all.includes(d)) o += (Math.floor(i / ts[d]) % x.shape[d]) * tk[d];
    data[o] += x.data[i];
  }
  const count = x.data.length / data.length;
  if (mean) for (let i = 0; i < data.length; i++) data[i] /= count;
  return { data, shape: keepdims ? kept : x.shape.filter((_, i) => !all.includes(i)) };
}

function conv(x: F64, w: F64, b: F64 | undefined, stride: number, pad: number): F64 {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let ni = 0; ni < n; ni++) for (let oi = 0; oi < o; oi++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let acc = b ? b.data[oi] : 0;
    for (let ci = 0; ci < c; ci++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = y * stride - pad + ky;
      const ix = xx * stride - pad + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      acc += x.data[((ni * c + ci) * h + iy) * wd + ix] * w.data[((oi * c + ci) * kh + ky) * kw + kx];
    }
    out[((ni * o + oi) * oh + y) * ow + xx] = acc;
  }
  return { data: out, shape: [n, o, oh, ow] };
}

function logSoftmax(x: F64, axis: number): F64 {
  const [n, c] = x.shape;
  const plane = x.data.length / (n * c);
  if (axis !== 1) throw new Error('reference LogSoftmax: axis 1 only');
  const out = new Float64Array(x.data.length);
  for (let ni = 0; ni < n; ni++) for (let p = 0; p < plane; p++) {
    let max = -Infinity;
    for (let ci = 0; ci < c; ci++) max = Math.max(max, x.data[(ni * c + ci) * plane + p]);
    let sum = 0;
    for (let ci = 0; ci < c; ci++) sum += Math.exp(x.data[(ni * c + ci) * plane + p] - max);
    for (let ci = 0; ci < c; ci++) out[(ni * c + ci) * plane + p] = x.data[(ni * c + ci) * plane + p] - max - Math.log(sum);
  }
  return { data: out, shape: x.shape };
}

function transpose(x: F64, perm: number[]): F64 {
  const shape = perm.map((p) => x.shape[p]);
  const [ts, to] = [stridesOf(x.shape), stridesOf(shape)];
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (Math.floor(i / to[d]) % shape[d]) * ts[perm[d]];
    data[i] = x.data[src];
  }
  return { data, shape };
}

function concat(inputs: F64[], axis: number): F64 {
  const outer = size(inputs[0].shape.slice(0, axis));
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((a, t) => a + t.shape[axis], 0);
  const data = new Float64Array(size(shape));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of inputs) {
      const chunk = t.data.length / outer;
      data.set(t.data.subarray(o * chunk, (o + 1) * chunk), offset);
      offset += chunk;
    }
  }
  return { data, shape };
}

function upsampleNearest2(x: F64): F64 {
  const [n, c, h, w] = x.shape;
  const data = new Float64Array(n * c * h * w * 4);
  for (let p = 0; p < n * c; p++) for (let y = 0; y < 2 * h; y++) for (let xx = 0; xx < 2 * w; xx++) {
    data[(p * 2 * h + y) * 2 * w + xx] = x.data[(p * h + (y >> 1)) * w + (xx >> 1)];
  }
  return { data, shape: [n, c, 2 * h, 2 * w] };
}

/**
 * Evaluates the first `count` nodes of a builder's graph in float64, with plain loops that share
 * nothing with onnxruntime: the independent side of the gradient checks.
 */
export function evaluateReference(g: GraphBuilder, inputs: Map<string, F64>, count = g.nodes.length): Map<string, F64> {
  const values = new Map(inputs);
  const get = (name: string): F64 => {
    const v = values.get(name);
    if (v) return v;
    const f = g.constantData(name);
    if (f) return { data: Float64Array.from(f), shape: [f.length] };
    throw new Error(`reference: no value for ${name}`);
  };
  const ints = (name: string | undefined): number[] => g.constantDataInt(name ?? '') ?? [];
  const shaped = (name: string, shape: number[]): F64 => ({ data: get(name).data, shape });
  for (const node of g.nodes.slice(0, count)) {
    const inputValue = (k: number): F64 => {
      const v = node.inputs[k]!;
      return values.has(v.name) ? get(v.name) : shaped(v.name, v.shape as number[]);
    };
    values.set(node.output.name, evaluateNode(node, inputValue, ints));
  }
  return values;
}

function evaluateNode(node: NodeRecord, input: (k: number) => F64, ints: (name: string | undefined) => number[]): F64 {
  const attrs = node.attrs as Record<string, number | number[] | string>;
  switch (node.op) {
    case 'Identity': return input(0);
    case 'Add': return broadcast(input(0), input(1), (a, b) => a + b);
    case 'Sub': return broadcast(input(0), input(1), (a, b) => a - b);
    case 'Mul': return broadcast(input(0), input(1), (a, b) => a * b);
    case 'Div': return broadcast(input(0), input(1), (a, b) => a / b);
    case 'Neg': return map(input(0), (v) => -v);
    case 'Relu': return map(input(0), (v) => Math.max(0, v));
    case 'Sigmoid': return map(input(0), (v) => 1 / (1 + Math.exp(-v)));
    case 'Exp': return map(input(0), Math.exp);
    case 'Softplus': return map(input(0), (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))));
    case 'Abs': return map(input(0), Math.abs);
    case 'Log': return map(input(0), Math.log);
    case 'Sqrt': return map(input(0), Math.sqrt);
    case 'LogSoftmax': return logSoftmax(input(0), Number(attrs.axis));
    case 'Softmax': return map(logSoftmax(input(0), Number(attrs.axis)), Math.exp);
    case 'ReduceSum': return reduce(input(0), ints(node.inputs[1]?.name), attrs.keepdims !== 0, false);
    case 'ReduceMean': return reduce(input(0), (attrs.axes as number[]) ?? [], attrs.keepdims !== 0, true);
    case 'Conv': {
      const [stride] = (attrs.strides as number[]) ?? [1];
      const [pad] = (attrs.pads as number[]) ?? [0];
      return conv(input(0), input(1), node.inputs[2] ? input(2) : undefined, stride, pad);
    }
    case 'Resize': return upsampleNearest2(input(0));
    case 'Concat': return concat(node.inputs.map((_, k) => input(k)), Number(attrs.axis));
    case 'Reshape': return { data: input(0).data, shape: ints(node.inputs[1]?.name) };
    case 'Transpose': return transpose(input(0), attrs.perm as number[]);
    default: throw new Error(`reference: ${node.op} is not implemented`);
  }
}

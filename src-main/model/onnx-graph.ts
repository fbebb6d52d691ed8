import onnxProto from 'onnx-proto';
import { ArgusError } from '../contract/errors.ts';

const { onnx } = onnxProto;
const TensorType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

export const OPSET = 17;

/**
 * A dimension: a fixed size, or a symbol (batch "N", image "H"/"W") divided by a known factor,
 * e.g. {sym: 'H', div: 8} for a stride-8 feature map of an H×W input (H a multiple of 32).
 */
export type Dim = number | { sym: string; div: number };
export type DType = 'float32' | 'float16' | 'uint8' | 'int64';

export interface Value {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export type AttributeValue = number | string | number[] | { floats: number[] };

/** A node as the builder recorded it, with typed inputs (what reverse-mode differentiation walks). */
export interface NodeRecord {
  op: string;
  inputs: (Value | null)[];
  output: Value;
  attrs: Record<string, AttributeValue>;
  layer: string;
}

/** A float initialiser that became a graph input because it is trained; `data` is its initial value. */
export interface Parameter {
  value: Value;
  data: Float32Array;
}

const ONNX_DTYPE: Record<DType, number> = {
  float32: TensorType.FLOAT,
  float16: TensorType.FLOAT16,
  uint8: TensorType.UINT8,
  int64: TensorType.INT64,
};

export class ModelBuildError extends ArgusError {
  constructor(layer: string, message: string) {
    super('bad_input', `Model layer ${layer}: ${message}`);
  }
}

export const dimText = (d: Dim): string => (typeof d === 'number' ? String(d) : d.div === 1 ? d.sym : `${d.sym}/${d.div}`);
export const shapeText = (s: Dim[]): string => `[${s.map(dimText).join(', ')}]`;
const sameDim = (a: Dim, b: Dim): boolean =>
  typeof a === 'number' || typeof b === 'number' ? a === b : a.sym === b.sym && a.div === b.div;

/** Output size of a sliding window (conv/pool) along one dimension. */
function windowDim(layer: string, d: Dim, kernel: number, stride: number, padBegin: number, padEnd: number, dilation = 1): Dim {
  const span = dilation * (kernel - 1) + 1;
  if (typeof d === 'number') return Math.floor((d + padBegin + padEnd - span) / stride) + 1;
  // Symbolic sizes are multiples of 32 of the input; only "same"-style windows keep them exact.
  // floor((d + pads - span) / stride) + 1 = d / stride for every multiple d of the stride iff:
  const slack = padBegin + padEnd - span;
  if (!(slack >= -stride && slack < 0)) {
    throw new ModelBuildError(layer, `kernel ${kernel}, stride ${stride}, padding ${padBegin}+${padEnd} does not map ${dimText(d)} exactly`);
  }
  return { sym: d.sym, div: d.div * stride };
}

/**
 * Builds an ONNX model with shape checking at every step. Node names follow the layer names of
 * the network (e.g. "layer3.2.conv2"), so errors and profiles point at the layer.
 */
export class GraphBuilder {
  private readonly protoNodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly names = new Set<string>();
  private readonly metadata: Record<string, string> = {};
  private readonly records: NodeRecord[] = [];
  private readonly params: Parameter[] = [];
  private readonly constants = new Map<string, Float32Array | BigInt64Array>();
  readonly name: string;
  private readonly trainable: (name: string) => boolean;

  /**
   * `trainable` picks float initialisers that become graph inputs instead (a training step feeds
   * their current values); they are listed by `parameters`.
   */
  constructor(name: string, options: { trainable?: (name: string) => boolean } = {}) {
    this.name = name;
    this.trainable = options.trainable ?? (() => false);
  }

  /** Nodes in the order they were added (a topological order). */
  get nodes(): readonly NodeRecord[] {
    return this.records;
  }

  get parameters(): readonly Parameter[] {
    return this.params;
  }

  /** The value of a float initialiser added by this builder (undefined for anything else). */
  constantData(name: string): Float32Array | undefined {
    const data = this.constants.get(name);
    return data instanceof Float32Array ? data : undefined;
  }

  /** The values of an int64 initialiser added by this builder. */
  constantDataInt(name: string): number[] | undefined {
    const data = this.constants.get(name);
    return data instanceof BigInt64Array ? Array.from(data, Number) : undefined;
  }

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: Dim[]): Value {
    const value = { name: this.unique(name), dtype, shape };
    this.inputs.push(value);
    return value;
  }

  output(value: Value, name?: string): Value {
    const out = name && name !== value.name ? this.node('Identity', [value], {}, value.shape, name, value.dtype, name) : value;
    this.outputs.push(out);
    return out;
  }

  setMetadata(key: string, value: string): void {
    this.metadata[key] = value;
  }

  initializer(name: string, data: Float32Array | BigInt64Array | Uint8Array, dims: number[], dtype: DType = 'float32'): Value {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new ModelBuildError(name, `initializer has ${data.length} values for shape [${dims}]`);
    if (data instanceof Float32Array && this.trainable(name)) {
      const value = this.input(name, 'float32', dims);
      this.params.push({ value, data });
      return value;
    }
    const value = { name: this.unique(name), dtype, shape: dims };
    if (data instanceof Float32Array || data instanceof BigInt64Array) this.constants.set(value.name, data);
    this.initializers.push({
      name: value.name,
      dims,
      dataType: ONNX_DTYPE[dtype],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return value;
  }

  constFloats(name: string, values: number[], dims = [values.length]): Value {
    return this.initializer(name, Float32Array.from(values), dims);
  }

  constInts(name: string, values: number[]): Value {
    return this.initializer(name, BigInt64Array.from(values.map(BigInt)), [values.length], 'int64');
  }

  /** Adds a node; `shape` is its (checked by the caller) output shape. */
  node(op: string, inputs: (Value | null)[], attrs: Record<string, AttributeValue>, shape: Dim[], layer: string, dtype: DType = 'float32', outName?: string): Value {
    const output = { name: this.unique(outName ?? `${layer}:${op}`), dtype, shape };
    this.records.push({ op, inputs, output, attrs, layer });
    this.protoNodes.push({
      name: this.unique(`${layer}/${op}`),
      opType: op,
      input: inputs.map((v) => (v ? v.name : '')),
      output: [output.name],
      attribute: Object.entries(attrs).map(([key, v]) => attribute(key, v)),
    });
    return output;
  }

  // ---- Typed layer helpers (NCHW float tensors) ----

  conv(layer: string, x: Value, weight: Value, bias: Value | null, opts: { stride?: number; pad?: number; group?: number; dilation?: number } = {}): Value {
    const { stride = 1, pad = 0, group = 1, dilation = 1 } = opts;
    const [n, c, h, w] = this.expectRank(layer, x, 4);
    const [outChannels, inPerGroup, kh, kw] = weight.shape as number[];
    if (weight.shape.length !== 4) throw new ModelBuildError(layer, `weight must be 4-D, got ${shapeText(weight.shape)}`);
    if (c !== inPerGroup * group) throw new ModelBuildError(layer, `input has ${dimText(c)} channels, weight expects ${inPerGroup * group}`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) {
      throw new ModelBuildError(layer, `bias ${shapeText(bias.shape)} does not match ${outChannels} output channels`);
    }
    const shape = [n, outChannels, windowDim(layer, h, kh, stride, pad, pad, dilation), windowDim(layer, w, kw, stride, pad, pad, dilation)];
    return this.node('Conv', bias ? [x, weight, bias] : [x, weight], {
      kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [dilation, dilation], group,
    }, shape, layer);
  }

  relu(layer: string, x: Value): Value {
    return this.node('Relu', [x], {}, x.shape, layer);
  }

  sigmoid(layer: string, x: Value): Value {
    return this.node('Sigmoid', [x], {}, x.shape, layer);
  }

  add(layer: string, a: Value, b: Value): Value {
    this.expectSameShape(layer, a, b);
    return this.node('Add', [a, b], {}, a.shape, layer);
  }

  maxPool(layer: string, x: Value, kernel: number, stride: number, pad: number): Value {
    const [n, c, h, w] = this.expectRank(layer, x, 4);
    const shape = [n, c, windowDim(layer, h, kernel, stride, pad, pad), windowDim(layer, w, kernel, stride, pad, pad)];
    return this.node('MaxPool', [x], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] }, shape, layer);
  }

  averagePool(layer: string, x: Value, kernel: number, stride: number, pad: number): Value {
    const [n, c, h, w] = this.expectRank(layer, x, 4);
    const shape = [n, c, windowDim(layer, h, kernel, stride, pad, pad), windowDim(layer, w, kernel, stride, pad, pad)];
    return this.node('AveragePool', [x], {
      kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], count_include_pad: 0,
    }, shape, layer);
  }

  globalAveragePool(layer: string, x: Value): Value {
    const [n, c] = this.expectRank(layer, x, 4);
    return this.node('GlobalAveragePool', [x], {}, [n, c, 1, 1], layer);
  }

  flatten(layer: string, x: Value): Value {
    const [n, ...rest] = x.shape;
    if (!rest.every((d) => typeof d === 'number')) throw new ModelBuildError(layer, `cannot flatten symbolic ${shapeText(x.shape)}`);
    return this.node('Flatten', [x], { axis: 1 }, [n, (rest as number[]).reduce((a, b) => a * b, 1)], layer);
  }

  /** y = x · Wᵀ + b, as torch.nn.Linear (W is [out, in]). */
  linear(layer: string, x: Value, weight: Value, bias: Value): Value {
    const [n, features] = this.expectRank(layer, x, 2);
    const [out, inFeatures] = weight.shape as number[];
    if (features !== inFeatures) throw new ModelBuildError(layer, `input has ${dimText(features)} features, weight expects ${inFeatures}`);
    return this.node('Gemm', [x, weight, bias], { transB: 1 }, [n, out], layer);
  }

  /**
   * Upsampling by an integer factor, as PyTorch's F.interpolate: mode "nearest", or "bilinear"
   * with align_corners=False.
   */
  upsample(layer: string, x: Value, factor: number, mode: 'nearest' | 'bilinear'): Value {
    const [n, c, h, w] = this.expectRank(layer, x, 4);
    const up = (d: Dim): Dim => {
      if (typeof d === 'number') return d * factor;
      if (d.div % factor !== 0) throw new ModelBuildError(layer, `cannot upsample ${dimText(d)} by ${factor}`);
      return { sym: d.sym, div: d.div / factor };
    };
    const scales = this.constFloats(`${layer}.scales`, [1, 1, factor, factor]);
    const attributes: Record<string, AttributeValue> = mode === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
    return this.node('Resize', [x, null, scales], attributes, [n, c, up(h), up(w)], layer);
  }

  /** Concatenation along the channel axis of same-sized NCHW maps. */
  concatChannels(layer: string, inputs: Value[]): Value {
    const [n, , h, w] = this.expectRank(layer, inputs[0], 4);
    let channels = 0;
    for (const x of inputs) {
      const [xn, c, xh, xw] = this.expectRank(layer, x, 4);
      if (!sameDim(xn, n) || !sameDim(xh, h) || !sameDim(xw, w)) throw new ModelBuildError(layer, `cannot concatenate ${shapeText(x.shape)} with ${shapeText(inputs[0].shape)}`);
      if (typeof c !== 'number') throw new ModelBuildError(layer, 'channel counts must be fixed');
      channels += c;
    }
    return this.node('Concat', inputs, { axis: 1 }, [n, channels, h, w], layer);
  }

  cast(layer: string, x: Value, to: DType): Value {
    return this.node('Cast', [x], { to: ONNX_DTYPE[to] }, x.shape, layer, to);
  }

  transpose(layer: string, x: Value, perm: number[]): Value {
    return this.node('Transpose', [x], { perm }, perm.map((p) => x.shape[p]), layer, x.dtype);
  }

  /** Elementwise op with a broadcast constant (e.g. per-channel [1, C, 1, 1]). */
  binaryConst(layer: string, op: 'Sub' | 'Mul' | 'Div', x: Value, constant: Value): Value {
    return this.node(op, [x, constant], {}, x.shape, layer);
  }

  expectRank(layer: string, x: Value, rank: number): Dim[] {
    if (x.shape.length !== rank) throw new ModelBuildError(layer, `expects a ${rank}-D input, got ${shapeText(x.shape)}`);
    return x.shape;
  }

  expectSameShape(layer: string, a: Value, b: Value): void {
    if (a.shape.length !== b.shape.length || !a.shape.every((d, i) => sameDim(d, b.shape[i]))) {
      throw new ModelBuildError(layer, `shapes differ: ${shapeText(a.shape)} vs ${shapeText(b.shape)}`);
    }
  }

  /** Serialises the model (ONNX IR 8, opset 17). */
  toBytes(): Uint8Array {
    const valueInfo = (v: Value): onnxProto.onnx.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: ONNX_DTYPE[v.dtype],
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: dimText(d) })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'argus',
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.protoNodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

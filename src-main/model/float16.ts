import onnxProto from 'onnx-proto';
import { decodeModel, initializerFloats } from './onnx-model.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** float32 → IEEE half bits (round to nearest even; overflow to ±∞, underflow through subnormals). */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const rounded = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (rounded + (rest > 0x1000 || (rest === 0x1000 && rounded & 1) ? 1 : 0));
}

/** Ops that keep float32 arithmetic in a half-precision model (their float input positions). */
const KEEP_FLOAT32: Record<string, number[]> = {
  Softmax: [0], LogSoftmax: [0], ReduceMean: [0], ReduceSum: [0], ReduceSumSquare: [0], ReduceMax: [0], ReduceMin: [0],
  ReduceL2: [0], MatMul: [0, 1], Gemm: [0, 1, 2], Exp: [0], Log: [0], Pow: [0], Sqrt: [0],
};

const cast = (name: string, input: string, output: string, to: number): onnxProto.onnx.INodeProto =>
  ({ opType: 'Cast', name, input: [input], output: [output], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }] });

/**
 * Converts a float32 model to float16 for GPU execution providers: weights become half precision
 * (half the memory), activations run in half precision, and casts at the graph's float inputs
 * and outputs keep its interface float32. Resize scales stay float32, as ONNX requires; reductions,
 * distances (MatMul, Gemm), softmax and exponentials compute in float32.
 */
export function convertToFloat16(modelBytes: Uint8Array): Uint8Array {
  const model = decodeModel(modelBytes);
  const graph = model.graph!;
  const keepFloat32 = new Set<string>();
  for (const node of graph.node ?? []) if (node.opType === 'Resize' && node.input?.[2]) keepFloat32.add(node.input[2]);

  for (const tensor of graph.initializer ?? []) {
    if (tensor.dataType !== FLOAT || keepFloat32.has(tensor.name!)) continue;
    const values = initializerFloats(tensor);
    const halves = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) halves[i] = toHalfBits(values[i]);
    tensor.dataType = FLOAT16;
    tensor.rawData = new Uint8Array(halves.buffer);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Cast') continue;
    for (const attribute of node.attribute ?? []) if (attribute.name === 'to' && Number(attribute.i) === FLOAT) attribute.i = FLOAT16;
  }

  // Numerically sensitive ops read float32 copies of their float inputs and hand back half.
  const guarded: onnxProto.onnx.INodeProto[] = [];
  for (const node of graph.node ?? []) {
    const floatInputs = KEEP_FLOAT32[node.opType!];
    if (!floatInputs) {
      guarded.push(node);
      continue;
    }
    node.input = node.input!.map((name, i) => {
      if (!floatInputs.includes(i) || !name) return name;
      guarded.push(cast(`${node.name}/in${i}_to_fp32`, name, `${name}:fp32:${node.name}`, FLOAT));
      return `${name}:fp32:${node.name}`;
    });
    const outputs = node.output!;
    node.output = outputs.map((name) => `${name}:fp32`);
    guarded.push(node, ...outputs.map((name) => cast(`${node.name}/${name}_to_fp16`, `${name}:fp32`, name, FLOAT16)));
  }
  graph.node = guarded;

  const castsIn: onnxProto.onnx.INodeProto[] = [];
  for (const input of graph.input ?? []) {
    if (input.type?.tensorType?.elemType !== FLOAT) continue;
    const renamed = `${input.name}:fp16`;
    for (const node of graph.node ?? []) node.input = node.input!.map((n) => (n === input.name ? renamed : n));
    castsIn.push(cast(`${input.name}/to_fp16`, input.name!, renamed, FLOAT16));
  }
  const castsOut: onnxProto.onnx.INodeProto[] = [];
  for (const output of graph.output ?? []) {
    if (output.type?.tensorType?.elemType !== FLOAT) continue;
    const renamed = `${output.name}:fp16`;
    for (const node of graph.node ?? []) node.output = node.output!.map((n) => (n === output.name ? renamed : n));
    castsOut.push(cast(`${output.name}/to_fp32`, renamed, output.name!, FLOAT));
  }
  graph.node = [...castsIn, ...(graph.node ?? []), ...castsOut];
  model.metadataProps = [...(model.metadataProps ?? []).filter((p) => p.key !== 'argus.precision'), { key: 'argus.precision', value: 'fp16' }];
  return onnx.ModelProto.encode(model).finish();
}

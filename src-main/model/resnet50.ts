import { ArgusError } from '../contract/errors.ts';
import { type Float32Tensor, SafetensorsFile } from './safetensors.ts';
import { type Dim, GraphBuilder, type Value } from './onnx-graph.ts';

/** Bottleneck blocks per stage, widths and expansion of ResNet-50 (torchvision "v1.5" layout). */
export const RESNET50_STAGES = [
  { name: 'layer1', blocks: 3, width: 64, stride: 1 },
  { name: 'layer2', blocks: 4, width: 128, stride: 2 },
  { name: 'layer3', blocks: 6, width: 256, stride: 2 },
  { name: 'layer4', blocks: 3, width: 512, stride: 2 },
] as const;
const EXPANSION = 4;

/** The stages' outputs as heads name them (C2…C5), their channels and their strides in input pixels. */
export const STAGE_KEYS = ['c2', 'c3', 'c4', 'c5'] as const;
export const STAGE_CHANNELS = [256, 512, 1024, 2048];
export const STAGE_STRIDES = [4, 8, 16, 32];

/** How raw RGB pixels (0–255) become network input: x = (pixel − mean) / std, per channel, in RGB order. */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
  /** Channel order the weights expect. */
  color: 'RGB' | 'BGR';
}

export const TORCHVISION_NORMALIZATION: Normalization = {
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
  color: 'RGB',
};

export interface BackboneWeights {
  tensors: SafetensorsFile;
  normalization: Normalization;
  bnEps: number;
  hasClassifier: boolean;
}

/** Every tensor of a torchvision ResNet-50 state_dict (without num_batches_tracked) and its shape. */
export function resnet50TensorShapes(withClassifier: boolean): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const bn = (prefix: string, c: number): void => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${prefix}.${p}`, [c]);
  };
  shapes.set('conv1.weight', [64, 3, 7, 7]);
  bn('bn1', 64);
  let inChannels = 64;
  for (const stage of RESNET50_STAGES) {
    for (let b = 0; b < stage.blocks; b++) {
      const p = `${stage.name}.${b}`;
      const out = stage.width * EXPANSION;
      shapes.set(`${p}.conv1.weight`, [stage.width, inChannels, 1, 1]);
      bn(`${p}.bn1`, stage.width);
      shapes.set(`${p}.conv2.weight`, [stage.width, stage.width, 3, 3]);
      bn(`${p}.bn2`, stage.width);
      shapes.set(`${p}.conv3.weight`, [out, stage.width, 1, 1]);
      bn(`${p}.bn3`, out);
      if (b === 0) {
        shapes.set(`${p}.downsample.0.weight`, [out, inChannels, 1, 1]);
        bn(`${p}.downsample.1`, out);
      }
      inChannels = out;
    }
  }
  if (withClassifier) {
    shapes.set('fc.weight', [1000, 2048]);
    shapes.set('fc.bias', [1000]);
  }
  return shapes;
}

function parseTriple(text: string | undefined, what: string): [number, number, number] | undefined {
  if (text === undefined) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    throw new ArgusError('bad_input', `Weights metadata "${what}" is not a JSON list: ${text}`);
  }
  if (!Array.isArray(values) || values.length !== 3 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ArgusError('bad_input', `Weights metadata "${what}" must be three numbers, got ${text}`);
  }
  return values as [number, number, number];
}

/** Input normalisation from the file's __metadata__ (mean, std, input_scale, input_color), torchvision's otherwise. */
export function normalizationFromMetadata(meta: Record<string, string>): Normalization {
  const mean = parseTriple(meta.mean, 'mean');
  const std = parseTriple(meta.std, 'std');
  if (!mean && !std) return { ...TORCHVISION_NORMALIZATION, color: meta.input_color === 'BGR' ? 'BGR' : 'RGB' };
  const scale = meta.input_scale === '0-1' ? 255 : 1;
  if (meta.input_scale !== undefined && meta.input_scale !== '0-1' && meta.input_scale !== '0-255') {
    throw new ArgusError('bad_input', `Weights metadata input_scale must be "0-1" or "0-255", got ${meta.input_scale}`);
  }
  const m = mean ?? [0, 0, 0];
  const s = std ?? [1, 1, 1];
  if (s.some((v) => v <= 0)) throw new ArgusError('bad_input', `Weights metadata std must be positive, got ${meta.std}`);
  const bgr = meta.input_color === 'BGR';
  const rgbOrder = (v: [number, number, number]): [number, number, number] => (bgr ? [v[2], v[1], v[0]] : v).map((x) => x * scale) as [number, number, number];
  return { mean: rgbOrder(m), std: rgbOrder(s), color: bgr ? 'BGR' : 'RGB' };
}

/**
 * Opens and validates ResNet-50 weights with torchvision/timm names. Every tensor must be present
 * with its exact shape; otherwise the error lists what is missing or wrong.
 */
export function loadResNet50Weights(path: string): BackboneWeights {
  const file = SafetensorsFile.read(path);
  const problems: string[] = [];
  const missing: string[] = [];
  for (const [name, shape] of resnet50TensorShapes(false)) {
    const entry = file.tensors.get(name);
    if (!entry) missing.push(name);
    else if (entry.shape.join(',') !== shape.join(',')) problems.push(`${name} is [${entry.shape}], expected [${shape}]`);
  }
  if (missing.length || problems.length) {
    const parts = [];
    if (missing.length) parts.push(`${missing.length} tensors missing (e.g. ${missing.slice(0, 3).join(', ')})`);
    if (problems.length) parts.push(`${problems.length} with the wrong shape (${problems.slice(0, 3).join('; ')})`);
    throw new ArgusError('bad_input', `${path} is not a ResNet-50 with torchvision names: ${parts.join(', ')}`, { key: 'notResNet50', params: { path } });
  }
  const hasClassifier = ['fc.weight', 'fc.bias'].every((n) => file.has(n)) && file.tensors.get('fc.weight')!.shape.join(',') === '1000,2048';
  const eps = file.metadata.bn_eps === undefined ? 1e-5 : Number(file.metadata.bn_eps);
  if (!(eps > 0 && eps < 1)) throw new ArgusError('bad_input', `Weights metadata bn_eps is invalid: ${file.metadata.bn_eps}`);
  return { tensors: file, normalization: normalizationFromMetadata(file.metadata), bnEps: eps, hasClassifier };
}

export interface BackboneStages {
  c2: Value;
  c3: Value;
  /** C4 and C5 are absent when the network stops earlier. */
  c4?: Value;
  c5?: Value;
}

/** Conv weight with its BatchNorm folded in: W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε). */
export function foldBatchNorm(conv: Float32Tensor, weights: BackboneWeights, bnPrefix: string): { weight: Float32Tensor; bias: Float32Array } {
  const t = weights.tensors;
  const gamma = t.float32(`${bnPrefix}.weight`).data;
  const beta = t.float32(`${bnPrefix}.bias`).data;
  const mean = t.float32(`${bnPrefix}.running_mean`).data;
  const variance = t.float32(`${bnPrefix}.running_var`).data;
  const outChannels = conv.dims[0];
  const perChannel = conv.data.length / outChannels;
  const weight = new Float32Array(conv.data.length);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + weights.bnEps);
    for (let i = 0; i < perChannel; i++) weight[o * perChannel + i] = conv.data[o * perChannel + i] * scale;
    bias[o] = beta[o] - mean[o] * scale;
  }
  return { weight: { data: weight, dims: conv.dims }, bias };
}

/**
 * Conv + folded BatchNorm. `tuned` holds already-folded weights that replace the backbone's (a
 * fine-tuned model version); the initialiser names are the conv's, e.g. "layer3.0.conv1.weight".
 */
function convBn(g: GraphBuilder, weights: BackboneWeights, x: Value, convName: string, bnName: string, stride: number, pad: number, tuned: TensorLookup, conv = weights.tensors.float32(`${convName}.weight`)): Value {
  const tunedWeight = tuned(`${convName}.weight`);
  const tunedBias = tuned(`${convName}.bias`);
  const folded = tunedWeight && tunedBias ? { weight: tunedWeight, bias: tunedBias.data } : foldBatchNorm(conv, weights, bnName);
  const w = g.initializer(`${convName}.weight`, folded.weight.data, folded.weight.dims);
  const b = g.initializer(`${convName}.bias`, folded.bias, [folded.bias.length]);
  return g.conv(convName, x, w, b, { stride, pad });
}

/** Named float tensors; undefined for a name it does not hold. */
export type TensorLookup = (name: string) => Float32Tensor | undefined;
const NONE: TensorLookup = () => undefined;

/**
 * The graph's image input and its normalisation. 'pixels' takes uint8 RGB NHWC straight from the
 * decoder (cast, transpose and normalisation run inside the graph, on the same EP); 'normalized'
 * takes a ready float NCHW tensor (used by the golden reference test).
 */
export function imageInput(g: GraphBuilder, kind: 'pixels' | 'normalized', normalization: Normalization): { input: Value; x: Value } {
  const N: Dim = { sym: 'N', div: 1 };
  const H: Dim = { sym: 'H', div: 1 };
  const W: Dim = { sym: 'W', div: 1 };
  if (kind === 'normalized') {
    const input = g.input('input', 'float32', [N, 3, H, W]);
    return { input, x: input };
  }
  const input = g.input('image', 'uint8', [N, H, W, 3]);
  const asFloat = g.cast('preprocess', input, 'float32');
  const nchw = g.transpose('preprocess', asFloat, [0, 3, 1, 2]);
  const centred = g.binaryConst('preprocess', 'Sub', nchw, g.constFloats('preprocess.mean', [...normalization.mean], [1, 3, 1, 1]));
  const x = g.binaryConst('preprocess', 'Mul', centred, g.constFloats('preprocess.inv_std', normalization.std.map((s) => 1 / s), [1, 3, 1, 1]));
  return { input, x };
}

/**
 * ResNet-50 body (stem + layer1..layer4), returning C2..C5; with fewer `stages` it stops early
 * (heads that need nothing deeper skip that compute). The input is RGB-ordered.
 */
export function buildResNet50(g: GraphBuilder, weights: BackboneWeights, x: Value, stages: 2 | 3 | 4 = 4, tuned: TensorLookup = NONE): BackboneStages {
  let conv1 = weights.tensors.float32('conv1.weight');
  if (weights.normalization.color === 'BGR') conv1 = swapInputChannels(conv1);
  let h = g.relu('stem', convBn(g, weights, x, 'conv1', 'bn1', 2, 3, tuned, conv1));
  h = g.maxPool('stem.maxpool', h, 3, 2, 1);
  const outputs: Value[] = [];
  for (let stage = 0; stage < stages; stage++) {
    h = buildResNetStage(g, weights, h, stage, tuned);
    outputs.push(h);
  }
  const [c2, c3, c4, c5] = outputs;
  return { c2, c3, c4, c5 };
}

/** One stage of bottleneck blocks (0 = layer1 … 3 = layer4) on its input feature map. */
export function buildResNetStage(g: GraphBuilder, weights: BackboneWeights, input: Value, stageIndex: number, tuned: TensorLookup = NONE): Value {
  const stage = RESNET50_STAGES[stageIndex];
  let h = input;
  for (let b = 0; b < stage.blocks; b++) {
    const p = `${stage.name}.${b}`;
    const stride = b === 0 ? stage.stride : 1;
    let y = g.relu(`${p}.conv1`, convBn(g, weights, h, `${p}.conv1`, `${p}.bn1`, 1, 0, tuned));
    y = g.relu(`${p}.conv2`, convBn(g, weights, y, `${p}.conv2`, `${p}.bn2`, stride, 1, tuned));
    y = convBn(g, weights, y, `${p}.conv3`, `${p}.bn3`, 1, 0, tuned);
    const shortcut = b === 0 ? convBn(g, weights, h, `${p}.downsample.0`, `${p}.downsample.1`, stride, 0, tuned) : h;
    h = g.relu(`${p}.out`, g.add(`${p}.residual`, y, shortcut));
  }
  return h;
}

/** The weights were trained on BGR input: permuting conv1's input channels lets the graph take RGB. */
function swapInputChannels(conv: Float32Tensor): Float32Tensor {
  const [out, inChannels, kh, kw] = conv.dims;
  const plane = kh * kw;
  const data = new Float32Array(conv.data.length);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inChannels; c++) {
      data.set(conv.data.subarray((o * inChannels + c) * plane, (o * inChannels + c + 1) * plane), (o * inChannels + (inChannels - 1 - c)) * plane);
    }
  }
  return { data, dims: conv.dims };
}

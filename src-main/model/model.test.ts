import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasShared, SHARED_DIR, SHARED_WEIGHTS, tempDir } from '../../test-support/fixtures.ts';
import { buildFpn, fpnTensorShapes, initFpnWeights } from './fpn.ts';
import { imagenetClassifierHead, initSegmentationHead, segmentationHead, stageOutputsHead } from './heads.ts';
import { buildNetwork } from './network.ts';
import { GraphBuilder, ModelBuildError } from './onnx-graph.ts';
import { type BackboneWeights, loadResNet50Weights, normalizationFromMetadata, TORCHVISION_NORMALIZATION } from './resnet50.ts';
import { halfToFloat, SafetensorsFile } from './safetensors.ts';
import { convertToFloat16, toHalfBits } from './float16.ts';

const readF32 = (path: string): Float32Array => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** A safetensors file from named float32 tensors. */
function safetensorsBytes(tensors: Record<string, { dims: number[]; data: Float32Array }>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer))]);
}

describe('safetensors', () => {
  it('converts F16 and BF16 to float32 exactly', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    const json = Buffer.from(JSON.stringify({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const file = SafetensorsFile.parse(Buffer.concat([length, json, Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f])]));
    expect([...file.float32('a').data]).toEqual([1, -2]);
    expect([...file.float32('b').data]).toEqual([1]);
  });

  it('names what is wrong with a bad weights file', () => {
    const dir = tempDir();
    try {
      const good = safetensorsBytes({ w: { dims: [4], data: new Float32Array(4) } });
      expect(() => SafetensorsFile.parse(good.subarray(0, good.length - 3), 'w.safetensors')).toThrow(/w\.safetensors is truncated: tensor w ends at byte 16/);
      expect(() => SafetensorsFile.parse(Buffer.from('PK\x03\x04 this is a zip'), 'x.pth')).toThrow(/not a valid safetensors file/);
      const other = join(dir.path, 'resnet18.safetensors');
      writeFileSync(other, safetensorsBytes({ 'conv1.weight': { dims: [64, 3, 7, 7], data: new Float32Array(64 * 3 * 49) }, 'layer1.0.conv1.weight': { dims: [64, 64, 3, 3], data: new Float32Array(64 * 64 * 9) } }));
      expect(() => loadResNet50Weights(other)).toThrow(/is not a ResNet-50 with torchvision names: \d+ tensors missing \(e\.g\. bn1\.weight.*1 with the wrong shape \(layer1\.0\.conv1\.weight is \[64,64,3,3\], expected \[64,64,1,1\]\)/);
    } finally {
      dir.cleanup();
    }
  });

  it('reads the input normalisation from metadata, torchvision’s otherwise', () => {
    expect(normalizationFromMetadata({})).toEqual(TORCHVISION_NORMALIZATION);
    expect(normalizationFromMetadata({ mean: '[123.68,116.78,103.94]', std: '[1,1,1]', input_scale: '0-255', input_color: 'RGB' }))
      .toEqual({ mean: [123.68, 116.78, 103.94], std: [1, 1, 1], color: 'RGB' });
    const scaled = normalizationFromMetadata({ mean: '[0.5,0.25,0]', std: '[0.5,0.5,1]', input_scale: '0-1', input_color: 'BGR' });
    expect(scaled).toEqual({ mean: [0, 63.75, 127.5], std: [255, 127.5, 127.5], color: 'BGR' });
    expect(() => normalizationFromMetadata({ mean: '[1,2]' })).toThrow(/must be three numbers/);
  });
});

describe('float16 conversion', () => {
  it('rounds to the nearest half, with subnormals, overflow and NaN', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(5.96e-8)).toBe(0x0001);
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    for (const v of [0.1, -3.14159, 1234.5, 6.1e-5, 1e-6]) expect(Math.abs(halfToFloat(toHalfBits(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 6e-8);
  });
});

describe('graph builder', () => {
  it('checks shapes while building and names the layer', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [1, 3, { sym: 'H', div: 1 }, { sym: 'W', div: 1 }]);
    const w = g.initializer('w', new Float32Array(8 * 4 * 9), [8, 4, 3, 3]);
    expect(() => g.conv('layer9.conv', x, w, null, { pad: 1 })).toThrow(ModelBuildError);
    expect(() => g.conv('layer9.conv', x, w, null, { pad: 1 })).toThrow(/Model layer layer9\.conv: input has 3 channels, weight expects 4/);
    const w3 = g.initializer('w3', new Float32Array(8 * 3 * 9), [8, 3, 3, 3]);
    expect(g.conv('ok', x, w3, null, { stride: 2, pad: 1 }).shape).toEqual([1, 8, { sym: 'H', div: 2 }, { sym: 'W', div: 2 }]);
    expect(() => g.conv('valid', x, w3, null, { pad: 0 })).toThrow(/does not map H exactly/);
    const a = g.input('a', 'float32', [1, 8, 4, 4]);
    const b = g.input('b', 'float32', [1, 8, 2, 2]);
    expect(() => g.add('fpn.top_down.1', a, b)).toThrow(/fpn\.top_down\.1: shapes differ: \[1, 8, 4, 4\] vs \[1, 8, 2, 2\]/);
  });
});

/** Direct convolution (zero padding), the reference for the FPN check. */
function conv2d(x: Float32Array, c: number, h: number, w: number, weight: Float32Array, bias: Float32Array, out: number, k: number, pad: number): Float32Array {
  const y = new Float32Array(out * h * w);
  for (let o = 0; o < out; o++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let s = bias[o];
    for (let ci = 0; ci < c; ci++) for (let di = 0; di < k; di++) for (let dj = 0; dj < k; dj++) {
      const yi = i + di - pad;
      const xj = j + dj - pad;
      if (yi >= 0 && yi < h && xj >= 0 && xj < w) s += x[(ci * h + yi) * w + xj] * weight[((o * c + ci) * k + di) * k + dj];
    }
    y[(o * h + i) * w + j] = s;
  }
  return y;
}

describe('feature pyramid', () => {
  it('matches a direct computation of torchvision’s FPN (laterals, top-down nearest ×2, 3×3 outputs, P6 max-pool)', async () => {
    const weights = initFpnWeights(7);
    // Small biases so that their wiring is checked too.
    for (const [name, t] of weights) if (name.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.01 * ((i % 5) - 2)));
    const g = new GraphBuilder('fpn');
    const sizes = [8, 4, 2, 1];
    const channels = [256, 512, 1024, 2048];
    const [c2, c3, c4, c5] = sizes.map((s, i) => g.input(`c${i + 2}`, 'float32', [1, channels[i], s, s]));
    const levels = buildFpn(g, { c2, c3, c4, c5 }, (n) => weights.get(n));
    for (const name of ['p2', 'p3', 'p4', 'p5', 'p6'] as const) g.output(levels[name]!, name);
    const session = await ort.InferenceSession.create(g.toBytes());
    const inputs = sizes.map((s, i) => Float32Array.from({ length: channels[i] * s * s }, (_, k) => Math.sin(k * 0.37 + i)));
    const out = await session.run(Object.fromEntries(inputs.map((data, i) => [`c${i + 2}`, new ort.Tensor('float32', data, [1, channels[i], sizes[i], sizes[i]])])));

    const get = (n: string) => weights.get(n)!.data;
    let top = conv2d(inputs[3], 2048, 1, 1, get('fpn.inner_blocks.3.0.weight'), get('fpn.inner_blocks.3.0.bias'), 256, 1, 0);
    const expected: Float32Array[] = [];
    expected[3] = conv2d(top, 256, 1, 1, get('fpn.layer_blocks.3.0.weight'), get('fpn.layer_blocks.3.0.bias'), 256, 3, 1);
    for (let i = 2; i >= 0; i--) {
      const s = sizes[i];
      const lateral = conv2d(inputs[i], channels[i], s, s, get(`fpn.inner_blocks.${i}.0.weight`), get(`fpn.inner_blocks.${i}.0.bias`), 256, 1, 0);
      const half = s / 2;
      for (let c = 0; c < 256; c++) for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
        lateral[(c * s + y) * s + x] += top[(c * half + (y >> 1)) * half + (x >> 1)];
      }
      top = lateral;
      expected[i] = conv2d(top, 256, s, s, get(`fpn.layer_blocks.${i}.0.weight`), get(`fpn.layer_blocks.${i}.0.bias`), 256, 3, 1);
    }
    ['p2', 'p3', 'p4', 'p5'].forEach((name, i) => {
      const actual = out[name].data as Float32Array;
      let maxDiff = 0;
      for (let k = 0; k < actual.length; k++) maxDiff = Math.max(maxDiff, Math.abs(actual[k] - expected[i][k]));
      expect(maxDiff, name).toBeLessThan(1e-4);
    });
    expect(out.p6.dims).toEqual([1, 256, 1, 1]);
    expect([...(out.p6.data as Float32Array)]).toEqual([...(out.p5.data as Float32Array)]);
    expect([...fpnTensorShapes().keys()]).toHaveLength(16);
    await session.release();
  });
});

describe.skipIf(!hasShared)('ResNet-50 with ImageNet weights (golden reference)', () => {
  let weights: BackboneWeights;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    weights = loadResNet50Weights(SHARED_WEIGHTS);
    const model = buildNetwork({ name: 'golden', backbone: weights, input: 'normalized', heads: [imagenetClassifierHead(weights), stageOutputsHead(['c2', 'c3', 'c4', 'c5'])] });
    session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  });
  afterAll(() => session?.release());

  it.each(['chelsea', 'coffee'])('reproduces the reference logits and stage statistics for %s', async (name) => {
    const golden = join(SHARED_DIR, 'models/golden');
    const input = readF32(join(golden, `${name}.input-1x3x224x224.f32`));
    const reference = readF32(join(golden, `${name}.logits-1000.f32`));
    const expected = JSON.parse(readFileSync(join(golden, `${name}.expected.json`), 'utf8'));
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
    const logits = out.logits.data as Float32Array;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < 1000; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits[i] - reference[i]));
      maxAbs = Math.max(maxAbs, Math.abs(reference[i]));
    }
    expect(maxDiff / maxAbs).toBeLessThanOrEqual(1e-3);
    const top1 = logits.indexOf(Math.max(...logits));
    expect(top1).toBe(expected.top5[0][0]);
    (['c2', 'c3', 'c4', 'c5'] as const).forEach((stage, i) => {
      const ref = expected.stages[`layer${i + 1}`];
      const data = out[stage].data as Float32Array;
      expect(out[stage].dims).toEqual(ref.shape);
      const mean = data.reduce((a, b) => a + b, 0) / data.length;
      expect(Math.abs(mean - ref.mean)).toBeLessThan(1e-3 * Math.abs(ref.mean) + 1e-4);
    });
  });

  it('normalises uint8 pixels inside the graph exactly as the reference preprocessing does', async () => {
    const pixelsModel = buildNetwork({ name: 'pixels', backbone: weights, input: 'pixels', heads: [stageOutputsHead(['c2'])] });
    const normalizedModel = buildNetwork({ name: 'normalized', backbone: weights, input: 'normalized', heads: [stageOutputsHead(['c2'])] });
    const [a, b] = await Promise.all([ort.InferenceSession.create(pixelsModel), ort.InferenceSession.create(normalizedModel)]);
    const h = 64, w = 96;
    const pixels = Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 37) % 256);
    const nchw = new Float32Array(3 * h * w);
    for (let c = 0; c < 3; c++) for (let p = 0; p < h * w; p++) nchw[c * h * w + p] = (pixels[p * 3 + c] - weights.normalization.mean[c]) / weights.normalization.std[c];
    const fromPixels = (await a.run({ image: new ort.Tensor('uint8', pixels, [1, h, w, 3]) })).c2.data as Float32Array;
    const fromTensor = (await b.run({ input: new ort.Tensor('float32', nchw, [1, 3, h, w]) })).c2.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < fromPixels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fromPixels[i] - fromTensor[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    await Promise.all([a.release(), b.release()]);
  });

  it('runs in half precision (fp16 weights and activations) close to the float32 reference logits', async () => {
    const model = buildNetwork({ name: 'fp16', backbone: weights, input: 'normalized', heads: [imagenetClassifierHead(weights)] });
    const half = convertToFloat16(model);
    expect(half.length).toBeLessThan(model.length * 0.55);
    const fp16 = await ort.InferenceSession.create(half, { intraOpNumThreads: 2 });
    const input = readF32(join(SHARED_DIR, 'models/golden/chelsea.input-1x3x224x224.f32'));
    const reference = readF32(join(SHARED_DIR, 'models/golden/chelsea.logits-1000.f32'));
    const logits = (await fp16.run({ input: new ort.Tensor('float32', input, [1, 3, 224, 224]) })).logits.data as Float32Array;
    expect(logits).toBeInstanceOf(Float32Array);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < 1000; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits[i] - reference[i]));
      maxAbs = Math.max(maxAbs, Math.abs(reference[i]));
    }
    expect(maxDiff / maxAbs).toBeLessThan(2e-3);
    expect(logits.indexOf(Math.max(...logits))).toBe(285);
    await fp16.release();
  });

  it('builds ResNet-50 + FPN + segmentation head with dynamic batch and size', async () => {
    const fpn = initFpnWeights(1);
    const head = initSegmentationHead(2, 2);
    const model = buildNetwork({
      name: 'seg', backbone: weights, input: 'pixels', extraTensors: (n) => fpn.get(n) ?? head.get(n), heads: [segmentationHead(2, (n) => head.get(n))],
    });
    const s = await ort.InferenceSession.create(model);
    for (const [n, h, w] of [[1, 64, 96], [2, 128, 64]]) {
      const out = await s.run({ image: new ort.Tensor('uint8', new Uint8Array(n * h * w * 3).fill(128), [n, h, w, 3]) });
      expect(out.seg_logits.dims).toEqual([n, 3, h / 4, w / 4]);
    }
    await s.release();
  });
});

// npm run bench -- [--json] [--size 512] [--batch 1] [--runs 10] [--device auto|cpu|cuda|webgpu] [--fp16 | --int8]
//                  [--weights FILE] [--image FILE] [--calib-images 16] [--method percentile|minmax] [--weight-bits 7|8]
//                  [--profile]
// Times the detector pipeline (decode → preprocess → ResNet-50 + FPN + segmentation head →
// heatmap and regions at the image's resolution) against the bare network on a ready tensor.
// --int8 times the network after static quantisation (QDQ, per-channel int8 weights), its
// activation ranges calibrated on bsdata train images resized to the bench size. --profile adds
// onnxruntime's own account of one run on the CPU provider: nodes and milliseconds per kernel type
// (QLinearConv for integer convolutions, Conv/FusedConv for float ones).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ExecutionProviderChoice } from '../src-main/contract/contract.ts';
import { decodeRgb, resizeRgb } from '../src-main/images/preprocess.ts';
import { convertToFloat16 } from '../src-main/model/float16.ts';
import { initFpnWeights } from '../src-main/model/fpn.ts';
import { initSegmentationHead, segmentationHead } from '../src-main/model/heads.ts';
import { buildNetwork } from '../src-main/model/network.ts';
import { loadResNet50Weights } from '../src-main/model/resnet50.ts';
import { extractRegions } from '../src-main/common/regions.ts';
import { resizeMap } from '../src-main/analysis/resize-map.ts';
import { defectProbability, pixelsTensor } from '../src-main/modes/segment/detector.ts';
import { createSession } from '../src-main/runtime/sessions.ts';
import { type CalibrationMethod, collectRanges } from '../src-main/optimize/calibrate.ts';
import { decodeModel } from '../src-main/model/onnx-model.ts';
import { calibrationTensors, planQuantization, quantizeModel } from '../src-main/optimize/quantize.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    size: { type: 'string', default: '512' },
    batch: { type: 'string', default: '1' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    device: { type: 'string', default: 'auto' },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
    image: { type: 'string' },
    fp16: { type: 'boolean', default: false },
    int8: { type: 'boolean', default: false },
    'calib-images': { type: 'string', default: '16' },
    method: { type: 'string', default: 'percentile' },
    'weight-bits': { type: 'string', default: '7' },
    profile: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const runs = Number(values.runs);
if (size % 32 !== 0 || !(batch >= 1) || !(runs >= 1)) throw new Error('--size must be a multiple of 32; --batch and --runs at least 1');
const log = (text: string): void => void (values.json || process.stderr.write(`${text}\n`));

/** Calibration images: bsdata's first train images, or noise when the shared data is absent. */
async function* calibrationInputs(count: number, size: number): AsyncGenerator<Record<string, ort.Tensor>> {
  const manifest = join(SHARED, 'datasets/bsdata/manifest.json');
  const samples = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { samples: { file: string; split: string }[] }).samples : [];
  const files = samples.filter((e) => e.split === 'train').slice(0, count).map((e) => join(SHARED, 'datasets/bsdata', e.file));
  for (const file of files) yield { image: pixelsTensor([await resizeRgb(await decodeRgb(readFileSync(file)), size, size)]) };
  for (let i = files.length; i < count; i++) {
    const noise = new Uint8Array(size * size * 3);
    for (let k = 0; k < noise.length; k++) noise[k] = ((k + i * 7919) * 2654435761) >>> 24;
    yield { image: new ort.Tensor('uint8', noise, [1, size, size, 3]) };
  }
}

async function benchImage(): Promise<{ bytes: Buffer; name: string }> {
  if (values.image) return { bytes: readFileSync(values.image), name: values.image };
  const dir = join(SHARED, 'datasets/bsdata/images');
  if (existsSync(dir)) {
    const name = readdirSync(dir).sort()[0];
    return { bytes: readFileSync(join(dir, name)), name: `bsdata/images/${name}` };
  }
  // No shared data: a synthetic 1130×460 JPEG of the same size as the line images.
  const noise = Buffer.alloc(1130 * 460 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return { bytes: await sharp(noise, { raw: { width: 1130, height: 460, channels: 3 } }).jpeg().toBuffer(), name: 'synthetic 1130x460 JPEG' };
}

/** Kernels onnxruntime ran for one inference on the CPU provider: count and total ms per op type. */
async function profileKernels(model: Uint8Array, feeds: Record<string, ort.Tensor>, dims: Record<string, number>): Promise<Record<string, { nodes: number; ms: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'argus-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: availableParallelism(), freeDimensionOverrides: dims,
      enableProfiling: true, profileFilePrefix: join(dir, 'profile'), logSeverityLevel: 4,
    });
    await session.run(feeds);
    session.endProfiling();
    await session.release();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    const kernels: Record<string, { nodes: number; ms: number }> = {};
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
      const k = (kernels[e.args.op_name] ??= { nodes: 0, ms: 0 });
      k.nodes++;
      k.ms = Math.round((k.ms + e.dur / 1000) * 100) / 100;
    }
    return Object.fromEntries(Object.entries(kernels).sort((a, b) => b[1].ms - a[1].ms));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const image = await benchImage();
  let t = performance.now();
  const backbone = loadResNet50Weights(values.weights);
  const fpn = initFpnWeights(1);
  const head = initSegmentationHead(1, 2);
  const built = buildNetwork({
    name: 'bench-detector', backbone, input: 'pixels',
    extraTensors: (name) => fpn.get(name) ?? head.get(name),
    heads: [segmentationHead(1, (name) => head.get(name))],
  });
  if (values.fp16 && values.int8) throw new Error('--fp16 and --int8 exclude each other');
  let model = values.fp16 ? convertToFloat16(built) : built;
  const msBuild = performance.now() - t;
  let msCalibrate = 0;
  if (values.int8) {
    t = performance.now();
    const tensors = calibrationTensors(planQuantization(decodeModel(built)));
    const ranges = await collectRanges(built, tensors, () => calibrationInputs(Number(values['calib-images']), size), values.method as CalibrationMethod);
    model = quantizeModel(built, ranges, { weightBits: Number(values['weight-bits']) === 8 ? 8 : 7 });
    msCalibrate = performance.now() - t;
    log(`int8: ${tensors.length} activations calibrated (${values.method}) and quantised in ${msCalibrate.toFixed(0)} ms`);
  }
  t = performance.now();
  const open = (bytes: Uint8Array) => createSession({
    model: bytes, provider: values.device as ExecutionProviderChoice, dims: { N: batch, H: size, W: size }, threads: availableParallelism(),
  });
  const { session, report } = await open(model);
  const msSession = performance.now() - t;
  log(`model ${(model.length / 1e6).toFixed(1)} MB built in ${msBuild.toFixed(0)} ms; session on ${report.active} in ${msSession.toFixed(0)} ms`);
  // With --int8 the float graph is timed too, alternating with the int8 one run by run, so the
  // speed-up is measured under the same conditions (this machine's speed drifts between runs).
  const reference = values.int8 ? (await open(built)).session : undefined;

  const ready = pixelsTensor(await Promise.all(Array.from({ length: batch }, async () => resizeRgb(await decodeRgb(image.bytes), size, size))));
  const newStages = () => ({ decode: [] as number[], preprocess: [] as number[], network: [] as number[], postprocess: [] as number[], e2e: [] as number[], raw: [] as number[] });
  const stage = newStages();
  const referenceStage = newStages();
  /** One end-to-end inspection of `batch` images, then the bare network on a ready tensor. */
  const timeOnce = async (on: typeof session, into: ReturnType<typeof newStages> | null): Promise<{ e2e: number; raw: number }> => {
    const t0 = performance.now();
    const decoded = await Promise.all(Array.from({ length: batch }, () => decodeRgb(image.bytes)));
    const t1 = performance.now();
    const input = pixelsTensor(await Promise.all(decoded.map((d) => resizeRgb(d, size, size))));
    const t2 = performance.now();
    const output = await on.run({ image: input });
    const t3 = performance.now();
    for (let b = 0; b < batch; b++) {
      const cells = defectProbability(output.seg_logits, b);
      const { width, height } = decoded[b];
      extractRegions(resizeMap(cells.map, cells.width, cells.height, width, height), width, height, 0.5, 16);
    }
    const t4 = performance.now();
    const r0 = performance.now();
    await on.run({ image: ready });
    const raw = performance.now() - r0;
    if (into) {
      into.decode.push(t1 - t0); into.preprocess.push(t2 - t1); into.network.push(t3 - t2);
      into.postprocess.push(t4 - t3); into.e2e.push(t4 - t0); into.raw.push(raw);
    }
    return { e2e: t4 - t0, raw };
  };
  const warmup = Number(values.warmup);
  for (let i = 0; i < warmup + runs; i++) {
    const record = i >= warmup;
    const measured = await timeOnce(session, record ? stage : null);
    if (reference) await timeOnce(reference, record ? referenceStage : null);
    log(`run ${i + 1}/${warmup + runs}${record ? '' : ' (warm-up)'}: end-to-end ${measured.e2e.toFixed(1)} ms, raw ${measured.raw.toFixed(1)} ms`);
  }
  const round = (x: number): number => Math.round(x * 100) / 100;
  const result = {
    ep: report.active,
    ep_fallbacks: report.fallbacks,
    input: `${size}x${size}`,
    precision: values.fp16 ? 'fp16' : values.int8 ? 'int8' : 'fp32',
    batch,
    runs,
    image: image.name,
    // Timing only: the head's weights are freshly initialised, so its outputs mean nothing.
    model: 'resnet50+fpn+segmentation-head',
    ms_decode: round(median(stage.decode)),
    ms_preprocess: round(median(stage.preprocess)),
    ms_network: round(median(stage.network)),
    ms_postprocess: round(median(stage.postprocess)),
    ms_end_to_end: round(median(stage.e2e)),
    ms_raw_network: round(median(stage.raw)),
    ratio_e2e_over_raw: round(median(stage.e2e) / median(stage.raw)),
    images_per_s: round((1000 * batch) / median(stage.e2e)),
    ms_model_build: round(msBuild),
    ...(values.int8 ? {
      ms_calibrate_quantize: round(msCalibrate), calibration: values.method, weight_bits: Number(values['weight-bits']),
      fp32_ms_end_to_end: round(median(referenceStage.e2e)), fp32_ms_raw_network: round(median(referenceStage.raw)), fp32_model_bytes: built.length,
      speedup_end_to_end: round(median(referenceStage.e2e) / median(stage.e2e)), speedup_raw_network: round(median(referenceStage.raw) / median(stage.raw)),
    } : {}),
    ms_session_create: round(msSession),
    model_bytes: model.length,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    threads: availableParallelism(),
  };
  await session.release();
  await reference?.release();
  if (values.profile) Object.assign(result, { kernels: await profileKernels(model, { image: ready }, { N: batch, H: size, W: size }) });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
}

await main();

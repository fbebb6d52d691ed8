// npm run bench -- [--json] [--size 512] [--batch 1] [--runs 10] [--device auto|cpu|cuda|webgpu] [--fp16]
//                  [--weights FILE] [--image FILE]
// Times the detector pipeline (decode → preprocess → ResNet-50 + FPN + segmentation head →
// heatmap and regions at the image's resolution) against the bare network on a ready tensor.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { ExecutionProviderChoice } from '../api/contract.ts';
import { decodeRgb, resizeRgb } from '../images/preprocess.ts';
import { convertToFloat16 } from '../model/float16.ts';
import { initFpnWeights } from '../model/fpn.ts';
import { initSegmentationHead, segmentationHead } from '../model/heads.ts';
import { buildNetwork } from '../model/network.ts';
import { loadResNet50Weights } from '../model/resnet50.ts';
import { extractRegions } from '../common/regions.ts';
import { resizeMap } from '../postprocess/resize-map.ts';
import { defectProbability, pixelsTensor } from '../segment/detector.ts';
import { createSession } from '../runtime/sessions.ts';

const SHARED = resolve(import.meta.dirname, '../../../shared');

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
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const runs = Number(values.runs);
if (size % 32 !== 0 || !(batch >= 1) || !(runs >= 1)) throw new Error('--size must be a multiple of 32; --batch and --runs at least 1');
const log = (text: string): void => void (values.json || process.stderr.write(`${text}\n`));

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
  const model = values.fp16 ? convertToFloat16(built) : built;
  const msBuild = performance.now() - t;
  t = performance.now();
  const { session, report } = await createSession({
    model, provider: values.device as ExecutionProviderChoice, dims: { N: batch, H: size, W: size }, threads: availableParallelism(),
  });
  const msSession = performance.now() - t;
  log(`model ${(model.length / 1e6).toFixed(1)} MB built in ${msBuild.toFixed(0)} ms; session on ${report.active} in ${msSession.toFixed(0)} ms`);

  const stage = { decode: [] as number[], preprocess: [] as number[], network: [] as number[], postprocess: [] as number[], e2e: [] as number[], raw: [] as number[] };
  const ready = pixelsTensor(await Promise.all(Array.from({ length: batch }, async () => resizeRgb(await decodeRgb(image.bytes), size, size))));
  const warmup = Number(values.warmup);
  for (let i = 0; i < warmup + runs; i++) {
    const record = i >= warmup;
    // Pipeline: what inspecting `batch` images costs, end to end.
    const t0 = performance.now();
    const decoded = await Promise.all(Array.from({ length: batch }, () => decodeRgb(image.bytes)));
    const t1 = performance.now();
    const input = pixelsTensor(await Promise.all(decoded.map((d) => resizeRgb(d, size, size))));
    const t2 = performance.now();
    const output = await session.run({ image: input });
    const t3 = performance.now();
    for (let b = 0; b < batch; b++) {
      const cells = defectProbability(output.seg_logits, b);
      const { width, height } = decoded[b];
      extractRegions(resizeMap(cells.map, cells.width, cells.height, width, height), width, height, 0.5, 16);
    }
    const t4 = performance.now();
    // Bare network on an already prepared tensor.
    const r0 = performance.now();
    await session.run({ image: ready });
    const raw = performance.now() - r0;
    if (record) {
      stage.decode.push(t1 - t0); stage.preprocess.push(t2 - t1); stage.network.push(t3 - t2);
      stage.postprocess.push(t4 - t3); stage.e2e.push(t4 - t0); stage.raw.push(raw);
    }
    log(`run ${i + 1}/${warmup + runs}${record ? '' : ' (warm-up)'}: end-to-end ${(t4 - t0).toFixed(1)} ms, raw ${raw.toFixed(1)} ms`);
  }
  const round = (x: number): number => Math.round(x * 100) / 100;
  const result = {
    ep: report.active,
    ep_fallbacks: report.fallbacks,
    input: `${size}x${size}`,
    precision: values.fp16 ? 'fp16' : 'fp32',
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
    ms_session_create: round(msSession),
    model_bytes: model.length,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    threads: availableParallelism(),
  };
  await session.release();
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
}

await main();

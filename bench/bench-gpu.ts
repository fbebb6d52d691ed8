// npm run bench:gpu -- [--device webgpu|cuda|cpu] [--quick]
// The GPU path in one run, for a machine with an NVIDIA GPU (WebGPU needs its Vulkan driver; the
// CUDA EP needs onnxruntime-node installed with --onnxruntime-node-install=cuda12): the golden
// ImageNet logits on the device, inference of the segment network at 512² with batch 1 and 8 in
// fp32 and fp16, a training step at 512² batch 8, and a 1-epoch fine-tune on bsdata. Prints one
// JSON object; each part that fails says why instead of stopping the others, and the exit status
// is then 1 (also when the golden logits do not match).
// --quick shrinks every part (64², batch 2, a few steps) to check the script itself on any machine.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice } from '../src-main/contract/contract.ts';
import { imagenetClassifierHead, stageOutputsHead } from '../src-main/model/heads.ts';
import { buildNetwork } from '../src-main/model/network.ts';
import { loadResNet50Weights } from '../src-main/model/resnet50.ts';
import { createSession } from '../src-main/runtime/sessions.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({ options: { device: { type: 'string', default: 'webgpu' }, quick: { type: 'boolean', default: false } } });
const device = values.device as ExecutionProviderChoice;
const quick = values.quick;
const size = quick ? '64' : '512';

/** Runs one of the bench commands with --json and returns its JSON line, or why it failed. */
async function bench(script: string, args: string[], timeoutMs: number): Promise<unknown> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], { timeout: timeoutMs, maxBuffer: 1 << 24 });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return { error: (e.stderr?.trim().split('\n').slice(-3).join(' ') || e.message).slice(0, 500) };
  }
}

/** The ImageNet classifier on the device against the reference logits of the shared golden images. */
async function golden(): Promise<unknown> {
  try {
    const weights = loadResNet50Weights(join(SHARED, 'models/resnet50-imagenet.safetensors'));
    const model = buildNetwork({ name: 'golden', backbone: weights, input: 'normalized', heads: [imagenetClassifierHead(weights), stageOutputsHead(['c5'])] });
    const { session, report } = await createSession({ model, provider: device });
    const images: Record<string, unknown> = {};
    for (const name of ['chelsea', 'coffee']) {
      const read = (file: string): Float32Array => {
        const bytes = readFileSync(join(SHARED, 'models/golden', file));
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      };
      const reference = read(`${name}.logits-1000.f32`);
      const logits = (await session.run({ input: new ort.Tensor('float32', read(`${name}.input-1x3x224x224.f32`), [1, 3, 224, 224]) })).logits.data as Float32Array;
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < 1000; i++) {
        diff = Math.max(diff, Math.abs(logits[i] - reference[i]));
        scale = Math.max(scale, Math.abs(reference[i]));
      }
      const expected = (JSON.parse(readFileSync(join(SHARED, 'models/golden', `${name}.expected.json`), 'utf8')) as { top5: [number, number][] }).top5[0][0];
      images[name] = { max_relative_diff: diff / scale, top1: logits.indexOf(Math.max(...logits)), expected_top1: expected, ok: diff / scale <= 1e-3 && logits.indexOf(Math.max(...logits)) === expected };
    }
    await session.release();
    return { provider: report, images };
  } catch (error) {
    return { error: (error as Error).message.slice(0, 500) };
  }
}

const started = performance.now();
const result = {
  device, quick,
  golden: await golden(),
  inference: {
    fp32_batch1: await bench('bench.ts', ['--json', '--size', size, '--batch', '1', '--runs', quick ? '2' : '10', '--device', device], 600_000),
    fp32_batch8: await bench('bench.ts', ['--json', '--size', size, '--batch', quick ? '2' : '8', '--runs', quick ? '2' : '5', '--device', device], 600_000),
    fp16_batch1: await bench('bench.ts', ['--json', '--size', size, '--batch', '1', '--runs', quick ? '2' : '10', '--device', device, '--fp16'], 600_000),
    fp16_batch8: await bench('bench.ts', ['--json', '--size', size, '--batch', quick ? '2' : '8', '--runs', quick ? '2' : '5', '--device', device, '--fp16'], 600_000),
  },
  training_step: await bench('bench-train.ts', ['--json', '--size', size, '--batch', quick ? '2' : '8', '--steps', quick ? '2' : '5', '--device', device], 900_000),
  fine_tune_1_epoch: await bench('eval-segment.ts', quick ? ['--quick', '--device', device] : ['--epochs', '1', '--device', device], 1_800_000),
  seconds: 0,
};
result.seconds = Math.round((performance.now() - started) / 1000);
const text = JSON.stringify(result);
process.stdout.write(`${text}\n`);
if (text.includes('"error":') || text.includes('"ok":false')) process.exitCode = 1;

// npm run bench:train -- [--json] [--size 512] [--batch 8] [--steps 3] [--device auto|cpu|cuda|webgpu] [--frozen-stages 1|2|3] [--profile]
// Times one supervised training step on random pixels: the frozen stages as inference, the step
// graph (forward, focal + Dice loss, gradients) and the AdamW update of the trained tensors. --profile adds onnxruntime's kernel
// times of the last step, by op type and by role (forward, dX, dW, optimizer, …).
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice } from '../src-main/contract/contract.ts';
import { loadResNet50Weights } from '../src-main/model/resnet50.ts';
import { createSession } from '../src-main/runtime/sessions.ts';
import { buildFrozenFeatureModel, buildTrainingGraphs, frozenOutputs, initialHeadTensors } from '../src-main/modes/segment/network.ts';
import { GRAD, Optimizer } from '../src-main/training/optimizers.ts';
import { readStepProfile, type StepProfile } from './step-profile.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    size: { type: 'string', default: '512' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '3' },
    device: { type: 'string', default: 'auto' },
    'frozen-stages': { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const steps = Number(values.steps);
const frozenStages = Number(values['frozen-stages']) as 1 | 2 | 3;
if (size % 32 !== 0 || !(batch >= 1) || !(steps >= 2)) throw new Error('--size must be a multiple of 32, --batch ≥ 1, --steps ≥ 2');
const log = (text: string): void => void (values.json || process.stderr.write(`${text}\n`));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const backbone = loadResNet50Weights(values.weights);
const config = { classes: ['defect'], inputWidth: size, inputHeight: size, frozenStages };
const init = initialHeadTensors(config, 1);
let t = performance.now();
const graphs = buildTrainingGraphs(backbone, (n) => init.get(n), config, batch, [1, 5]);
const msBuild = performance.now() - t;
const frozen = await createSession({ model: buildFrozenFeatureModel(backbone, config), provider: values.device as ExecutionProviderChoice, threads: availableParallelism(), spinning: true });
const active = frozen.report.active ?? 'cpu';
t = performance.now();
if (values.profile) for (const f of readdirSync(tmpdir())) if (f.startsWith('argus-step-profile')) rmSync(join(tmpdir(), f));
const step = values.profile
  ? { session: await ort.InferenceSession.create(graphs.step, { executionProviders: [active], graphOptimizationLevel: 'all', intraOpNumThreads: availableParallelism(), enableProfiling: true, profileFilePrefix: join(tmpdir(), 'argus-step-profile') }) }
  : await createSession({ model: graphs.step, provider: active, threads: availableParallelism(), spinning: true });
const msSession = performance.now() - t;
log(`step graph ${(graphs.step.length / 1e6).toFixed(2)} MB, ${graphs.parameters.length} trained tensors, built in ${msBuild.toFixed(0)} ms; session on ${active} in ${msSession.toFixed(0)} ms`);

const pixels = new Uint8Array(batch * size * size * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
const cells = (size / 4) ** 2;
const target = new Float32Array(batch * 2 * cells);
for (let b = 0; b < batch; b++) for (let p = 0; p < cells; p++) target[(b * 2 + (p % 97 < 5 ? 1 : 0)) * cells + p] = 1;
const trainedTensors = graphs.parameters.map((p) => ({ ...p, data: p.data.slice() }));
const optimizer = new Optimizer({ kind: 'adamw', weightDecay: 1e-4, clipNorm: 5 }, trainedTensors);
const feeds: Record<string, ort.Tensor> = { target: new ort.Tensor('float32', target, [batch, 2, size / 4, size / 4]) };
for (const p of trainedTensors) feeds[p.name] = new ort.Tensor('float32', p.data, p.dims);
const frozenMs: number[] = [];
const stepMs: number[] = [];
const optimizerMs: number[] = [];
for (let s = 1; s <= steps; s++) {
  const t0 = performance.now();
  const features = await frozen.session.run({ image: new ort.Tensor('uint8', pixels, [batch, size, size, 3]) });
  const t1 = performance.now();
  for (const k of frozenOutputs(config)) feeds[k] = features[k];
  const out = await step.session.run(feeds);
  const t2 = performance.now();
  optimizer.step((name) => out[`${name}${GRAD}`].data as Float32Array, 1e-4, s);
  const t3 = performance.now();
  if (s > 1) {
    frozenMs.push(t1 - t0);
    stepMs.push(t2 - t1);
    optimizerMs.push(t3 - t2);
  }
  log(`step ${s}/${steps}${s === 1 ? ' (warm-up)' : ''}: frozen ${(t1 - t0).toFixed(0)} ms, step graph ${(t2 - t1).toFixed(0)} ms, optimizer ${(t3 - t2).toFixed(0)} ms, loss ${(out.loss.data as Float32Array)[0].toFixed(4)}`);
}

let profile: StepProfile | undefined;
if (values.profile) {
  step.session.endProfiling();
  const written = readdirSync(tmpdir()).filter((f) => f.startsWith('argus-step-profile')).sort().pop();
  if (written) profile = readStepProfile(join(tmpdir(), written));
}
const round = (x: number): number => Math.round(x * 10) / 10;
const trained = graphs.parameters.reduce((a, p) => a + p.data.length, 0);
const perStep = median(frozenMs) + median(stepMs) + median(optimizerMs);
const result = {
  ep: active, input: `${size}x${size}`, batch, frozen_stages: frozenStages, optimizer: 'adamw', steps_timed: stepMs.length,
  ms_frozen_forward: round(median(frozenMs)), ms_step_graph: round(median(stepMs)), ms_optimizer: round(median(optimizerMs)),
  ms_total_per_step: round(perStep), ms_per_image: round(perStep / batch), trained_parameters: trained, trained_tensors: graphs.parameters.length,
  state_mb: round((trained * 4 * (1 + optimizer.stateNames.length)) / 2 ** 20),
  step_graph_mb: round(graphs.step.length / 2 ** 20), ms_graph_build: round(msBuild), ms_session_create: round(msSession),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), threads: availableParallelism(),
  ...(profile ? { profile } : {}),
};
await Promise.all([frozen.session.release(), step.session.release()]);
process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptimizeModelResult, TrainModelResult } from '../contract/contract.ts';
import { ArgusService } from '../app/service.ts';
import { seededRandom } from '../model/init.ts';
import { GraphBuilder } from '../model/onnx-graph.ts';
import { hasShared, SHARED_WEIGHTS, tempDir, writeBlemishDataset } from '../../test-support/fixtures.ts';
import { judgeOptimization } from './accuracy-guard.ts';
import { collectRanges } from './calibrate.ts';
import { decodeModel } from '../model/onnx-model.ts';
import { activationParams, calibrationTensors, planQuantization, quantizeModel, quantizeWeights } from './quantize.ts';

const randomFloats = (n: number, seed: number, scale = 1): Float32Array => {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
};

/**
 * A residual block as ResNet builds them: conv-relu-(max pool)-conv, added to a 1×1 projection of
 * the upsampled half-size input, relu, then a float "head" conv that hands its result out.
 */
function residualNetwork(): Uint8Array {
  const g = new GraphBuilder('residual');
  const x = g.input('x', 'float32', [1, 8, 16, 16]);
  const w = (name: string, shape: number[], seed: number) => g.initializer(name, randomFloats(shape.reduce((a, b) => a * b), seed, 0.3), shape);
  const a = g.relu('a', g.conv('a', x, w('a.w', [16, 8, 3, 3], 1), w('a.b', [16], 2), { pad: 1 }));
  const b = g.conv('b', g.maxPool('pool', a, 3, 1, 1), w('b.w', [16, 16, 3, 3], 3), w('b.b', [16], 4), { pad: 1 });
  const half = g.conv('half', x, w('half.w', [8, 8, 1, 1], 10), null, { stride: 2 });
  const skip = g.conv('skip', g.upsample('up', half, 2, 'nearest'), w('skip.w', [16, 8, 1, 1], 5), null);
  const sum = g.relu('sum', g.add('sum', b, skip));
  const c = g.relu('c', g.conv('c', sum, w('c.w', [16, 16, 3, 3], 6), w('c.b', [16], 7), { pad: 1 }));
  g.output(g.conv('head', c, w('head.w', [4, 16, 1, 1], 8), w('head.b', [4], 9)), 'out');
  return g.toBytes();
}

const oneInput = (seed: number): Record<string, ort.Tensor> => ({ x: new ort.Tensor('float32', randomFloats(8 * 16 * 16, seed), [1, 8, 16, 16]) });

async function* randomInputs(count: number, seed: number): AsyncGenerator<Record<string, ort.Tensor>> {
  for (let i = 0; i < count; i++) yield oneInput(seed + i);
}

function relativeError(reference: Float32Array, actual: Float32Array): number {
  let error = 0;
  let magnitude = 0;
  for (let i = 0; i < reference.length; i++) {
    error += (reference[i] - actual[i]) ** 2;
    magnitude += reference[i] ** 2;
  }
  return Math.sqrt(error / magnitude);
}

/** Runs a model; 'disabled' executes a QDQ graph literally (float ops on dequantised values), 'all' with integer kernels. */
async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>, profileDir?: string, level: 'all' | 'disabled' = 'all'): Promise<{ out: Float32Array; ops: Set<string> }> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: level, logSeverityLevel: 4,
    ...(profileDir ? { enableProfiling: true, profileFilePrefix: join(profileDir, 'profile') } : {}),
  });
  const out = (await session.run(feeds)).out.data as Float32Array;
  const ops = new Set<string>();
  if (profileDir) {
    session.endProfiling();
    await session.release();
    const file = readdirSync(profileDir).find((f) => f.startsWith('profile'))!;
    for (const event of JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as { cat: string; args?: { op_name?: string } }[]) {
      if (event.cat === 'Node' && event.args?.op_name) ops.add(event.args.op_name);
    }
  } else {
    await session.release();
  }
  return { out, ops };
}

describe('int8 quantisation', () => {
  it('maps activation ranges and weights onto 8 bits', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: expect.closeTo(0.01, 9), zeroPoint: 0 });
    // The range always covers zero, so zero padding is represented exactly.
    expect(activationParams({ min: -1.275, max: 1.275 })).toMatchObject({ zeroPoint: 128 });
    expect(activationParams({ min: 0.5, max: 2 })).toMatchObject({ zeroPoint: 0, scale: expect.closeTo(2 / 255, 9) });
    const { data, scales } = quantizeWeights(Float32Array.of(1, -0.4, 0.25, 0, 0, 0), 2, 8);
    expect(Array.from(data)).toEqual([127, -51, 32, 0, 0, 0]);
    expect(scales[0]).toBeCloseTo(1 / 127, 9);
    expect(scales[1]).toBe(1); // an all-zero channel
    expect(Array.from(quantizeWeights(Float32Array.of(1, -1), 1, 7).data)).toEqual([63, -63]);
  });

  it('plans integer convs and adds, folds Relus into them and keeps the output layer float', () => {
    const plan = planQuantization(decodeModel(residualNetwork()));
    expect([...plan.nodes].sort()).toEqual(['a/Conv', 'b/Conv', 'c/Conv', 'half/Conv', 'skip/Conv', 'sum/Add']);
    expect([...plan.foldedRelus.keys()].sort()).toEqual(['a/Relu', 'c/Relu', 'sum/Relu']);
    // The graph input, and each planned op's result (a folded one observed after its Relu).
    expect(plan.rangeSource.get('x')).toBe('x');
    expect(plan.rangeSource.get('a:Conv')).toBe('a:Relu');
    expect(plan.rangeSource.get('b:Conv')).toBe('b:Conv');
    // Max pooling and nearest upsampling run on uint8 with their input's scale.
    expect(plan.rangeSource.get('pool:MaxPool')).toBe('a:Relu');
    expect(plan.rangeSource.get('up:Resize')).toBe('half:Conv');
    expect(calibrationTensors(plan).sort()).toEqual(['a:Relu', 'b:Conv', 'c:Relu', 'half:Conv', 'skip:Conv', 'sum:Relu', 'x']);
  });

  it('runs convolutions and adds as integer kernels that compute what the QDQ graph says, close to the float model', async () => {
    const float = residualNetwork();
    const plan = planQuantization(decodeModel(float));
    const profile = tempDir();
    const feeds = oneInput(999);
    const reference = (await run(float, feeds)).out;
    try {
      for (const method of ['minmax', 'percentile'] as const) {
        const ranges = await collectRanges(float, calibrationTensors(plan), () => randomInputs(8, 100), method);
        if (method === 'minmax') expect(ranges.get('a:Relu')!.min).toBe(0);
        const int8 = quantizeModel(float, ranges, { weightBits: 7 });
        const quantized = await run(int8, feeds, method === 'minmax' ? profile.path : undefined);
        expect(relativeError(reference, quantized.out), method).toBeLessThan(0.05);
        // The fused integer kernels agree with the QDQ graph executed literally in float32.
        expect(relativeError((await run(int8, feeds, undefined, 'disabled')).out, quantized.out), method).toBeLessThan(1e-3);
        if (method === 'minmax') {
          expect(quantized.ops).toContain('QLinearConv');
          expect(quantized.ops).toContain('QLinearAdd');
          // Only the output layer is a float convolution.
          expect(quantized.ops.has('Conv') || quantized.ops.has('FusedConv')).toBe(true);
        }
      }
      // A broken range (every activation squeezed into [0, 0.001]) is caught by the comparison.
      const squeezed = new Map(calibrationTensors(plan).map((t) => [t, { min: 0, max: 0.001 }]));
      expect(relativeError(reference, (await run(quantizeModel(float, squeezed, { weightBits: 7 }), feeds)).out)).toBeGreaterThan(0.5);
    } finally {
      profile.cleanup();
    }
  });

  it('the accuracy guard fails a version that loses more than allowed, naming both numbers', () => {
    const parent = { image_auroc: 0.95, pixel_iou: 0.6 };
    expect(judgeOptimization(parent, { image_auroc: 0.945, pixel_iou: 0.59 }, 1)).toMatchObject({ passed: true });
    expect(judgeOptimization(parent, { image_auroc: 0.93, pixel_iou: 0.59 }, 1)).toMatchObject({
      passed: false, reason: expect.stringMatching(/image AUROC 0\.9300 vs parent 0\.9500/),
    });
    expect(judgeOptimization(parent, { image_auroc: 0.95, pixel_iou: 0.55 }, 1).reason).toMatch(/pixel IoU 0\.5500 vs parent 0\.6000/);
    // A metric the split cannot measure for the parent is not compared.
    expect(judgeOptimization({ image_auroc: null, pixel_iou: 0.6 }, { image_auroc: null, pixel_iou: 0.6 }, 1).passed).toBe(true);
  });
});

describe.skipIf(!hasShared)('model optimize (int8 and fp16 versions of a trained model)', () => {
  const data = tempDir();
  const source = tempDir();
  let service: ArgusService;
  let parentId: number;

  beforeAll(async () => {
    await writeBlemishDataset(source.path);
    service = new ArgusService({ dataDir: data.path, actor: 'qa' });
    await service.jobs.wait((await service.importDataset({ path: source.path })).id);
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const trained = await service.jobs.wait((await service.trainModel({ mode: 'anomaly', datasetId: 1, device: 'cpu', inputSize: [96, 64], coresetSize: 200 })).id);
    parentId = (trained.result as TrainModelResult).modelId;
  }, 120_000);
  afterAll(async () => {
    await service.close();
    data.cleanup();
    source.cleanup();
  });

  it('registers an int8 child with its calibration set and an accuracy check against the parent', async () => {
    const job = await service.jobs.wait((await service.optimizeModel({ modelId: parentId, precision: 'int8', device: 'cpu' })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as OptimizeModelResult;
    const [child] = await service.listModels({});
    expect(child).toMatchObject({ id: result.modelId, parentId, status: 'candidate', config: { precision: 'int8', optimization: { precision: 'int8', method: 'percentile', calibrationDatasetId: 1 } } });
    expect((child.config.optimization as { calibrationImages: number[] }).calibrationImages).toHaveLength(12);
    const parent = (await service.listModels({})).find((m) => m.id === parentId)!;
    // Anomaly thresholds are calibrated again on val for the int8 features' distances.
    expect(child.thresholds).toMatchObject({ method: (parent.thresholds as { method: string }).method });
    expect(child.thresholds).not.toEqual(parent.thresholds);
    // The features graph is replaced by its int8 form; the scorer's distances stay float32.
    const role = (m: typeof child, r: string) => m.files.find((f) => f.role === r)!;
    expect(role(child, 'features.onnx').sha256).not.toBe(role(parent, 'features.onnx').sha256);
    expect(role(child, 'features.onnx').bytes).toBeLessThan(role(parent, 'features.onnx').bytes / 3);
    expect(role(child, 'scorer.onnx')).toEqual(role(parent, 'scorer.onnx'));
    // The val split has 4 defective images: both versions are measured on it.
    expect(result.guard).toMatchObject({ split: 'val', datasetId: 1 });
    expect(result.guard.parent.image_auroc).toBeGreaterThan(0.5);
    expect(result.guard.optimized.image_auroc).toBeGreaterThan(0.5);
    expect(result.guard.passed).toBe(Math.abs(result.guard.parent.image_auroc! - result.guard.optimized.image_auroc!) <= 0.01 && result.guard.parent.pixel_iou! - result.guard.optimized.pixel_iou! <= 0.02);

    // The child inspects: a defective val image scores above a good one.
    const out = tempDir();
    try {
      const inspected = await service.jobs.wait((await service.inspectFiles({ model: result.modelId, paths: [join(source.path, 'val/g0.png'), join(source.path, 'val/d0.png')], outDir: out.path, device: 'cpu' })).id);
      expect(inspected.state).toBe('succeeded');
      const lines = readFileSync(join(out.path, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; score: number });
      expect(lines.find((l) => l.file.endsWith('d0.png'))!.score).toBeGreaterThan(lines.find((l) => l.file.endsWith('g0.png'))!.score);
    } finally {
      out.cleanup();
    }
    expect((await service.listAuditLog({}))[0]).toMatchObject({ action: 'model.optimize', target: `model:${result.modelId}` });
  }, 120_000);

  it('refuses to promote an optimised version whose guard failed, and says why with both numbers', async () => {
    const job = await service.jobs.wait((await service.optimizeModel({ modelId: parentId, precision: 'fp16', device: 'cpu' })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const { modelId, guard } = job.result as OptimizeModelResult;
    expect(guard.passed).toBe(true);
    // The same version as a failed check would have left it.
    const failed = judgeOptimization(guard.parent, { image_auroc: guard.parent.image_auroc! - 0.2, pixel_iou: guard.optimized.pixel_iou }, 1);
    service.store.models.updateMetrics(modelId, { guard: failed });
    await expect(service.promoteModel({ modelId })).rejects.toThrow(/cannot be promoted: Inspects worse than its parent on the validation split: image AUROC 0\.\d{4} vs parent [01]\.\d{4}/);
    service.store.models.updateMetrics(modelId, { guard });
    expect(await service.promoteModel({ modelId })).toMatchObject({ status: 'production' });
    await expect(service.optimizeModel({ modelId, precision: 'int8' }).then((s) => service.jobs.wait(s.id))).resolves.toMatchObject({
      state: 'failed', error: { message: expect.stringMatching(/already fp16; optimise its fp32 parent/) },
    });
  }, 120_000);
});

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../../app/service.ts';
import { decodeRgb } from '../../images/preprocess.ts';
import { judge } from '../../analysis/analysis.ts';
import { loadDetector } from '../../inspection/load-detector.ts';
import { Store } from '../../store/store.ts';
import { BLEMISH_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeBlemishDataset } from '../../../test-support/fixtures.ts';
import * as ort from 'onnxruntime-node';
import { defectProbability } from './detector.ts';

describe('segment image score', () => {
  it('is the highest defect log-odds, which keeps ranking where the probability rounds to 1 in float32', () => {
    // Logits [1, 3 classes (background + 2), 1, 3]: defect margins of 20 and 30 over background, and a background cell.
    const logits = new ort.Tensor('float32', Float32Array.from([0, 0, 5, /* class 1 */ 20, 1, 0, /* class 2 */ 3, 30, 0]), [1, 3, 1, 3]);
    const cells = defectProbability(logits);
    expect(cells.map[0]).toBe(1);
    expect(cells.map[1]).toBe(1);
    expect([...cells.classes]).toEqual([1, 2, 1]);
    expect(cells.maxLogOdds).toBeCloseTo(30 + Math.log1p(Math.exp(1 - 30)), 9);
  });
});

const REPO = resolve(import.meta.dirname, '../../..');
const { width: W, height: H } = BLEMISH_IMAGE;

const argus = (args: string[], dataDir: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args, '--data-dir', dataDir], { cwd: REPO });

describe.skipIf(!hasShared)('supervised fine-tuning (segmentation)', () => {
  const data = tempDir();
  const dataset = tempDir();
  let service: ArgusService;
  let datasetId: number;
  let modelId: number;

  beforeAll(async () => {
    await writeBlemishDataset(dataset.path);
    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    await service.importBackboneWeights({ path: SHARED_WEIGHTS });
    const imported = await service.jobs.wait((await service.importDataset({ path: dataset.path })).id);
    datasetId = (imported.result as { datasetId: number }).datasetId;
  });
  afterAll(async () => {
    await service?.close();
    data.cleanup();
    dataset.cleanup();
  });

  it('a short fine-tune in the training worker lowers the validation loss and registers a candidate', async () => {
    const seen: string[] = [];
    service.jobs.onChange((job) => {
      if (job.training) seen.push(`${job.training.phase}:${job.training.epoch}`);
    });
    const job = await service.jobs.wait((await service.trainModel({
      mode: 'segment', datasetId, device: 'cpu', inputSize: [W, H], epochs: 4, batchSize: 4, stepsPerEpoch: 4, learningRate: 3e-4,
    })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    modelId = (job.result as { modelId: number }).modelId;
    const model = service.store.models.get(modelId);
    expect(model).toMatchObject({ mode: 'segment', status: 'candidate', classes: ['blemish'], parentId: null });
    expect(model.snapshotId).not.toBeNull();
    expect(model.files.map((f) => f.role).sort()).toEqual(['network.onnx', 'tuned.safetensors']);
    const metrics = model.metrics as { initialValidation: { loss: number }; epochs: { validation: { loss: number } }[] };
    const best = Math.min(...metrics.epochs.map((e) => e.validation.loss));
    expect(best).toBeLessThan(metrics.initialValidation.loss * 0.7);
    expect(seen).toContain('training:1');
    expect(seen.some((s) => s.startsWith('validating:'))).toBe(true);
    expect(service.store.trainingRuns.list()[0]).toMatchObject({ status: 'succeeded', resultModelId: modelId });
    expect(existsSync(join(data.path, 'training', `run-${service.store.trainingRuns.list()[0].id}`))).toBe(false);
  }, 240_000);

  it('the fine-tuned model marks an unseen blemish where it is, with its class', async () => {
    const model = service.store.models.get(modelId);
    expect(model.config.imageScore).toBe('max-log-odds');
    const detector = await loadDetector(service.store, model, 'cpu');
    try {
      const blemish = { x: 60, y: 30, r: 7 };
      const bad = await detector.analyse(await decodeRgb(await pngOf(texture(W, H, 999, blemish), W, H)));
      const good = await detector.analyse(await decodeRgb(await pngOf(texture(W, H, 998), W, H)));
      expect(bad.rawScore).toBeGreaterThan(good.rawScore);
      const at = (x: number, y: number) => bad.heatmap[y * W + x];
      expect(at(blemish.x, blemish.y)).toBeGreaterThan(at(10, 10));
      const regions = judge(bad, model.thresholds, 4).regions;
      if (regions.length) expect(regions[0].class).toBe('blemish');
    } finally {
      await detector.release();
    }
    const { stdout } = await argus(['eval', '--model', String(modelId), '--dataset', 'blemish', '--split', 'val', '--device', 'cpu', '--json'], data.path);
    const metrics = JSON.parse(stdout) as Record<string, unknown>;
    expect(metrics).toMatchObject({ modelId, split: 'val', images: 6, good: 2, defective: 4 });
    expect(Object.keys(metrics.pixel_iou as object)).toEqual(['blemish']);
    expect(metrics.box_ap50).toHaveProperty('blemish');
    expect(typeof metrics.mean_box_ap50).toBe('number');
  }, 120_000);

  it('a run killed with SIGKILL resumes from its last checkpoint and continues from the parent', async () => {
    // The CLI trains as the data directory's one writer: this process lets go of it meanwhile.
    await service.close();
    const run = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'train', '--mode', 'segment', '--dataset', String(datasetId),
      '--input', `${W}x${H}`, '--epochs', '3', '--batch', '4', '--steps-per-epoch', '3', '--device', 'cpu', '--parent', String(modelId), '--data-dir', data.path], { cwd: REPO, stdio: 'ignore' });
    const checkpoint = (): string | undefined => {
      const store = new Store(data.path);
      try {
        const latest = store.trainingRuns.list()[0];
        return latest && latest.id > 1 && latest.checkpointPath ? join(latest.checkpointPath, 'checkpoint.safetensors') : undefined;
      } finally {
        store.close();
      }
    };
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const path = checkpoint();
      if (path && existsSync(path)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    run.kill('SIGKILL');
    await new Promise((r) => run.once('exit', r));
    const store = new Store(data.path);
    const killed = store.trainingRuns.list()[0];
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const modelsBefore = store.models.list().length;
    store.close();
    expect(killed.status).toBe('running');
    expect(killed.parentModelId).toBe(modelId);

    const { stdout } = await argus(['train', '--mode', 'segment', '--resume', String(killed.id), '--device', 'cpu', '--json'], data.path);
    const result = JSON.parse(stdout) as { id: number; metrics: { epochs: { epoch: number }[] } };
    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    const resumedModel = service.store.models.get(result.id);
    expect(service.store.models.list()).toHaveLength(modelsBefore + 1);
    expect(resumedModel.parentId).toBe(modelId);
    // All three epochs are in the history: the first from the killed process, the rest after resuming.
    expect(result.metrics.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(service.store.trainingRuns.get(killed.id)).toMatchObject({ status: 'succeeded', resultModelId: result.id });
  }, 300_000);
});

// npm run eval:anomaly -- [--dataset DIR] [--weights FILE] [--input WxH] [--coreset N] [--layers c3+c4|c2+c3] [--border PX] [--device …] [--data-dir DIR] [--adapt N] [--model ID]
// The anomaly-mode quality gate: trains on the good train images of a dataset (bsdata by default),
// evaluates on its test split, and prints one JSON object with the metrics and costs. bsdata's frame
// edges cut through the spindle's thread flanks, which look different at every camera position, so
// the gate leaves the outer 32 px uninspected: the widest border that keeps all but one of the 418
// labelled pits of train and val at least partly inspected (48 px would hide 7).
// --adapt N: station adaptation as a line would do it. For each camera group of the test split,
// its first N good test images adapt the model (one child per group, chained), and the model is
// evaluated before and after on the test images left (the adaptation frames taken out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AdaptModelResult, AnomalyMetrics, ExecutionProviderChoice, ImportResult, TrainModelResult } from '../src-main/contract/contract.ts';
import { modeOf } from '../src-main/modes/registry.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import type { ModelVersion } from '../src-main/store/models.ts';
import type { DatasetSample } from '../src-main/store/datasets.ts';
import { openGateService, round4 } from './gate-service.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: join(SHARED, 'datasets/bsdata') },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
    input: { type: 'string' },
    coreset: { type: 'string' },
    layers: { type: 'string' },
    border: { type: 'string', default: '32' },
    device: { type: 'string', default: 'auto' },
    'data-dir': { type: 'string' },
    adapt: { type: 'string' },
    model: { type: 'string' },
  },
});

const { service, finish, close } = openGateService(values['data-dir']);

try {
  await service.importBackboneWeights({ path: values.weights });
  const imported = (await finish(await service.importDataset({ path: values.dataset }))) as ImportResult;
  const inputSize = values.input ? (values.input.split('x').map(Number) as [number, number]) : undefined;
  const device = values.device as ExecutionProviderChoice;
  const rssBefore = process.memoryUsage().rss;
  // --model ID measures a model trained earlier in the same --data-dir instead of training one.
  const trained = values.model
    ? ({ modelId: Number(values.model), seconds: Number(service.store.models.get(Number(values.model)).config.trainSeconds) } as TrainModelResult)
    : (await finish(await service.trainModel({
      mode: 'anomaly', datasetId: imported.datasetId, device, inputSize, coresetSize: values.coreset ? Number(values.coreset) : undefined,
      layers: values.layers as 'c3+c4' | 'c2+c3' | undefined, ignoredBorder: Number(values.border),
    }))) as TrainModelResult;
  const test = (await finish(await service.evaluateModel({ modelId: trained.modelId, datasetId: imported.datasetId, split: 'test', device }))) as Record<string, number>;
  const model = service.store.models.get(trained.modelId);
  const config = model.config as Record<string, number>;
  const result = {
    dataset: values.dataset,
    split: 'test',
    ...(round4(test) as object),
    validation: round4(model.metrics.validation),
    thresholds: model.thresholds,
    input: `${config.inputWidth}x${config.inputHeight}`,
    preprocessing: config.preprocessingReason,
    ignored_border_px: config.ignoredBorder ?? 0,
    train_images: config.trainImages,
    train_seconds: round4(trained.seconds),
    bank_size: config.bankSize,
    bank_mb: round4((config.bankSize * config.dim * 4) / 2 ** 20),
    feature_dim: config.dim,
    model_files_mb: round4(model.files.reduce((s, f) => s + f.bytes, 0) / 2 ** 20),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    rss_growth_during_training_mb: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
  };
  const adaptFrames = Number(values.adapt ?? 0);
  const adaptation = adaptFrames > 0 ? await adaptPerGroup(model, imported.datasetId, adaptFrames, device) : undefined;
  process.stdout.write(`${JSON.stringify({ ...result, ...(adaptation ? { adaptation: round4(adaptation) } : {}) })}\n`);
} finally {
  await close();
}

async function evaluateOn(model: ModelVersion, samples: DatasetSample[], device: ExecutionProviderChoice): Promise<AnomalyMetrics> {
  const mode = modeOf('anomaly');
  const detector = await loadDetector(service.store, model, device);
  try {
    return (await mode.evaluate(service.store.blobs, detector, model, samples)) as AnomalyMetrics;
  } finally {
    await detector.release();
  }
}

async function adaptPerGroup(trained: ModelVersion, datasetId: number, frames: number, device: ExecutionProviderChoice): Promise<object> {
  const test = service.store.datasets.samples(datasetId, 'test');
  const groups = [...new Set(test.map((s) => s.group).filter((g): g is string => g !== null))].sort();
  const taken = new Set<number>();
  let model = trained;
  const steps: object[] = [];
  for (const group of groups) {
    const good = test.filter((s) => s.group === group && s.label === 'good').sort((a, b) => a.imageId - b.imageId).slice(0, frames);
    if (good.length === 0) continue; // a camera with only defective test images has nothing to adapt with
    good.forEach((s) => taken.add(s.imageId));
    process.stderr.write(`adapting to ${group} with ${good.length} frames\n`);
    // The frames go in as a station would hand them over: image files.
    const paths = good.map((s) => join(service.store.dataDir, 'adapt-frames', `${s.imageId}.png`));
    mkdirSync(join(service.store.dataDir, 'adapt-frames'), { recursive: true });
    for (const [i, s] of good.entries()) writeFileSync(paths[i], await service.store.blobs.get(s.sha256));
    const result = (await finish(await service.adaptModel({ modelId: model.id, group, paths, device }))) as AdaptModelResult;
    steps.push({ group, frames: result.frames, bank_size: result.bankSize, from_group: result.fromGroup, seconds: result.seconds, thresholds: result.thresholds });
    model = service.store.models.get(result.modelId);
  }
  const left = test.filter((s) => !taken.has(s.imageId));
  const pick = (m: AnomalyMetrics) => ({
    image_auroc: m.image_auroc, image_auroc_within_group: m.image_auroc_within_group, image_auroc_by_group: m.image_auroc_by_group,
    pixel_auroc: m.pixel_auroc, false_reject_rate: m.false_reject_rate, miss_rate: m.miss_rate, f1: m.f1, ms_per_image: m.ms_per_image,
  });
  return {
    frames_per_group: frames, test_images_left: left.length, steps,
    before: pick(await evaluateOn(trained, left, device)),
    after: pick(await evaluateOn(model, left, device)),
  };
}

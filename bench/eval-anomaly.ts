// npm run eval:anomaly -- [--dataset DIR] [--weights FILE] [--input WxH] [--coreset N] [--layers c3+c4|c2+c3] [--border PX] [--device …] [--data-dir DIR]
// The anomaly-mode quality gate: trains on the good train images of a dataset (bsdata by default),
// evaluates on its test split, and prints one JSON object with the metrics and costs. bsdata's frame
// edges cut through the spindle's thread flanks, which look different at every camera position, so
// the gate leaves the outer 32 px uninspected: the widest border that keeps all but one of the 418
// labelled pits of train and val at least partly inspected (48 px would hide 7).
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProviderChoice, ImportResult, TrainModelResult } from '../src-main/contract/contract.ts';
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
  },
});

const { service, finish, close } = openGateService(values['data-dir']);

try {
  await service.importBackboneWeights({ path: values.weights });
  const imported = (await finish(await service.importDataset({ path: values.dataset }))) as ImportResult;
  const inputSize = values.input ? (values.input.split('x').map(Number) as [number, number]) : undefined;
  const device = values.device as ExecutionProviderChoice;
  const rssBefore = process.memoryUsage().rss;
  const trained = (await finish(await service.trainModel({
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
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await close();
}

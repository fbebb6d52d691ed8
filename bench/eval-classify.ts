// npm run eval:classify -- [--dataset DIR] [--epochs N] [--batch N] [--steps-per-epoch N] [--lr X]
//                          [--input WxH] [--frozen-stages 1|2|3] [--multi-label] [--device …] [--data-dir DIR] [--quick]
// The classification quality gate: fine-tunes ResNet-50 + classifier on the dataset's train split
// (NEU-DET by default: six classes of steel defects, every image defective; an image's class is
// the one most of its boxes carry), evaluates on its test split and prints one JSON object:
// accuracy, per-class precision/recall/F1, the confusion matrix, step time, inspection time.
// --quick is a smoke run (tiny input, a few steps, a few test images) that CI executes.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProviderChoice, ImportResult, TrainModelResult } from '../src-main/contract/contract.ts';
import type { ClassifyMetrics } from '../src-main/modes/classify/evaluate.ts';
import { modeOf } from '../src-main/modes/registry.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import { openGateService, round4 } from './gate-service.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: join(SHARED, 'datasets/neu-det') },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
    epochs: { type: 'string' }, batch: { type: 'string' }, 'steps-per-epoch': { type: 'string' }, lr: { type: 'string' },
    input: { type: 'string' }, 'frozen-stages': { type: 'string' }, device: { type: 'string', default: 'auto' },
    'data-dir': { type: 'string' }, quick: { type: 'boolean', default: false }, 'multi-label': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const number = (v: string | undefined, fallback?: number): number | undefined => (v === undefined ? fallback : Number(v));
const { service, finish, close } = openGateService(values['data-dir']);

try {
  await service.importBackboneWeights({ path: values.weights });
  const imported = (await finish(await service.importDataset({ path: values.dataset }))) as ImportResult;
  const device = values.device as ExecutionProviderChoice;
  const inputSize = values.input ? (values.input.split('x').map(Number) as [number, number]) : quick ? ([64, 64] as [number, number]) : undefined;
  const trained = (await finish(await service.trainModel({
    mode: 'classify', datasetId: imported.datasetId, device, inputSize,
    epochs: number(values.epochs, quick ? 1 : undefined), batchSize: number(values.batch, quick ? 2 : undefined),
    stepsPerEpoch: number(values['steps-per-epoch'], quick ? 2 : undefined), learningRate: number(values.lr),
    frozenStages: number(values['frozen-stages']) as 1 | 2 | 3 | undefined, ...(values['multi-label'] ? { multiLabel: true } : {}),
  }))) as TrainModelResult;
  const model = service.store.models.get(trained.modelId);
  const all = service.store.datasets.samples(imported.datasetId, 'test');
  const test = quick ? Array.from({ length: 6 }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / 6)]) : all;
  const detector = await loadDetector(service.store, model, device);
  let metrics: ClassifyMetrics;
  const started = performance.now();
  try {
    metrics = (await modeOf('classify').evaluate(service.store.blobs, detector, model, test, (d, t) => {
      if (d === t || d % 25 === 0) process.stderr.write(`evaluate: ${d}/${t}\n`);
    })) as ClassifyMetrics;
  } finally {
    await detector.release();
  }
  const config = model.config as Record<string, unknown> & { training: Record<string, unknown> };
  const epochs = model.metrics.epochs as { epoch: number; trainLoss: number; validation: { loss: number; accuracy?: number } }[];
  process.stdout.write(`${JSON.stringify(round4({
    dataset: values.dataset, split: 'test', quick, test_images: test.length,
    accuracy: metrics.accuracy, per_class: metrics.per_class, confusion: metrics.confusion,
    image_auroc: metrics.image_auroc, recall_at_half_percent_frr: metrics.recall_at_half_percent_frr,
    classes: model.classes, multi_label: config.multiLabel === true, input: `${config.inputWidth}x${config.inputHeight}`, frozen_stages: config.frozenStages,
    batch: config.training.batchSize, epochs_run: epochs.length, best_epoch: config.bestEpoch, steps_per_epoch: config.training.stepsPerEpoch,
    learning_rate: config.training.learningRate,
    epoch_history: epochs.map((e) => ({ epoch: e.epoch, train_loss: e.trainLoss, val_loss: e.validation.loss, val_accuracy: e.validation.accuracy })),
    ms_per_step: config.msPerStep, ms_per_image_evaluated: (performance.now() - started) / test.length, provider: config.provider, train_seconds: trained.seconds,
  }))}\n`);
} finally {
  await close();
}

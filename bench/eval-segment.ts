// npm run eval:segment -- [--set bsdata|neu-det] [--dataset DIR] [--epochs N] [--batch N] [--steps-per-epoch N]
//                         [--lr X] [--input WxH] [--frozen-stages 1|2|3] [--device …] [--data-dir DIR] [--quick]
// npm run eval:boxes  (the same on neu-det)
// The supervised quality gate: fine-tunes ResNet-50 + FPN + segmentation head on the dataset's
// train split (thresholds picked on val), evaluates on its test split and prints one JSON object:
// per-class pixel IoU, box AP@0.5, image recall at ≤ 0.5% false rejects, step time and memory.
// --quick is a smoke run (tiny input, a few steps, a few test images) that CI executes.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProviderChoice, ImportResult, TrainModelResult } from '../src-main/contract/contract.ts';
import { openGateService, round4 } from './gate-service.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import { evaluateSegment } from '../src-main/modes/segment/evaluate.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    set: { type: 'string', default: 'bsdata' },
    dataset: { type: 'string' },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    'steps-per-epoch': { type: 'string' },
    lr: { type: 'string' },
    input: { type: 'string' },
    'frozen-stages': { type: 'string' },
    device: { type: 'string', default: 'auto' },
    'data-dir': { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
if (values.set !== 'bsdata' && values.set !== 'neu-det') throw new Error('--set must be bsdata or neu-det');
const datasetDir = values.dataset ?? join(SHARED, 'datasets', values.set);
const quick = values.quick;
const number = (v: string | undefined, fallback?: number): number | undefined => (v === undefined ? fallback : Number(v));
const QUICK_INPUT: Record<string, [number, number]> = { bsdata: [256, 96], 'neu-det': [96, 96] };

const { service, finish, close } = openGateService(values['data-dir']);

try {
  await service.importBackboneWeights({ path: values.weights });
  const imported = (await finish(await service.importDataset({ path: datasetDir }))) as ImportResult;
  const device = values.device as ExecutionProviderChoice;
  const inputSize = values.input ? (values.input.split('x').map(Number) as [number, number]) : quick ? QUICK_INPUT[values.set] : undefined;
  const trained = (await finish(await service.trainModel({
    mode: 'segment', datasetId: imported.datasetId, device, inputSize,
    epochs: number(values.epochs, quick ? 1 : undefined), batchSize: number(values.batch, quick ? 2 : undefined),
    stepsPerEpoch: number(values['steps-per-epoch'], quick ? 2 : undefined), learningRate: number(values.lr),
    frozenStages: number(values['frozen-stages']) as 1 | 2 | 3 | undefined,
  }))) as TrainModelResult;
  const model = service.store.models.get(trained.modelId);
  const all = service.store.datasets.samples(imported.datasetId, 'test');
  // The smoke run looks at a few images of each kind.
  const test = quick ? [...all.filter((s) => s.label === 'good').slice(0, 3), ...all.filter((s) => s.label === 'defect').slice(0, 3)] : all;
  const detector = await loadDetector(service.store, model, device);
  let metrics;
  try {
    metrics = await evaluateSegment(service.store.blobs, detector, model.thresholds, model.classes, test, (d, t) => {
      if (d === t || d % 10 === 0) process.stderr.write(`evaluate: ${d}/${t}\n`);
    });
  } finally {
    await detector.release();
  }
  const config = model.config as Record<string, unknown> & { training: Record<string, unknown> };
  const epochs = model.metrics.epochs as { epoch: number; trainLoss: number; validation: { loss: number; iou: Record<string, number> } }[];
  process.stdout.write(`${JSON.stringify({
    dataset: datasetDir, split: 'test', quick, test_images: test.length,
    ...(round4(metrics) as object),
    thresholds: model.thresholds,
    input: `${config.inputWidth}x${config.inputHeight}`, scale: round4(config.scale), frozen_stages: config.frozenStages,
    batch: config.training.batchSize, epochs_run: epochs.length, best_epoch: config.bestEpoch, steps_per_epoch: config.training.stepsPerEpoch,
    learning_rate: config.training.learningRate, class_weights: round4(config.training.classWeights),
    initial_validation_loss: round4((model.metrics.initialValidation as { loss: number } | null)?.loss),
    epoch_history: epochs.map((e) => ({ epoch: e.epoch, train_loss: round4(e.trainLoss), val_loss: round4(e.validation.loss), val_iou: round4(e.validation.iou) })),
    ms_per_step: round4(config.msPerStep), provider: config.provider, train_seconds: round4(trained.seconds),
    model_files_mb: round4(model.files.reduce((s, f) => s + f.bytes, 0) / 2 ** 20),
    peak_rss_mb_main: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`);
} finally {
  await close();
}

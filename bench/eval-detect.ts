// npm run eval:detect -- [--dataset DIR] [--epochs N] [--batch N] [--steps-per-epoch N] [--lr X]
//                        [--input WxH] [--frozen-stages 1|2|3] [--device …] [--data-dir DIR] [--quick]
// The detection quality gate: trains the FCOS-style detector on the dataset's train split
// (per-class thresholds picked on val), evaluates on its test split and prints one JSON object:
// per-class AP@0.5 and COCO AP, mean AP@0.5, COCO mAP@[.5:.95], precision/recall at the class
// thresholds, image recall at ≤ 0.5 % false rejects (with good images), step time, inspection time.
// --quick is a smoke run (tiny input, a few steps, a few test images) that CI executes.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DetectMetrics, ExecutionProviderChoice, ImportResult, TrainModelResult } from '../src-main/contract/contract.ts';
import { quantile } from '../src-main/analysis/metrics.ts';
import { decodeRgb } from '../src-main/images/preprocess.ts';
import type { DetectDetector } from '../src-main/modes/detect/detector.ts';
import { modeOf } from '../src-main/modes/registry.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import { openGateService, round4 } from './gate-service.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: join(SHARED, 'datasets/neu-det') },
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
const quick = values.quick;
const number = (v: string | undefined, fallback?: number): number | undefined => (v === undefined ? fallback : Number(v));
const { service, finish, close } = openGateService(values['data-dir']);

try {
  await service.importBackboneWeights({ path: values.weights });
  const imported = (await finish(await service.importDataset({ path: values.dataset }))) as ImportResult;
  const device = values.device as ExecutionProviderChoice;
  const inputSize = values.input ? (values.input.split('x').map(Number) as [number, number]) : quick ? ([96, 96] as [number, number]) : undefined;
  const trained = (await finish(await service.trainModel({
    mode: 'detect', datasetId: imported.datasetId, device, inputSize,
    epochs: number(values.epochs, quick ? 1 : undefined), batchSize: number(values.batch, quick ? 2 : undefined),
    stepsPerEpoch: number(values['steps-per-epoch'], quick ? 2 : undefined), learningRate: number(values.lr),
    frozenStages: number(values['frozen-stages']) as 1 | 2 | 3 | undefined,
  }))) as TrainModelResult;
  const model = service.store.models.get(trained.modelId);
  const all = service.store.datasets.samples(imported.datasetId, 'test');
  // The smoke run looks at six images spread over the split.
  const test = quick ? Array.from({ length: 6 }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / 6)]) : all;
  const mode = modeOf('detect');
  const detector = await loadDetector(service.store, model, device);
  let metrics: DetectMetrics;
  const started = performance.now();
  const timing = { network: [] as number[], decode: [] as number[] };
  try {
    metrics = (await mode.evaluate(service.store.blobs, detector, model, test, (d, t) => {
      if (d === t || d % 25 === 0) process.stderr.write(`evaluate: ${d}/${t}\n`);
    })) as DetectMetrics;
    // Where an image's time goes: the network, and decoding + NMS in TypeScript.
    for (const sample of test.slice(0, 20)) {
      const { networkMs, decodeMs } = await (detector as DetectDetector).detect(await decodeRgb(await service.store.blobs.get(sample.sha256)));
      timing.network.push(networkMs);
      timing.decode.push(decodeMs);
    }
  } finally {
    await detector.release();
  }
  const msPerImage = (performance.now() - started) / test.length;
  const config = model.config as Record<string, unknown> & { training: Record<string, unknown> };
  const epochs = model.metrics.epochs as { epoch: number; trainLoss: number; validation: { loss: number; ap50?: Record<string, number> } }[];
  const perClass = Object.fromEntries(Object.entries(metrics.per_class).map(([name, c]) => [name, { ap50: c.ap50, ap: c.ap, precision: c.precision, recall: c.recall, threshold: c.threshold, boxes: c.boxes }]));
  process.stdout.write(`${JSON.stringify(round4({
    dataset: values.dataset, split: 'test', quick, test_images: test.length,
    mean_ap50: metrics.mean_box_ap50, coco_map: metrics.coco_map, per_class: perClass,
    recall_at_half_percent_frr: metrics.recall_at_half_percent_frr, image_auroc: metrics.image_auroc,
    input: `${config.inputWidth}x${config.inputHeight}`, scale: config.scale, frozen_stages: config.frozenStages,
    batch: config.training.batchSize, epochs_run: epochs.length, best_epoch: config.bestEpoch, steps_per_epoch: config.training.stepsPerEpoch,
    learning_rate: config.training.learningRate,
    epoch_history: epochs.map((e) => ({ epoch: e.epoch, train_loss: e.trainLoss, val_loss: e.validation.loss, val_ap50: e.validation.ap50 })),
    ms_per_step: config.msPerStep, ms_per_image_evaluated: msPerImage, ms_per_image: metrics.ms_per_image,
    ms_network_median: quantile(timing.network, 0.5), ms_decode_nms_median: quantile(timing.decode, 0.5), provider: config.provider, train_seconds: trained.seconds,
    model_files_mb: model.files.reduce((s, f) => s + f.bytes, 0) / 2 ** 20,
    peak_rss_mb_main: Math.round(process.resourceUsage().maxRSS / 1024),
  }))}\n`);
} finally {
  await close();
}

// npm run eval:anomaly:surfaces -- [--sets small-grain,small-brushed,…] [--device cpu] [--keep DIR]
// Anomaly mode on data it was never tuned to: synthetic surfaces of three materials at several
// image sizes (about 250–600 px grey, 640×480 colour, ~3 MP) with planted spots and scratches of
// several sizes. Each set is trained three ways on the same images and scored on its test split:
//   argus     — the defaults a new user gets (`argus train --mode anomaly`);
//   patchcore — a plain PatchCore on the same backbone: every image stretched to 256², layer2+3
//               patches, a 1 % coreset, raw distances, no colour matching, no extras;
//   fixed-1152 — the earlier default input (long side 1152 px whatever the images' size);
//   argus-1level — the defaults with one level instead of the scale pyramid;
//   argus-raw, argus-abs, argus-1pct, argus-256 — ablations: no colour matching, the raw heatmap,
//               PatchCore's bank (1 % of all patches), every image stretched to 256².
// The sets neu-<class> (not run by default) are NEU-DET's real steel: one class's images are the
// good surface, the other five classes' images the defective ones (bench/neu-one-vs-rest.ts).
// Prints one JSON line per set and model, then a summary line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExecutionProviderChoice, ImportResult } from '../src-main/contract/contract.ts';
import type { AnomalyConfig } from '../src-main/modes/anomaly/detector.ts';
import { evaluateAnomaly } from '../src-main/modes/anomaly/evaluate.ts';
import { trainAndRegister } from '../src-main/app/train-model.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import { loadResNet50Weights } from '../src-main/model/resnet50.ts';
import { openGateService, round4 } from './gate-service.ts';
import { type SurfaceSetSpec, writeSurfaceSet } from './synthetic-surfaces.ts';
import { writeNeuOneVsRest } from './neu-one-vs-rest.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
// 100 good and 100 defective test images: an image AUROC of 0.85 is then known to about ±0.03 (one standard error).
const small = { train: 40, valGood: 20, valDefect: 20, testGood: 100, testDefect: 100 };
const SETS: SurfaceSetSpec[] = [
  { name: 'small-grain', material: 'grain', width: [250, 600], height: [250, 600], grey: true, counts: small, defectSize: [6, 30], seed: 11 },
  { name: 'small-brushed', material: 'brushed', width: [250, 600], height: [250, 600], grey: true, counts: small, defectSize: [6, 30], seed: 12 },
  { name: 'small-weave', material: 'weave', width: [250, 600], height: [250, 600], grey: true, counts: small, defectSize: [6, 30], seed: 13 },
  { name: 'vga-grain', material: 'grain', width: [640, 640], height: [480, 480], grey: false, counts: small, defectSize: [8, 40], seed: 14 },
  { name: 'tiny-weave', material: 'weave', width: [200, 200], height: [200, 200], grey: true, counts: small, defectSize: [5, 20], seed: 15 },
  { name: 'large-brushed', material: 'brushed', width: [1900, 2100], height: [1400, 1500], grey: false, counts: { train: 16, valGood: 6, valDefect: 6, testGood: 12, testDefect: 12 }, defectSize: [10, 60], seed: 16 },
];

/** NEU-DET one class against the rest (a real second material, 200×200 grey): `neu-<class>`. */
const NEU_CLASSES = ['crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches'];

const { values } = parseArgs({
  options: {
    sets: { type: 'string' },
    models: { type: 'string', default: 'argus,patchcore,fixed-1152' },
    weights: { type: 'string', default: join(SHARED, 'models/resnet50-imagenet.safetensors') },
    device: { type: 'string', default: 'cpu' },
    keep: { type: 'string' },
  },
});

type Variant = 'argus' | 'argus-1level' | 'argus-raw' | 'argus-abs' | 'argus-1pct' | 'argus-256' | 'patchcore' | 'fixed-1152';

function variantConfig(variant: Variant, trainImages: number, median: { width: number; height: number }): { config?: Partial<AnomalyConfig> & { levelFactors?: number[] }; matchColour?: boolean } {
  if (variant === 'argus') return {};
  if (variant === 'argus-1level') return { config: { levelFactors: [1] } };
  if (variant === 'argus-raw') return { matchColour: false };
  if (variant === 'argus-abs') return { config: { heatmapAboveMedian: false } };
  if (variant === 'argus-1pct') {
    const cells = (Math.ceil(median.width / 32) * 4) * (Math.ceil(median.height / 32) * 4);
    return { config: { patchesPerImage: cells, coresetSize: Math.max(64, Math.round(0.01 * cells * trainImages)) } };
  }
  if (variant === 'argus-256') return { config: { inputWidth: 256, inputHeight: 256 } };
  if (variant === 'patchcore') {
    const cells = (256 / 8) ** 2;
    return {
      config: { inputWidth: 256, inputHeight: 256, heatmapAboveMedian: false, patchesPerImage: cells, coresetSize: Math.max(64, Math.round(0.01 * cells * trainImages)) },
      matchColour: false,
    };
  }
  const aspect = median.width / median.height;
  const round = (v: number): number => Math.max(64, Math.round(v / 32) * 32);
  return { config: aspect >= 1 ? { inputWidth: 1152, inputHeight: round(1152 / aspect) } : { inputWidth: round(1152 * aspect), inputHeight: 1152 } };
}

const root = values.keep ?? mkdtempSync(join(tmpdir(), 'argus-surfaces-'));
const allSets = [...SETS.map((spec) => spec.name), ...NEU_CLASSES.map((c) => `neu-${c}`)];
const chosen = values.sets ? values.sets.split(',') : SETS.map((spec) => spec.name);
const unknown = chosen.filter((name) => !allSets.includes(name));
if (unknown.length > 0) throw new Error(`Unknown sets ${unknown.join(', ')}; known: ${allSets.join(', ')}`);
const variants = values.models.split(',') as Variant[];
const device = values.device as ExecutionProviderChoice;
const { service, finish, close } = openGateService();
const summary: Record<string, Record<string, number>> = {};
try {
  await service.importBackboneWeights({ path: values.weights });
  const backbone = loadResNet50Weights(values.weights);
  const backboneSha256 = service.store.settings.get<{ sha256: string }>('backbone')?.sha256 ?? '';
  for (const name of chosen) {
    const spec = SETS.find((s) => s.name === name);
    const folder = spec ? await writeSurfaceSet(root, spec) : writeNeuOneVsRest(root, join(SHARED, 'datasets/neu-det'), name.slice('neu-'.length));
    const imported = (await finish(await service.importDataset({ path: folder }))) as ImportResult;
    const train = service.store.datasets.samples(imported.datasetId, 'train');
    const median = { width: train.map((s) => s.width).sort((a, b) => a - b)[train.length >> 1], height: train.map((s) => s.height).sort((a, b) => a - b)[train.length >> 1] };
    const test = service.store.datasets.samples(imported.datasetId, 'test');
    for (const variant of variants) {
      const { config, matchColour } = variantConfig(variant, train.length, median);
      const ctx = { signal: new AbortController().signal, progress: () => undefined };
      const trained = await trainAndRegister(service.store, {
        mode: 'anomaly', datasetId: imported.datasetId, backbone, backboneSha256, provider: device, config: { ...config, matchColour }, actor: 'eval', name: `${name} ${variant}`,
      }, ctx);
      const detector = await loadDetector(service.store, trained.model, device);
      try {
        const metrics = await evaluateAnomaly(service.store.blobs, detector, trained.model.thresholds, test);
        const modelConfig = trained.model.config as unknown as AnomalyConfig & { bankSize: number };
        const line = {
          set: name, model: variant, image_auroc: metrics.image_auroc, pixel_auroc: metrics.pixel_auroc, peak_on_defect_rate: metrics.peak_on_defect_rate,
          f1: metrics.f1, false_reject_rate: metrics.false_reject_rate, ms_per_image: metrics.ms_per_image, train_seconds: trained.seconds,
          input: `${modelConfig.inputWidth}x${modelConfig.inputHeight}`, scale: modelConfig.trainScaleX, bank_size: modelConfig.bankSize,
          colour_matched: modelConfig.colourReference !== undefined, heatmap_above_median: modelConfig.heatmapAboveMedian === true,
          levels: modelConfig.levels?.length ?? 1, chosen: modelConfig.preprocessingReason,
        };
        process.stdout.write(`${JSON.stringify(round4(line))}\n`);
        (summary[variant] ??= {})[name] = round4(metrics.image_auroc) as number;
        (summary[`${variant} pixel`] ??= {})[name] = round4(metrics.pixel_auroc) as number;
      } finally {
        await detector.release();
      }
    }
  }
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
} finally {
  await close();
  if (!values.keep) rmSync(root, { recursive: true, force: true });
}

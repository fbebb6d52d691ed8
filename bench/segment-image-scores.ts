// npm run bench:segment-scores -- --data-dir DIR --model ID [--dataset ID] [--split test]
// Compares image scores of a trained segment model on a labelled split: the highest per-pixel
// defect probability, the highest per-pixel defect log-odds (log Σ_defect e^logit − background
// logit, which does not saturate where the probability rounds to 1 in float32), and the mean of
// the k highest log-odds cells. Prints one JSON object with image AUROC, recall when at most 0.5 %
// of good images are rejected, and how many good and defective images tie at the top score.
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { auroc } from '../src-main/analysis/metrics.ts';
import { ArgusService } from '../src-main/app/service.ts';
import type { Split } from '../src-main/contract/contract.ts';
import { decodeRgb } from '../src-main/images/preprocess.ts';
import { networkImage, pixelsTensor, type SegmentModelConfig } from '../src-main/modes/segment/detector.ts';
import { verifyModelFiles } from '../src-main/store/model-files.ts';
import { round4 } from './gate-service.ts';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, model: { type: 'string' }, dataset: { type: 'string', default: '1' }, split: { type: 'string', default: 'test' } } });
const service = new ArgusService({ dataDir: values['data-dir']!, readOnly: true });
const model = service.store.models.get(Number(values.model));
if (model.mode !== 'segment') throw new Error(`model ${model.id} is a ${model.mode} model`);
const files = await verifyModelFiles(service.store, model);
const session = await ort.InferenceSession.create(files.get('network.onnx')!);
const config = model.config as unknown as SegmentModelConfig;
const samples = service.store.datasets.samples(Number(values.dataset), values.split as Split).filter((s) => s.label !== 'unlabeled');

const TOP_K = [4, 16, 64];
const candidates: Record<string, number[]> = { max_probability: [], max_log_odds: [], ...Object.fromEntries(TOP_K.map((k) => [`top${k}_mean_log_odds`, []])) };
const defective: boolean[] = [];
for (const sample of samples) {
  const { seg_logits } = await session.run({ image: pixelsTensor([await networkImage(config, await decodeRgb(await service.store.blobs.get(sample.sha256)))]) });
  const [, channels, h, w] = seg_logits.dims as number[];
  const data = seg_logits.data as Float32Array;
  const plane = h * w;
  const logOdds = new Float64Array(plane);
  let maxProbability = 0;
  for (let p = 0; p < plane; p++) {
    let max = -Infinity;
    for (let c = 1; c < channels; c++) max = Math.max(max, data[c * plane + p]);
    let sum = 0;
    for (let c = 1; c < channels; c++) sum += Math.exp(data[c * plane + p] - max);
    logOdds[p] = max + Math.log(sum) - data[p];
    maxProbability = Math.max(maxProbability, Math.fround(1 / (1 + Math.exp(-logOdds[p]))));
  }
  const sorted = [...logOdds].sort((a, b) => b - a);
  candidates.max_probability.push(maxProbability);
  candidates.max_log_odds.push(sorted[0]);
  for (const k of TOP_K) candidates[`top${k}_mean_log_odds`].push(sorted.slice(0, k).reduce((a, b) => a + b, 0) / Math.min(k, sorted.length));
  defective.push(sample.label === 'defect');
}

const report = Object.fromEntries(Object.entries(candidates).map(([name, scores]) => {
  const good = scores.filter((_, i) => !defective[i]).sort((a, b) => b - a);
  const bad = scores.filter((_, i) => defective[i]);
  const cut = good[Math.floor(0.005 * good.length)];
  const top = Math.max(...scores);
  return [name, {
    image_auroc: auroc(scores, defective), recall_at_half_percent_frr: bad.filter((s) => s > cut).length / bad.length,
    good_at_top: good.filter((s) => s === top).length, defective_at_top: bad.filter((s) => s === top).length,
  }];
}));
process.stdout.write(`${JSON.stringify(round4({ model: model.id, split: values.split, images: samples.length, defective: defective.filter(Boolean).length, scores: report }))}\n`);
await service.close();

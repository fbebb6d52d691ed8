// npm run bench:anomaly-speed -- --data-dir DIR --models ID[,ID…] [--dataset ID] [--rounds 20] [--device cpu]
// Inspection time per image of anomaly model versions kept in a data directory (e.g. by
// eval:anomaly --data-dir, and their int8 children by eval:optimize) at the two sizes: a
// 1130×460 bsdata frame of the dataset's test split, and a 300×300 crop of it. Decoding and the
// whole analysis (network, nearest-neighbour search, map) are timed; the models take turns image by
// image, so a drift of the machine's speed falls on all of them alike. Prints one JSON object:
// median and p90 milliseconds per model and size, with the network/scoring/map split of the last run.
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { ExecutionProviderChoice } from '../src-main/contract/contract.ts';
import { ArgusService } from '../src-main/app/service.ts';
import { cropRgb, decodeRgb } from '../src-main/images/preprocess.ts';
import { loadDetector } from '../src-main/inspection/load-detector.ts';
import { round4 } from './gate-service.ts';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, models: { type: 'string' }, dataset: { type: 'string', default: '1' }, rounds: { type: 'string', default: '20' }, device: { type: 'string', default: 'cpu' } } });
if (!values['data-dir'] || !values.models) throw new Error('--data-dir and --models are required');
const service = new ArgusService({ dataDir: values['data-dir'], readOnly: true });
try {
  const ids = values.models.split(',').map(Number);
  const models = ids.map((id) => service.store.models.get(id));
  const detectors = await Promise.all(models.map((m) => loadDetector(service.store, m, values.device as ExecutionProviderChoice)));
  const frame = service.store.datasets.samples(Number(values.dataset), 'test').find((s) => s.width === 1130 && s.height === 460);
  if (!frame) throw new Error('The dataset has no 1130×460 test frame (bench:anomaly-speed reads bsdata)');
  const frameBytes = await service.store.blobs.get(frame.sha256);
  const crop = cropRgb(await decodeRgb(frameBytes), 400, 80, 300, 300);
  const cropBytes = await sharp(Buffer.from(crop.data), { raw: { width: 300, height: 300, channels: 3 } }).png().toBuffer();
  const rounds = Number(values.rounds);
  const result: Record<string, unknown> = {};
  for (const [size, bytes] of [['1130x460', frameBytes], ['300x300', cropBytes]] as const) {
    const times = ids.map(() => [] as number[]);
    const split: Record<string, unknown> = {};
    for (let round = -2; round < rounds; round++) {
      for (const [k, detector] of detectors.entries()) {
        const started = performance.now();
        const analysis = await detector.analyse(await decodeRgb(bytes));
        if (round >= 0) times[k].push(performance.now() - started);
        split[ids[k]] = analysis.ms;
      }
    }
    const sorted = times.map((t) => t.sort((a, b) => a - b));
    result[size] = Object.fromEntries(ids.map((id, k) => [`model ${id} (${String(models[k].config.precision ?? 'fp32')})`, round4({
      median_ms: sorted[k][Math.floor(rounds / 2)], p90_ms: sorted[k][Math.floor(rounds * 0.9)], last_split_ms: split[id],
    })]));
  }
  process.stdout.write(`${JSON.stringify({ device: values.device, rounds, ...result })}\n`);
  await Promise.all(detectors.map((d) => d.release()));
} finally {
  await service.close();
}

// npm run eval:optimize -- --data-dir DIR --model ID [--dataset NAME|ID] [--precision int8|fp16]
//                          [--method percentile|minmax] [--weight-bits 7|8] [--device …]
// The deployment-optimisation gate: makes an int8 (or fp16) child of a trained model in a data
// directory (e.g. one kept by eval:anomaly or eval:segment with --data-dir), then evaluates parent
// and child on the test split and prints both, with the accuracy guard's verdict on val.
import { parseArgs } from 'node:util';
import type { DatasetSummary, ExecutionProviderChoice, OptimizeModelResult } from '../src-main/contract/contract.ts';
import { openGateService, round4 } from './gate-service.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    model: { type: 'string' },
    dataset: { type: 'string' },
    precision: { type: 'string', default: 'int8' },
    method: { type: 'string' },
    'weight-bits': { type: 'string' },
    device: { type: 'string', default: 'cpu' },
  },
});
if (!values['data-dir'] || !values.model) throw new Error('--data-dir and --model are required');
const { service, finish, close } = openGateService(values['data-dir']);

try {
  const device = values.device as ExecutionProviderChoice;
  const parentId = Number(values.model);
  const datasets: DatasetSummary[] = await service.listDatasets({});
  const dataset = values.dataset ? datasets.find((d) => d.name === values.dataset || String(d.id) === values.dataset) : datasets[0];
  if (!dataset) throw new Error(`No dataset ${values.dataset ?? ''} in ${values['data-dir']}`);
  const optimized = (await finish(await service.optimizeModel({
    modelId: parentId, precision: values.precision as 'int8' | 'fp16', device,
    method: values.method as 'percentile' | 'minmax' | undefined,
    weightBits: values['weight-bits'] ? (Number(values['weight-bits']) as 7 | 8) : undefined,
  }))) as OptimizeModelResult;
  const keep = ['image_auroc', 'pixel_auroc', 'pixel_iou', 'mean_box_ap50', 'coco_map', 'f1', 'precision', 'recall', 'false_reject_rate', 'miss_rate', 'recall_at_half_percent_frr', 'ms_per_image'];
  const test = async (modelId: number): Promise<Record<string, unknown>> => {
    const metrics = (await finish(await service.evaluateModel({ modelId, datasetId: dataset.id, split: 'test', device }))) as Record<string, unknown>;
    return Object.fromEntries(keep.filter((k) => k in metrics).map((k) => [k, round4(metrics[k])]));
  };
  const network = (id: number): number => service.store.models.get(id).files.filter((f) => f.role.endsWith('.onnx')).reduce((s, f) => s + f.bytes, 0);
  const result = {
    dataset: dataset.name,
    precision: values.precision,
    parent: parentId,
    model: optimized.modelId,
    optimization: service.store.models.get(optimized.modelId).config.optimization,
    guard: optimized.guard,
    optimize_seconds: round4(optimized.seconds),
    onnx_mb: { parent: round4(network(parentId) / 2 ** 20), optimized: round4(network(optimized.modelId) / 2 ** 20) },
    test: { parent: await test(parentId), optimized: await test(optimized.modelId) },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await close();
}

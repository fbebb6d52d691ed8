import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { AdaptModelResult, BackboneInfo, ExecutionProviderChoice, InspectFilesResult, OptimizeModelResult, Split, TrainModelResult } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type Command, intArg, requireArg, table } from '../command.ts';
import { resolveDataset } from './datasets-ref.ts';
import { followJob } from './jobs.ts';
import { modeOf, TRAINABLE_MODES } from '../../modes/registry.ts';

const deviceOf = (value: unknown): ExecutionProviderChoice => {
  const device = (value ?? 'auto') as ExecutionProviderChoice;
  if (!['auto', 'cpu', 'cuda', 'webgpu'].includes(device)) throw new ArgusError('invalid_argument', `Unknown device ${device}`);
  return device;
};

export const weightsImport: Command = {
  name: 'weights import',
  usage: 'weights import <resnet50.safetensors>',
  summary: 'Checks a ResNet-50 weights file (torchvision/timm names) and makes it the backbone for training.',
  async run(ctx, _values, [file]) {
    const info: BackboneInfo = await ctx.call('importBackboneWeights', { path: resolve(requireArg(file, 'weights file')) });
    ctx.out(ctx.json ? JSON.stringify(info) : `Backbone weights ${info.sha256.slice(0, 12)}… (${(info.bytes / 1e6).toFixed(1)} MB), input mean ${info.mean.map((m) => m.toFixed(2)).join('/')}, std ${info.std.map((s) => s.toFixed(2)).join('/')}`);
  },
};

export const weightsDownload: Command = {
  name: 'weights download',
  usage: 'weights download --url <https://…/resnet50.safetensors> --sha256 <hex>',
  summary: 'Downloads ResNet-50 weights on a connected machine, verifies their SHA-256 and makes them the backbone.',
  options: { url: { type: 'string' }, sha256: { type: 'string' } },
  async run(ctx, values) {
    const started = await ctx.call('downloadBackboneWeights', { url: requireArg(values.url as string, '--url'), sha256: requireArg(values.sha256 as string, '--sha256') });
    const info = await followJob<BackboneInfo>(ctx, started);
    ctx.out(ctx.json ? JSON.stringify(info) : `Downloaded and verified backbone weights ${info.sha256.slice(0, 12)}… (${(info.bytes / 1e6).toFixed(1)} MB)`);
  },
};

export const train: Command = {
  name: 'train',
  usage: `train --mode ${TRAINABLE_MODES.join('|')} --dataset <dir|name|id> [--project NAME] [--weights FILE] [--device auto|cpu|cuda|webgpu] [--input WxH] [--name NAME] [--false-reject-rate X]\n`
    + '        anomaly: [--coreset N] [--layers c3+c4|c2+c3] [--border PX]\n'
    + '        segment, detect, classify: [--parent MODEL] [--epochs N] [--batch N] [--lr X] [--frozen-stages 1|2|3] [--steps-per-epoch N] [--optimizer adamw|sgd]\n'
    + '        classify: [--multi-label]   several defect classes per image (one sigmoid per class)\n'
    + '  train --mode segment|detect|classify --resume RUN   continues an interrupted run from its last checkpoint\n'
    + '  --false-reject-rate X: the NG threshold rejects at most this share of good val images (e.g. 0.005); otherwise F1-optimal',
  summary: 'Trains a model version from the dataset (anomaly: from its good train images; segment: masks from its labelled defects; detect: boxes with class and score) and prints its id.',
  options: {
    mode: { type: 'string', default: 'anomaly' }, dataset: { type: 'string' }, project: { type: 'string' }, weights: { type: 'string' },
    device: { type: 'string' }, input: { type: 'string' }, coreset: { type: 'string' }, name: { type: 'string' }, layers: { type: 'string' }, border: { type: 'string' },
    parent: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, 'frozen-stages': { type: 'string' },
    'steps-per-epoch': { type: 'string' }, resume: { type: 'string' }, optimizer: { type: 'string' }, 'false-reject-rate': { type: 'string' },
    'multi-label': { type: 'boolean' },
  },
  async run(ctx, values) {
    const mode = modeOf(String(values.mode)).mode;
    if (values.weights) await ctx.call('importBackboneWeights', { path: resolve(values.weights as string) });
    const resumeRunId = intArg(values.resume, '--resume');
    const datasetId = resumeRunId !== undefined && !values.dataset
      ? undefined
      : await resolveDataset(ctx, requireArg(values.dataset as string, '--dataset'), values.project as string | undefined);
    let inputSize: [number, number] | undefined;
    if (values.input) {
      const m = /^(\d+)x(\d+)$/.exec(values.input as string);
      if (!m) throw new ArgusError('invalid_argument', '--input must be WIDTHxHEIGHT, e.g. 1024x416');
      inputSize = [Number(m[1]), Number(m[2])];
    }
    const layers = values.layers as 'c3+c4' | 'c2+c3' | undefined;
    if (layers && layers !== 'c3+c4' && layers !== 'c2+c3') throw new ArgusError('invalid_argument', '--layers must be c3+c4 or c2+c3');
    const common = { datasetId, device: deviceOf(values.device), inputSize, name: values.name as string | undefined };
    const frozenStages = intArg(values['frozen-stages'], '--frozen-stages');
    if (frozenStages !== undefined && ![1, 2, 3].includes(frozenStages)) throw new ArgusError('invalid_argument', '--frozen-stages must be 1, 2 or 3');
    const lr = values.lr === undefined ? undefined : Number(values.lr);
    if (lr !== undefined && !(lr > 0)) throw new ArgusError('invalid_argument', '--lr must be a positive number');
    const optimizer = values.optimizer as 'adamw' | 'sgd' | undefined;
    if (optimizer !== undefined && optimizer !== 'adamw' && optimizer !== 'sgd') throw new ArgusError('invalid_argument', '--optimizer must be adamw or sgd');
    // Every option given goes to the service; the mode takes the ones it knows.
    const started = await ctx.call('trainModel', {
      mode, ...common, parentModelId: intArg(values.parent, '--parent'), resumeRunId, epochs: intArg(values.epochs, '--epochs'),
      batchSize: intArg(values.batch, '--batch'), learningRate: lr, frozenStages: frozenStages as 1 | 2 | 3 | undefined,
      stepsPerEpoch: intArg(values['steps-per-epoch'], '--steps-per-epoch'), optimizer,
      coresetSize: intArg(values.coreset, '--coreset'), layers, ignoredBorder: intArg(values.border, '--border'),
      falseRejectRate: rateArg(values['false-reject-rate']), multiLabel: values['multi-label'] ? true : undefined,
    });
    const result = await followJob<TrainModelResult>(ctx, started);
    ctx.out(ctx.json ? JSON.stringify({ id: result.modelId, metrics: result.metrics, seconds: result.seconds }) : String(result.modelId));
  },
};

export const evaluate: Command = {
  name: 'eval',
  readOnly: true,
  usage: 'eval --model <id> --dataset <dir|name|id> [--split test|val|train] [--device …] [--json]',
  summary: 'Measures a model on a dataset split: image and pixel AUROC, precision/recall/F1, false rejects, misses.',
  options: { model: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string', default: 'test' }, device: { type: 'string' } },
  async run(ctx, values) {
    const split = values.split as Split;
    if (!['train', 'val', 'test'].includes(split)) throw new ArgusError('invalid_argument', `--split must be train, val or test`);
    const modelId = intArg(requireArg(values.model as string, '--model'), '--model')!;
    const datasetId = await resolveDataset(ctx, requireArg(values.dataset as string, '--dataset'));
    const metrics = await followJob<Record<string, unknown>>(ctx, await ctx.call('evaluateModel', { modelId, datasetId, split, device: deviceOf(values.device) }));
    if (ctx.json) return ctx.out(JSON.stringify(metrics));
    const value = (v: unknown): string => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v));
    const rows = Object.entries(metrics).flatMap(([k, v]): string[][] => {
      if (k === 'image_scores') return []; // histogram data, in --json
      if (v !== null && typeof v === 'object') return Object.entries(v).map(([sub, x]) => [`${k}.${sub}`, value(x)]);
      return [[k, value(v)]];
    });
    ctx.out(table([['METRIC', 'VALUE'], ...rows]));
  },
};

const rateArg = (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!(rate > 0 && rate < 0.5)) throw new ArgusError('invalid_argument', '--false-reject-rate must be a share between 0 and 0.5, e.g. 0.005 for 0.5 %');
  return rate;
};

export const inspect: Command = {
  name: 'inspect',
  usage: 'inspect --model <id|production> --out <dir> [--group NAME] [--device …] <file|dir>...',
  summary: 'Inspects images: <out>/results.jsonl (one line per image) and <out>/heatmaps/<stem>.png; recorded in the history.\n'
    + '--group judges them by that station\'s or camera\'s thresholds (see model adapt).',
  options: { model: { type: 'string', default: 'production' }, out: { type: 'string' }, device: { type: 'string' }, group: { type: 'string' } },
  async run(ctx, values, paths) {
    const modelRef = values.model as string;
    const model = modelRef === 'production' ? 'production' : intArg(modelRef, '--model')!;
    if (paths.length === 0) throw new ArgusError('invalid_argument', 'Name at least one image or folder');
    const outDir = resolve(requireArg(values.out as string, '--out'));
    const result = await followJob<InspectFilesResult>(ctx, await ctx.call('inspectFiles', { model, paths, outDir, device: deviceOf(values.device), group: values.group as string | undefined }));
    const skipped = result.skipped ? ` (${result.skipped} already inspected in an earlier run)` : '';
    ctx.out(ctx.json ? JSON.stringify(result) : `Inspected ${result.inspected}${skipped}: ${result.ok} OK, ${result.ng} NG, ${result.review} REVIEW, ${result.errors} errors (${result.msPerImage.toFixed(0)} ms/image). Results: ${result.resultsFile}`);
  },
};

export const modelList: Command = {
  name: 'model list',
  readOnly: true,
  usage: 'model list [--project ID]',
  summary: 'Lists model versions with status and key metrics.',
  options: { project: { type: 'string' } },
  async run(ctx, values) {
    const models = await ctx.call('listModels', { projectId: intArg(values.project, '--project') });
    if (ctx.json) return ctx.out(JSON.stringify(models));
    if (models.length === 0) return ctx.out('No model versions yet.');
    const auroc = (m: (typeof models)[number]): string => {
      // Not measurable (null) when the validation split has no defective images; an optimised
      // version shows what its accuracy check measured.
      const measured = (m.metrics.validation ?? (m.metrics.guard as { optimized?: unknown } | undefined)?.optimized) as { image_auroc?: number | null } | undefined;
      const v = measured?.image_auroc;
      return typeof v === 'number' ? v.toFixed(3) : '-';
    };
    const precision = (m: (typeof models)[number]): string => {
      const guard = m.metrics.guard as { passed?: boolean } | undefined;
      return `${String(m.config.precision ?? 'fp32')}${m.config.optimization ? (guard?.passed ? '' : ' (blocked)') : ''}`;
    };
    ctx.out(table([['ID', 'NAME', 'MODE', 'STATUS', 'VAL AUROC', 'CREATED', 'PRECISION'], ...models.map((m) => [m.id, m.name, m.mode, m.status, auroc(m), m.createdAt.slice(0, 19), precision(m)])]));
  },
};

export const modelPromote: Command = {
  name: 'model promote',
  usage: 'model promote <id>',
  summary: 'Makes a model version the production model of its project (the previous one is retired).',
  async run(ctx, _values, [id]) {
    const model = await ctx.call('promoteModel', { modelId: intArg(requireArg(id, 'model id'), 'model id')! });
    ctx.out(ctx.json ? JSON.stringify(model) : `Model ${model.id} "${model.name}" is now in production`);
  },
};

export const modelOptimize: Command = {
  name: 'model optimize',
  usage: 'model optimize <id> --int8 [--calib <dir|name|id>] [--method percentile|minmax] [--weight-bits 7|8] | --fp16  [--device …] [--json]',
  summary: 'Makes an int8 (calibrated on the project\'s images) or fp16 child of a model version, checked against it on the validation split.',
  options: {
    int8: { type: 'boolean', default: false }, fp16: { type: 'boolean', default: false }, calib: { type: 'string' }, method: { type: 'string' },
    'weight-bits': { type: 'string' }, device: { type: 'string' },
  },
  async run(ctx, values, [id]) {
    if (values.int8 === values.fp16) throw new ArgusError('invalid_argument', 'Choose one of --int8 or --fp16');
    const method = values.method as string | undefined;
    if (method !== undefined && method !== 'percentile' && method !== 'minmax') throw new ArgusError('invalid_argument', '--method must be percentile or minmax');
    const bits = values['weight-bits'] as string | undefined;
    if (bits !== undefined && bits !== '7' && bits !== '8') throw new ArgusError('invalid_argument', '--weight-bits must be 7 or 8');
    if (values.fp16 && (values.calib || method || bits)) throw new ArgusError('invalid_argument', '--calib, --method and --weight-bits apply to --int8 only');
    const calibrationDatasetId = values.calib ? await resolveDataset(ctx, values.calib as string) : undefined;
    const result = await followJob<OptimizeModelResult>(ctx, await ctx.call('optimizeModel', {
      modelId: intArg(requireArg(id, 'model id'), 'model id')!, precision: values.int8 ? 'int8' : 'fp16',
      calibrationDatasetId, method, weightBits: bits ? (Number(bits) as 7 | 8) : undefined, device: deviceOf(values.device),
    }));
    if (ctx.json) return ctx.out(JSON.stringify(result));
    const { guard } = result;
    const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(4));
    ctx.out(table([
      ['VAL METRIC', 'PARENT', 'OPTIMISED'],
      ['image AUROC', fmt(guard.parent.image_auroc), fmt(guard.optimized.image_auroc)],
      ['pixel IoU', fmt(guard.parent.pixel_iou), fmt(guard.optimized.pixel_iou)],
    ]));
    ctx.out(guard.passed
      ? `Model ${result.modelId} passed its accuracy check and can be promoted (${result.seconds.toFixed(0)} s)`
      : `Model ${result.modelId} stays a candidate that cannot be promoted. ${guard.reason}`);
  },
};

export const modelAdapt: Command = {
  name: 'model adapt',
  usage: 'model adapt <id> --good <folder|file|dataset> --group NAME [--split train|val|test] [--false-reject-rate X] [--device …] [--json]',
  summary: 'Adapts an anomaly model to a station or camera from its good frames (a folder of images, or a dataset\'s good images):\n'
    + 'they join the memory bank and set the group\'s thresholds, in a new candidate child version. Seconds, not a retraining.',
  options: { good: { type: 'string' }, group: { type: 'string' }, split: { type: 'string' }, 'false-reject-rate': { type: 'string' }, device: { type: 'string' } },
  async run(ctx, values, [id]) {
    const good = requireArg(values.good as string, '--good');
    const split = values.split as Split | undefined;
    if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new ArgusError('invalid_argument', '--split must be train, val or test');
    // A path on this station is a folder (or file) of frames; anything else names a dataset.
    const source = existsSync(good) ? { paths: [resolve(good)] } : { datasetId: await resolveDataset(ctx, good), split };
    const result = await followJob<AdaptModelResult>(ctx, await ctx.call('adaptModel', {
      modelId: intArg(requireArg(id, 'model id'), 'model id')!, group: requireArg(values.group as string, '--group'), ...source,
      falseRejectRate: rateArg(values['false-reject-rate']), device: deviceOf(values.device),
    }));
    if (ctx.json) return ctx.out(JSON.stringify(result));
    const t = result.thresholds;
    ctx.out(`Model ${result.modelId} knows group "${result.group}" from ${result.frames} good frames `
      + `(${result.fromGroup} of ${result.bankSize} memory-bank patches are its own; thresholds ${t.method}: NG ${t.image.ng.toPrecision(4)}, good median ${t.image.goodMedian.toPrecision(4)}; ${result.seconds.toFixed(1)} s). `
      + 'It is a candidate: promote it to use it on the line.');
  },
};

export const modelRollback: Command = {
  name: 'model rollback',
  usage: 'model rollback [--project ID]',
  summary: 'Puts the previous production model back into production (the current one is retired).',
  options: { project: { type: 'string' } },
  async run(ctx, values) {
    const model = await ctx.call('rollbackModel', { projectId: intArg(values.project, '--project') });
    ctx.out(ctx.json ? JSON.stringify(model) : `Rolled back: model ${model.id} "${model.name}" is in production again`);
  },
};

export const modelExport: Command = {
  name: 'model export',
  usage: 'model export <id> --out <file.argus> | --onnx <folder>  [--json]',
  summary: 'Writes a model version as one package file for another station (ONNX files, config, thresholds, classes, metrics,\n'
    + 'lineage and the SHA-256 of every file), or with --onnx its ONNX graphs and a JSON sidecar for use outside Argus.',
  options: { out: { type: 'string' }, onnx: { type: 'string' } },
  async run(ctx, values, [id]) {
    const modelId = intArg(requireArg(id, 'model id'), 'model id')!;
    if ((values.out === undefined) === (values.onnx === undefined)) throw new ArgusError('invalid_argument', 'Give one of --out <file.argus> or --onnx <folder>');
    if (values.onnx !== undefined) {
      const written = await ctx.call('exportModelOnnx', { modelId, path: resolve(values.onnx as string) });
      return ctx.out(ctx.json ? JSON.stringify(written) : `Wrote ${written.files.join(', ')} into ${written.folder}`);
    }
    const written = await ctx.call('exportModelPackage', { modelId, path: resolve(values.out as string) });
    ctx.out(ctx.json ? JSON.stringify(written) : `Wrote ${written.path} (${(written.bytes / 2 ** 20).toFixed(1)} MB, SHA-256 ${written.sha256})`);
  },
};

export const modelImport: Command = {
  name: 'model import',
  usage: 'model import <file.argus> [--json]',
  summary: 'Adds the model version in a package as a candidate, after checking every file against its SHA-256, the network\n'
    + 'and backbone against this station\'s, and the classes against the project\'s (created when missing).',
  async run(ctx, _values, [file]) {
    const model = await ctx.call('importModelPackage', { path: resolve(requireArg(file, 'package file')) });
    ctx.out(ctx.json ? JSON.stringify(model) : `Imported model ${model.id} "${model.name}" (${model.mode}) as a candidate: promote it to use it on the line`);
  },
};

import { resolve } from 'node:path';
import type { DatasetSummary, ImportResult } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type Command, intArg, requireArg, table } from '../command.ts';
import { datasetNamed, resolveDataset } from './datasets-ref.ts';
import { followJob } from './jobs.ts';

export const datasetImport: Command = {
  name: 'dataset import',
  usage: 'dataset import <dir|coco.json> [--project NAME|ID] [--name NAME] [--format manifest|coco|folder]',
  summary:
    'Imports a dataset: an Argus manifest folder, COCO JSON, or a plain folder of images with optional masks/.\n' +
    'Re-importing the same folder adds nothing. A bad entry aborts the whole import and is named.',
  options: { project: { type: 'string' }, name: { type: 'string' }, format: { type: 'string' } },
  async run(ctx, values, [path]) {
    const project = values.project as string | undefined;
    const format = values.format as 'manifest' | 'coco' | 'folder' | undefined;
    if (format && !['manifest', 'coco', 'folder'].includes(format)) throw new ArgusError('invalid_argument', `Unknown format ${format}`);
    const projectId = project && /^\d+$/.test(project) ? Number(project) : undefined;
    const started = await ctx.call('importDataset', {
      path: requireArg(path, 'dataset folder'),
      projectId,
      projectName: projectId === undefined ? project : undefined,
      name: values.name as string | undefined,
      format,
    });
    const result = await followJob<ImportResult>(ctx, started);
    if (ctx.json) return ctx.out(JSON.stringify(result));
    ctx.out(
      `Imported dataset ${result.datasetId} (${result.format}): ${result.images} images, ` +
        `${result.imagesAdded} new, ${result.annotationsAdded} new annotations in ${result.seconds.toFixed(1)} s`,
    );
  },
};

const countsLine = (d: DatasetSummary): string =>
  `${d.counts.total} images (train ${d.counts.train} / val ${d.counts.val} / test ${d.counts.test}; ` +
  `good ${d.counts.good}, defect ${d.counts.defect}, unlabelled ${d.counts.unlabeled})`;

export const datasetList: Command = {
  name: 'dataset list',
  readOnly: true,
  usage: 'dataset list [--project ID]',
  summary: 'Lists datasets with their split and label counts.',
  options: { project: { type: 'string' } },
  async run(ctx, values) {
    const datasets = await ctx.call('listDatasets', { projectId: intArg(values.project, '--project') });
    if (ctx.json) return ctx.out(JSON.stringify(datasets));
    if (datasets.length === 0) return ctx.out('No datasets yet.');
    ctx.out(table([['ID', 'PROJECT', 'NAME', 'IMAGES'], ...datasets.map((d) => [d.id, d.projectName, d.name, countsLine(d)])]));
  },
};

export const datasetShow: Command = {
  name: 'dataset show',
  readOnly: true,
  usage: 'dataset show <id|name> [--split train|val|test] [--group NAME] [--limit N]',
  summary: 'Shows a dataset and lists its images.',
  options: { split: { type: 'string' }, group: { type: 'string' }, limit: { type: 'string' } },
  async run(ctx, values, [ref]) {
    const key = requireArg(ref, 'dataset id or name');
    let dataset: DatasetSummary;
    if (/^\d+$/.test(key)) dataset = await ctx.call('getDataset', { datasetId: Number(key) });
    else dataset = await datasetNamed(ctx, key);
    const split = values.split as 'train' | 'val' | 'test' | undefined;
    const group = values.group as string | undefined;
    const page = await ctx.call('listDatasetImages', { datasetId: dataset.id, split, group, limit: intArg(values.limit, '--limit') ?? 20 });
    if (ctx.json) return ctx.out(JSON.stringify({ ...dataset, images: page }));
    ctx.out(`Dataset ${dataset.id} "${dataset.name}" in project "${dataset.projectName}" (${dataset.format} from ${dataset.sourcePath})`);
    ctx.out(countsLine(dataset));
    if (dataset.groups.length > 0) ctx.out(`Groups: ${dataset.groups.map((g) => `${g.name} (${g.images})`).join(', ')}`);
    ctx.out(table([['FILE', 'SPLIT', 'LABEL', 'GROUP', 'SIZE', 'REGIONS'], ...page.items.map((i) => [i.file, i.split, i.label, i.group ?? '-', `${i.width}x${i.height}`, i.annotationCount])]));
    if (page.total > page.items.length) ctx.out(`… ${page.total - page.items.length} more`);
  },
};

export const datasetExport: Command = {
  name: 'dataset export',
  usage: 'dataset export <name|id> --out DIR [--format manifest|coco]',
  summary: 'Writes a dataset (images, splits, labels, boxes and the pixel labels of everything drawn or imported) as an Argus manifest folder or COCO JSON.',
  options: { out: { type: 'string' }, project: { type: 'string' }, format: { type: 'string', default: 'manifest' } },
  async run(ctx, values, [ref]) {
    const datasetId = await resolveDataset(ctx, requireArg(ref, 'dataset'), values.project as string | undefined);
    const format = values.format as string;
    if (format !== 'manifest' && format !== 'coco') throw new ArgusError('invalid_argument', '--format must be manifest or coco');
    const result = await followJob<{ path: string; images: number; masks: number; seconds: number }>(ctx, await ctx.call('exportDataset', { datasetId, path: resolve(requireArg(values.out as string, '--out')), format }));
    const masks = format === 'coco' ? 'RLE masks' : 'label masks';
    ctx.out(ctx.json ? JSON.stringify(result) : `Exported ${result.images} images (${result.masks} ${masks}) to ${result.path} in ${result.seconds.toFixed(1)} s`);
  },
};

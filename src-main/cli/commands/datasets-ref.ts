import { existsSync, statSync } from 'node:fs';
import type { DatasetSummary, ImportResult } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import type { CommandContext } from '../command.ts';
import { followJob } from './jobs.ts';

/** The one dataset with this name; several or none is an error that says which. */
export async function datasetNamed(ctx: CommandContext, name: string): Promise<DatasetSummary> {
  const matches = (await ctx.call('listDatasets', {})).filter((d) => d.name === name);
  if (matches.length === 1) return matches[0];
  throw new ArgusError(matches.length ? 'conflict' : 'not_found', matches.length ? `Several datasets are named ${name}; use the id` : `No dataset or folder ${name}`);
}

/**
 * A dataset named on the command line: an id, a dataset name, or a folder (imported first;
 * re-importing a folder adds nothing, so this is cheap the second time).
 */
export async function resolveDataset(ctx: CommandContext, ref: string, project?: string): Promise<number> {
  if (/^\d+$/.test(ref)) return (await ctx.call('getDataset', { datasetId: Number(ref) })).id;
  if (existsSync(ref) && statSync(ref).isDirectory()) {
    const result = await followJob<ImportResult>(ctx, await ctx.call('importDataset', { path: ref, projectName: project }));
    return result.datasetId;
  }
  return (await datasetNamed(ctx, ref)).id;
}

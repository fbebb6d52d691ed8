import { existsSync, statSync } from 'node:fs';
import type { ImportResult } from '../../api/contract.ts';
import { ArgusError } from '../../api/errors.ts';
import type { ArgusService } from '../../api/service.ts';
import type { CommandContext } from '../command.ts';
import { followJob } from './jobs.ts';

/**
 * A dataset named on the command line: an id, a dataset name, or a folder (imported first;
 * re-importing a folder adds nothing, so this is cheap the second time).
 */
export async function resolveDataset(ctx: CommandContext, service: ArgusService, ref: string, project?: string): Promise<number> {
  if (/^\d+$/.test(ref)) return service.store.datasets.get(Number(ref)).id;
  if (existsSync(ref) && statSync(ref).isDirectory()) {
    const result = await followJob<ImportResult>(ctx, service, await service.importDataset({ path: ref, projectName: project }));
    return result.datasetId;
  }
  const matches = service.store.datasets.findByName(ref);
  if (matches.length === 1) return matches[0].id;
  throw new ArgusError(matches.length ? 'conflict' : 'not_found', matches.length ? `Several datasets are named ${ref}; use the id` : `No dataset or folder ${ref}`);
}

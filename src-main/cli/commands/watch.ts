import { resolve } from 'node:path';
import type { ExecutionProviderChoice } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type Command, intArg, requireArg } from '../command.ts';
import { followJob } from './jobs.ts';

export const watch: Command = {
  name: 'watch',
  usage: 'watch <dir> [--model production|ID] [--group NAME] [--sidecar] [--sort] [--log FILE] [--once] [--device …]',
  summary:
    'Hot folder: inspects every new image under <dir> once it is completely written, with the production model.\n' +
    'Results go to the history; --sidecar writes <image>.json, --sort moves images into OK/ NG/ REVIEW/ ERROR/,\n' +
    '--log appends JSONL. Restarting neither re-inspects nor skips files. Ctrl-C stops; --once does one pass.\n' +
    '--group judges every image by that station\'s thresholds; without it, images in a subfolder named after\n' +
    'one of the model\'s groups (see model adapt) are judged by that group\'s.',
  options: {
    model: { type: 'string', default: 'production' }, sidecar: { type: 'boolean' }, sort: { type: 'boolean' }, log: { type: 'string' },
    once: { type: 'boolean' }, device: { type: 'string', default: 'auto' }, group: { type: 'string' },
  },
  async run(ctx, values, [dir]) {
    const service = ctx.service();
    const device = values.device as ExecutionProviderChoice;
    if (!['auto', 'cpu', 'cuda', 'webgpu'].includes(device)) throw new ArgusError('invalid_argument', `Unknown device ${device}`);
    const modelRef = values.model as string;
    const started = await ctx.call('watchFolder', {
      folder: resolve(requireArg(dir, 'folder')),
      model: modelRef === 'production' ? 'production' : intArg(modelRef, '--model')!,
      sidecar: Boolean(values.sidecar), sort: Boolean(values.sort), log: values.log ? resolve(values.log as string) : undefined,
      once: Boolean(values.once), device, group: values.group as string | undefined,
    });
    if (!values.once) ctx.progress(`Watching ${resolve(dir)} (Ctrl-C to stop)`);
    const result = await followJob<Record<string, number>>(ctx, started).catch((error: ArgusError) => {
      if (error.code === 'cancelled') return service.jobs.get(started.id).result as Record<string, number>;
      throw error;
    });
    ctx.out(ctx.json ? JSON.stringify(result ?? {}) : `Inspected ${result?.inspected ?? 0}: ${result?.OK ?? 0} OK, ${result?.NG ?? 0} NG, ${result?.REVIEW ?? 0} REVIEW, ${result?.ERROR ?? 0} errors`);
  },
};

import type { Command } from '../command.ts';

export const gc: Command = {
  name: 'gc',
  usage: 'gc [--dry-run]',
  summary: 'Removes stored files nothing refers to any more (older than an hour), e.g. masks replaced by edits.',
  options: { 'dry-run': { type: 'boolean' } },
  async run(ctx, values) {
    const dryRun = values['dry-run'] === true;
    const result = ctx.service().collectGarbage({ dryRun });
    const mb = (result.bytes / 2 ** 20).toFixed(1);
    ctx.out(ctx.json ? JSON.stringify({ ...result, dryRun }) : `${dryRun ? 'Would remove' : 'Removed'} ${result.files} unreferenced files (${mb} MB)`);
  },
};

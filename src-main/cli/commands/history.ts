import { writeFileSync } from 'node:fs';
import { ArgusError } from '../../api/errors.ts';
import type { InspectionRecord } from '../../api/contract.ts';
import { inspectionsToCsv } from '../../common/history-csv.ts';
import type { Command } from '../command.ts';

export const historyExport: Command = {
  name: 'history export',
  usage: 'history export --format csv|json [--out FILE] [--from ISO] [--to ISO] [--verdict OK|NG|REVIEW|ERROR]',
  summary: 'Exports the inspection history (all matching records, newest first).',
  options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, verdict: { type: 'string' } },
  async run(ctx, values) {
    const format = values.format as string;
    if (format !== 'csv' && format !== 'json') throw new ArgusError('invalid_argument', `--format must be csv or json, not ${format}`);
    const items: InspectionRecord[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await ctx.service().listInspections({
        offset, limit: 1000,
        from: values.from as string | undefined, to: values.to as string | undefined,
        verdict: values.verdict as InspectionRecord['verdict'] | undefined,
      });
      items.push(...page.items);
      if (page.items.length < 1000) break;
    }
    const text = format === 'csv' ? inspectionsToCsv(items) : JSON.stringify(items, null, 2) + '\n';
    if (values.out) {
      writeFileSync(values.out as string, text);
      ctx.progress(`Wrote ${items.length} inspections to ${values.out as string}`);
    } else process.stdout.write(text);
  },
};

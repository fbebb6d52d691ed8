import { writeFileSync } from 'node:fs';
import { ArgusError } from '../../api/errors.ts';
import type { AuditEntry, InspectionRecord } from '../../api/contract.ts';
import { auditToCsv, inspectionsToCsv } from '../../common/csv-export.ts';
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

export const auditExport: Command = {
  name: 'audit export',
  usage: 'audit export --format csv|json [--out FILE]',
  summary: 'Exports the audit log (who changed what and when: imports, labels, training, thresholds, promotions, roles).',
  options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' } },
  async run(ctx, values) {
    const format = values.format as string;
    if (format !== 'csv' && format !== 'json') throw new ArgusError('invalid_argument', `--format must be csv or json, not ${format}`);
    const entries: AuditEntry[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await ctx.service().listAuditLog({ offset, limit: 1000 });
      entries.push(...page);
      if (page.length < 1000) break;
    }
    const text = format === 'csv' ? auditToCsv(entries) : JSON.stringify(entries, null, 2) + '\n';
    if (values.out) {
      writeFileSync(values.out as string, text);
      ctx.progress(`Wrote ${entries.length} audit entries to ${values.out as string}`);
    } else process.stdout.write(text);
  },
};

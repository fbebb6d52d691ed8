import { writeFileSync } from 'node:fs';
import { ArgusError } from '../../contract/errors.ts';
import type { InspectionRecord } from '../../contract/contract.ts';
import { auditToCsv, inspectionsToCsv } from '../../common/csv-export.ts';
import type { Command, CommandContext } from '../command.ts';

const PAGE = 1000;

/** Every row of a paged listing, page by page. */
async function allPages<T>(page: (offset: number) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const next = await page(offset);
    rows.push(...next);
    if (next.length < PAGE) return rows;
  }
}

/** Writes rows as CSV or JSON to --out, or to stdout. */
function writeExport<T>(ctx: CommandContext, values: Record<string, unknown>, rows: T[], toCsv: (rows: T[]) => string, what: string): void {
  const format = values.format as string;
  const text = format === 'csv' ? toCsv(rows) : JSON.stringify(rows, null, 2) + '\n';
  if (values.out) {
    writeFileSync(values.out as string, text);
    ctx.progress(`Wrote ${rows.length} ${what} to ${values.out as string}`);
  } else process.stdout.write(text);
}

function checkFormat(values: Record<string, unknown>): void {
  const format = values.format as string;
  if (format !== 'csv' && format !== 'json') throw new ArgusError('invalid_argument', `--format must be csv or json, not ${format}`);
}

export const historyExport: Command = {
  name: 'history export',
  readOnly: true,
  usage: 'history export --format csv|json [--out FILE] [--from ISO] [--to ISO] [--verdict OK|NG|REVIEW|ERROR]',
  summary: 'Exports the inspection history (all matching records, newest first).',
  options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, verdict: { type: 'string' } },
  async run(ctx, values) {
    checkFormat(values);
    const items = await allPages(async (offset) => (await ctx.call('listInspections', {
      offset, limit: PAGE,
      from: values.from as string | undefined, to: values.to as string | undefined,
      verdict: values.verdict as InspectionRecord['verdict'] | undefined,
    })).items);
    writeExport(ctx, values, items, inspectionsToCsv, 'inspections');
  },
};

export const auditExport: Command = {
  name: 'audit export',
  readOnly: true,
  usage: 'audit export --format csv|json [--out FILE]',
  summary: 'Exports the audit log (who changed what and when: imports, labels, training, thresholds, promotions, roles).',
  options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' } },
  async run(ctx, values) {
    checkFormat(values);
    writeExport(ctx, values, await allPages((offset) => ctx.call('listAuditLog', { offset, limit: PAGE })), auditToCsv, 'audit entries');
  },
};

// CSV exports of the history and the audit log, shared by the CLI and the UI.
import type { AuditEntry, InspectionRecord } from '../contract/contract.ts';

/** Excel reads a CSV as UTF-8 only when it starts with a byte order mark (else in the PC's code page). */
const BOM = '\uFEFF';

/**
 * One cell. Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return: a file or operator named "=HYPERLINK(…)") is kept as text by a leading
 * apostrophe; numbers stay numbers.
 */
export const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const csv = (columns: string[], rows: unknown[][]): string => BOM + [columns.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n';

export function inspectionsToCsv(items: InspectionRecord[]): string {
  const columns: (keyof InspectionRecord)[] = ['id', 'createdAt', 'sourcePath', 'imageSha256', 'modelVersionId', 'verdict', 'score', 'regions', 'error', 'operator'];
  return csv(columns, items.map((i) => columns.map((c) => i[c])));
}

export function auditToCsv(entries: AuditEntry[]): string {
  const columns: (keyof AuditEntry)[] = ['id', 'at', 'actor', 'action', 'target', 'details'];
  return csv(columns, entries.map((e) => columns.map((c) => e[c])));
}

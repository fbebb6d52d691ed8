// CSV exports of the history and the audit log, shared by the CLI and the UI.
import type { AuditEntry, InspectionRecord } from '../api/contract.ts';

const csvCell = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function inspectionsToCsv(items: InspectionRecord[]): string {
  const columns: (keyof InspectionRecord)[] = ['id', 'createdAt', 'sourcePath', 'imageSha256', 'modelVersionId', 'verdict', 'score', 'regions', 'error', 'operator'];
  return [columns.join(','), ...items.map((i) => columns.map((c) => csvCell(i[c])).join(','))].join('\n') + '\n';
}

export function auditToCsv(entries: AuditEntry[]): string {
  const columns: (keyof AuditEntry)[] = ['id', 'at', 'actor', 'action', 'target', 'details'];
  return [columns.join(','), ...entries.map((e) => columns.map((c) => csvCell(e[c])).join(','))].join('\n') + '\n';
}

// The history's CSV export, shared by the CLI (`argus history export`) and the History page.
import type { InspectionRecord } from '../api/contract.ts';

const csvCell = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function inspectionsToCsv(items: InspectionRecord[]): string {
  const columns: (keyof InspectionRecord)[] = ['id', 'createdAt', 'sourcePath', 'imageSha256', 'modelVersionId', 'verdict', 'score', 'regions', 'error', 'operator'];
  return [columns.join(','), ...items.map((i) => columns.map((c) => csvCell(i[c])).join(','))].join('\n') + '\n';
}

import { type FormEvent, useState } from 'react';
import type { ExportFormat } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { JobProgress } from '../common/JobProgress.tsx';
import { useSession } from '../common/session.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/** Exports the dataset as an Argus manifest folder or COCO JSON (what was drawn in Argus included) into a new folder on the station. */
export function ExportForm({ datasetId }: { datasetId: number }) {
  const { t } = useI18n();
  const { isEngineer } = useSession();
  const [path, setPath] = useState('');
  const [format, setFormat] = useState<ExportFormat>('manifest');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);
  const result = job?.state === 'succeeded' ? (job.result as { path: string; images: number; masks: number; format: ExportFormat }) : null;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    try {
      setJobId((await api.exportDataset({ datasetId, path: path.trim(), format })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (!isEngineer) return null;
  return (
    <form className="export-form" onSubmit={submit} aria-label={t('export.title')}>
      <label>{t('export.path')}<input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/data/exports/line-3" required /></label>
      <label>{t('export.format')}
        <select value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
          <option value="manifest">{t('export.manifest')}</option>
          <option value="coco">{t('export.coco')}</option>
        </select>
      </label>
      <button type="submit" disabled={job?.state === 'running'}>{t('export.start')}</button>
      <JobProgress job={job} />
      {result && <span className="notice success" role="status">{t(result.format === 'coco' ? 'export.doneCoco' : 'export.done', { images: result.images, masks: result.masks, path: result.path })}</span>}
      {(error || job?.state === 'failed') && <span className="notice error" role="alert">{error ?? errorText(job?.error)}</span>}
    </form>
  );
}

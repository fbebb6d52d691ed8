import { type FormEvent, useEffect, useState } from 'react';
import type { ImportResult } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { errorText } from '../../i18n/engine-errors.ts';

export function ImportDialog({ onClose, onImported }: { onClose(): void; onImported(datasetId: number): void }) {
  const { t } = useI18n();
  const [path, setPath] = useState('');
  const [project, setProject] = useState('');
  const [name, setName] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);

  useEffect(() => {
    if (job?.state === 'succeeded') onImported((job.result as ImportResult).datasetId);
    if (job?.state === 'failed') setError(errorText(job.error) || t('import.failed'));
  }, [job?.state]);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    try {
      setJobId((await api.importDataset({ path: path.trim(), projectName: project.trim() || undefined, name: name.trim() || undefined })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const running = job?.state === 'running';
  const percent = job && job.total > 0 ? Math.round((job.done / job.total) * 100) : 0;
  const result = job?.state === 'succeeded' ? (job.result as ImportResult) : null;

  return (
    <div className="dialog-backdrop" role="presentation">
      <form className="dialog" role="dialog" aria-labelledby="import-title" onSubmit={submit}>
        <h2 id="import-title">{t('import.title')}</h2>
        <label>
          {t('import.path')}
          <input name="path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/data/line-3/images" required autoFocus disabled={running} />
          <small>{t('import.pathHint')}</small>
        </label>
        <div className="row">
          <label>{t('import.project')}<input name="project" value={project} onChange={(e) => setProject(e.target.value)} disabled={running} /></label>
          <label>{t('import.name')}<input name="name" value={name} onChange={(e) => setName(e.target.value)} disabled={running} /></label>
        </div>
        {job && (
          <div className="progress" aria-live="polite">
            <div className="progress-label">
              {job.phase === 'reading' ? t('import.reading') : t('import.saving')} · {job.done}/{job.total}
            </div>
            <div className="progress-track"><div className="progress-bar" style={{ width: `${percent}%` }} role="progressbar" aria-valuenow={percent} /></div>
          </div>
        )}
        {result && (
          <p className="notice success">
            {t('import.done', { images: result.images, added: result.imagesAdded, annotations: result.annotationsAdded, seconds: result.seconds.toFixed(1) })}
          </p>
        )}
        {error && <pre className="notice error" role="alert">{error}</pre>}
        <div className="dialog-actions">
          {running
            ? <button type="button" onClick={() => job && api.cancelJob({ jobId: job.id })}>{t('common.cancel')}</button>
            : <button type="button" onClick={onClose}>{t('common.close')}</button>}
          <button type="submit" className="primary" disabled={running || !path.trim()}>{t('import.start')}</button>
        </div>
      </form>
    </div>
  );
}

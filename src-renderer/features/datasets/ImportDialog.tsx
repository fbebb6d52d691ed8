import { type FormEvent, useEffect, useState } from 'react';
import type { ImportResult, PickPathsRequest } from '../../../src-main/contract/contract.ts';
import { api, client, stageFiles } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { errorText } from '../../i18n/engine-errors.ts';

/**
 * Import a dataset from a folder or COCO file on the station (typed, or chosen in the desktop
 * app's native dialog), or from a folder or files uploaded from this computer in browser mode.
 */
export function ImportDialog({ onClose, onImported }: { onClose(): void; onImported(datasetId: number): void }) {
  const { t } = useI18n();
  const [path, setPath] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [project, setProject] = useState('');
  const [name, setName] = useState('');
  const [uploading, setUploading] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);

  useEffect(() => {
    if (job?.state === 'succeeded') onImported((job.result as ImportResult).datasetId);
    if (job?.state === 'failed') setError(errorText(job.error) || t('import.failed'));
  }, [job?.state]);

  const pick = async (request: PickPathsRequest): Promise<void> => {
    const [chosen] = (await client.pickPaths?.(request)) ?? [];
    if (!chosen) return;
    setPath(chosen);
    setFiles([]);
  };
  const choose = (list: FileList | null): void => {
    setFiles([...(list ?? [])]);
    setPath('');
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    const named = { projectName: project.trim() || undefined, name: name.trim() || undefined };
    try {
      if (files.length > 0) {
        setUploading(true);
        setJobId((await api.importDataset({ uploads: await stageFiles(files), ...named })).id);
      } else {
        setJobId((await api.importDataset({ path: path.trim(), ...named })).id);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setUploading(false);
    }
  };

  const running = job?.state === 'running' || uploading;
  const percent = job && job.total > 0 ? Math.round((job.done / job.total) * 100) : 0;
  const result = job?.state === 'succeeded' ? (job.result as ImportResult) : null;

  return (
    <div className="dialog-backdrop" role="presentation">
      <form className="dialog" role="dialog" aria-labelledby="import-title" onSubmit={submit}>
        <h2 id="import-title">{t('import.title')}</h2>
        <label>
          {t('import.path')}
          <input name="path" value={path} onChange={(e) => {
            setPath(e.target.value);
            setFiles([]);
          }} placeholder="/data/line-3/images" autoFocus disabled={running} />
          <small>{t('import.pathHint')}</small>
        </label>
        {client.pickPaths && (
          <div className="row">
            <button type="button" disabled={running} onClick={() => void pick({ kind: 'folder', title: t('import.title') })}>{t('import.chooseFolder')}</button>
            <button type="button" disabled={running} onClick={() => void pick({ kind: 'file', accept: 'coco', title: t('import.title') })}>{t('import.chooseFile')}</button>
          </div>
        )}
        {client.stageUpload && (
          <fieldset className="upload-choice" disabled={running}>
            <legend>{t('import.upload')}</legend>
            <label>{t('import.uploadFolder')}
              <input type="file" multiple ref={(input) => input?.setAttribute('webkitdirectory', '')} onChange={(e) => choose(e.target.files)} data-testid="import-folder" />
            </label>
            <label>{t('import.uploadFiles')}
              <input type="file" multiple accept="image/*,.bmp,.tif,.tiff,.json,.png" onChange={(e) => choose(e.target.files)} data-testid="import-files" />
            </label>
            {files.length > 0 && <small role="status">{t(uploading ? 'import.uploading' : 'import.selected', { count: files.length })}</small>}
          </fieldset>
        )}
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
          {job?.state === 'running'
            ? <button type="button" onClick={() => api.cancelJob({ jobId: job.id })}>{t('common.cancel')}</button>
            : <button type="button" onClick={onClose}>{t('common.close')}</button>}
          <button type="submit" className="primary" disabled={running || (!path.trim() && files.length === 0)}>{t('import.start')}</button>
        </div>
      </form>
    </div>
  );
}

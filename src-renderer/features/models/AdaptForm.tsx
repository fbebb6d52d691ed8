import { type FormEvent, useEffect, useState } from 'react';
import type { AdaptModelInput, AdaptModelResult, ModelVersionSummary } from '../../../src-main/contract/contract.ts';
import { api, client, stageFiles } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { JobProgress } from '../common/JobProgress.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/**
 * Adapts an anomaly model to a station or camera: a few of its good frames (files chosen here, or
 * a folder on the station) join the memory bank and set that group's thresholds in a child version.
 */
export function AdaptForm({ models, onDone }: { models: ModelVersionSummary[]; onDone: () => void }) {
  const { t } = useI18n();
  const candidates = models.filter((m) => m.mode === 'anomaly');
  const [modelId, setModelId] = useState<number | null>(null);
  const [group, setGroup] = useState('');
  const [folder, setFolder] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);
  const result = job?.state === 'succeeded' ? (job.result as AdaptModelResult) : null;
  useEffect(() => {
    // The production model is the one a new station usually needs.
    if (modelId === null && candidates.length) setModelId((candidates.find((m) => m.status === 'production') ?? candidates[0]).id);
  }, [candidates.length]);
  useEffect(() => {
    if (job && job.state !== 'running') onDone();
  }, [job?.state]);
  if (candidates.length === 0) return null;
  const known = Object.keys(candidates.find((m) => m.id === modelId)?.thresholds.groups ?? {});

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (modelId === null) return;
    setError(null);
    try {
      const input: AdaptModelInput = { modelId, group: group.trim() };
      if (folder.trim()) input.paths = [folder.trim()];
      // Browser mode streams the chosen frames to the station first; the desktop app reads the folder.
      if (files.length && client.stageUpload) input.uploads = await stageFiles(files);
      setJobId((await api.adaptModel(input)).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const running = job?.state === 'running';
  return (
    <form className="adapt-form card" onSubmit={submit} aria-label={t('adapt.title')}>
      <h2>{t('adapt.title')}</h2>
      <p className="muted">{t('adapt.hint')}</p>
      <div className="form-row">
        <label>{t('optimize.model')}
          <select value={modelId ?? ''} onChange={(e) => setModelId(Number(e.target.value))}>
            {candidates.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
          </select>
        </label>
        <label>{t('adapt.group')}
          <input value={group} onChange={(e) => setGroup(e.target.value)} list="adapt-groups" placeholder="camera-2" required maxLength={64} pattern="[\w.\- ]+" />
          <datalist id="adapt-groups">{known.map((g) => <option key={g} value={g} />)}</datalist>
        </label>
        <label>{t('adapt.folder')}
          <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/data/line-3/camera-2/good" />
        </label>
        {client.stageUpload && (
          <label>{t('adapt.frames')}
            <input type="file" multiple accept="image/*,.bmp,.tif,.tiff" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
          </label>
        )}
        <button type="submit" className="primary" disabled={running || !group.trim() || (!folder.trim() && files.length === 0)}>{t('adapt.start')}</button>
      </div>
      <JobProgress job={job} />
      {result && (
        <p className="notice success" role="status" data-testid="adapt-result">
          {t('adapt.done', { id: result.modelId, group: result.group, frames: result.frames, own: result.fromGroup, bank: result.bankSize, seconds: result.seconds.toFixed(1) })}
        </p>
      )}
      {(error || job?.state === 'failed') && <p className="notice error" role="alert">{error ?? errorText(job?.error)}</p>}
    </form>
  );
}

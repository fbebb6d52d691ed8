import { type FormEvent, useEffect, useState } from 'react';
import type { InspectionRecord } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { errorText } from '../../i18n/engine-errors.ts';

const JOB_KEY = 'argus.hotfolder.job';

/**
 * The line's hot folder: every new image in the folder (and its subfolders) is inspected once by
 * the production model; the latest results appear here as they come. Runs until stopped.
 */
export function HotFolderCard({ onOpen }: { onOpen(inspection: InspectionRecord): void }) {
  const { t, date } = useI18n();
  const [folder, setFolder] = useState('');
  const [sidecar, setSidecar] = useState(false);
  const [sort, setSort] = useState(false);
  const [jobId, setJobId] = useState<string | null>(() => sessionStorage.getItem(JOB_KEY));
  const [since, setSince] = useState<string>(() => new Date().toISOString());
  const [latest, setLatest] = useState<InspectionRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);
  const watching = job?.state === 'running';

  // New results since the watch started, refreshed while it runs (each one is already in the history).
  useEffect(() => {
    if (!watching) return;
    let live = true;
    const refresh = async (): Promise<void> => {
      const page = await api.listInspections({ from: since, limit: 20 }).catch(() => null);
      if (live && page) setLatest(page.items);
    };
    void refresh();
    const timer = window.setInterval(() => void refresh(), 1500);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [watching, since, job?.done]);

  const start = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    try {
      const started = new Date().toISOString();
      const status = await api.watchFolder({ folder: folder.trim(), model: 'production', sidecar, sort });
      sessionStorage.setItem(JOB_KEY, status.id);
      setSince(started);
      setLatest([]);
      setJobId(status.id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form className="card hot-folder" onSubmit={start} aria-label={t('hot.title')}>
      <h2>{t('hot.title')}</h2>
      <div className="hot-row">
        <label>{t('hot.folder')}<input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/data/line-3/camera" disabled={watching} required /></label>
        <label className="check"><input type="checkbox" checked={sidecar} onChange={(e) => setSidecar(e.target.checked)} disabled={watching} /> {t('hot.sidecar')}</label>
        <label className="check"><input type="checkbox" checked={sort} onChange={(e) => setSort(e.target.checked)} disabled={watching} /> {t('hot.sort')}</label>
        {watching
          ? <button type="button" onClick={() => jobId && void api.cancelJob({ jobId })}>{t('hot.stop')}</button>
          : <button type="submit" className="primary" disabled={!folder.trim()}>{t('hot.start')}</button>}
      </div>
      {error && <p className="notice error" role="alert">{error}</p>}
      {job && (
        <p className="muted" data-testid="hot-status">
          {watching ? t('hot.watching', { n: job.done }) : t('hot.stopped', { n: job.done })}
          {job.state === 'failed' && ` · ${errorText(job.error)}`}
        </p>
      )}
      {latest.length > 0 && (
        <ul className="hot-results" aria-label={t('hot.latest')}>
          {latest.map((r) => (
            <li key={r.id}>
              <button type="button" className="result-item" onClick={() => onOpen(r)}>
                <span className={`verdict verdict-${r.verdict}`}>{r.verdict}</span>
                <span className="result-name">{r.sourcePath.split(/[\\/]/).pop()}</span>
                <span className="muted">{date(r.createdAt, 'time')}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

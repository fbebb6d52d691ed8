import { useEffect, useState } from 'react';
import type { DemoProjectResult } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import type { MessageKey } from '../../i18n/en.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync, useJob } from '../common/hooks.ts';
import { useSession } from '../common/session.tsx';
import { JobProgress } from '../common/JobProgress.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/**
 * The way from a fresh install to a first inspection: what is done and what is missing (backbone,
 * images, labels, a model, production), and a demo project that does it all in one click.
 */
export function FirstRunCard({ onChanged }: { onChanged: () => void }) {
  const { t } = useI18n();
  const { isEngineer } = useSession();
  const info = useAsync(() => api.getInfo(), []);
  const datasets = useAsync(() => api.listDatasets({}), []);
  const models = useAsync(() => api.listModels({}), []);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);
  const demo = job?.state === 'succeeded' ? (job.result as DemoProjectResult) : null;
  useEffect(() => {
    if (job && job.state !== 'running') {
      datasets.reload();
      models.reload();
      onChanged();
    }
    if (job?.state === 'failed') setError(errorText(job.error) || null);
  }, [job?.state]);

  const labelled = datasets.data?.some((d) => d.counts.good + d.counts.defect > 0) ?? false;
  const steps: { key: MessageKey; done: boolean }[] = [
    { key: 'firstRun.backbone', done: !!info.data?.backbone },
    { key: 'firstRun.images', done: (datasets.data?.length ?? 0) > 0 },
    { key: 'firstRun.labels', done: labelled },
    { key: 'firstRun.model', done: (models.data?.length ?? 0) > 0 },
    { key: 'firstRun.production', done: models.data?.some((m) => m.status === 'production') ?? false },
  ];
  const start = async (): Promise<void> => {
    setError(null);
    try {
      setJobId((await api.createDemoProject()).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div className="card first-run" aria-label={t('firstRun.title')} role="region">
      <h2>{t('firstRun.title')}</h2>
      <ol className="first-run-steps">
        {steps.map((s) => (
          <li key={s.key} className={s.done ? 'done' : 'todo'} data-testid={`step-${s.key.split('.')[1]}`} data-done={s.done ? 'yes' : 'no'}>
            <span aria-hidden>{s.done ? '✓' : '○'}</span> {t(s.key)}
          </li>
        ))}
      </ol>
      <p className="muted">{t('firstRun.demoHint')}</p>
      <button className="primary" onClick={() => void start()} disabled={!isEngineer || job?.state === 'running'} title={isEngineer ? undefined : t('roles.engineerOnly')}>{t('firstRun.demo')}</button>
      <JobProgress job={job} />
      {demo && (
        <p className="notice success" data-testid="demo-ready">
          {t('firstRun.demoReady', { id: demo.modelId })}{' '}
          <a href={`#/inspect/${encodeURIComponent(demo.lineFolder)}`}>{t('firstRun.inspectDemo')}</a>
        </p>
      )}
      {error && <p className="notice error" role="alert">{error}</p>}
    </div>
  );
}

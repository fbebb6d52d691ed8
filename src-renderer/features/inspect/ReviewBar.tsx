import { useEffect, useState } from 'react';
import type { DatasetSummary, InspectionRecord, Project } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useSession } from '../common/session.tsx';

/**
 * The line's word on a result: an operator confirms it or says it is wrong (and what the part
 * really is); a disputed or REVIEW result waits in the review queue. A QA engineer can add the
 * image to a dataset with its corrected label at once.
 */
export function ReviewBar({ inspection }: { inspection: InspectionRecord }) {
  const { t } = useI18n();
  const { isEngineer } = useSession();
  const [state, setState] = useState<'none' | 'confirmed' | 'disputed' | 'added'>('none');
  const [disputing, setDisputing] = useState(false);
  const [correctLabel, setCorrectLabel] = useState(inspection.verdict === 'NG' ? 'good' : 'defect');
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [projects, setProjects] = useState<Project[]>([]);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setState('none');
    setDisputing(false);
    setCorrectLabel(inspection.verdict === 'NG' ? 'good' : 'defect');
  }, [inspection.id]);
  useEffect(() => {
    if (!isEngineer) return;
    void Promise.all([api.listDatasets({}), api.listProjects()]).then(([d, p]) => {
      setDatasets(d);
      setProjects(p);
      setDatasetId((current) => current ?? d[0]?.id ?? null);
    }, () => undefined);
  }, [isEngineer]);
  const classes = projects.find((p) => p.id === datasets.find((d) => d.id === datasetId)?.projectId)?.classes ?? [];

  const act = async (action: () => Promise<void>, next: typeof state): Promise<void> => {
    setError(null);
    try {
      await action();
      setState(next);
      setDisputing(false);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const addToDataset = (): Promise<void> => act(async () => {
    if (datasetId === null) return;
    const cls = classes.find((c) => c.name === correctLabel);
    await api.addToDataset({ inspectionId: inspection.id, datasetId, label: correctLabel === 'good' ? 'good' : 'defect', ...(cls ? { classIndex: cls.index } : {}) });
  }, 'added');

  if (inspection.verdict === 'ERROR') return null;
  return (
    <div className="review-bar" role="group" aria-label={t('review.title')}>
      {state === 'none' && !disputing && (
        <>
          <span className="muted">{t('review.question')}</span>
          <button type="button" onClick={() => void act(() => api.reviewInspection({ inspectionId: inspection.id, opinion: 'confirmed' }), 'confirmed')}>{t('review.confirm')}</button>
          <button type="button" onClick={() => setDisputing(true)}>{t('review.dispute')}</button>
        </>
      )}
      {(disputing || (isEngineer && state !== 'added')) && (
        <label className="inline">{t('review.really')}
          <select value={correctLabel} onChange={(e) => setCorrectLabel(e.target.value)} aria-label={t('review.really')}>
            <option value="good">{t('datasets.label.good')}</option>
            <option value="defect">{t('datasets.label.defect')}</option>
            {classes.map((c) => <option key={c.index} value={c.name}>{c.name}</option>)}
          </select>
        </label>
      )}
      {disputing && <button type="button" className="primary" onClick={() => void act(() => api.reviewInspection({ inspectionId: inspection.id, opinion: 'disputed', correctLabel }), 'disputed')}>{t('review.send')}</button>}
      {isEngineer && state !== 'added' && datasets.length > 0 && (
        <>
          <select value={datasetId ?? ''} onChange={(e) => setDatasetId(Number(e.target.value))} aria-label={t('training.dataset')}>
            {datasets.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
          <button type="button" onClick={() => void addToDataset()}>{t('review.add')}</button>
        </>
      )}
      {state !== 'none' && <span className="chip" role="status" data-testid="review-state">{t(`review.state.${state}`)}</span>}
      {error && <span className="notice error" role="alert">{error}</span>}
    </div>
  );
}

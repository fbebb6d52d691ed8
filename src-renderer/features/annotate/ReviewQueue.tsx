import { useEffect, useState } from 'react';
import type { DatasetSummary, DefectClass, ReviewQueueItem } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';

/**
 * Results the line disputed or the model left in REVIEW: a QA engineer adds each image to the
 * dataset with its corrected label (it then waits in the labelling queue with the model's
 * suggestions), or dismisses it.
 */
export function ReviewQueue({ dataset, classes, disabled, onAdded }: { dataset: DatasetSummary; classes: DefectClass[]; disabled: boolean; onAdded: () => void }) {
  const { t, date } = useI18n();
  const [items, setItems] = useState<ReviewQueueItem[] | null>(null);
  const [labels, setLabels] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const load = (): void => void api.listReviewQueue({ projectId: dataset.projectId }).then(setItems, (e: Error) => setError(e.message));
  useEffect(load, [dataset.projectId]);

  const labelOf = (item: ReviewQueueItem): string => labels[item.inspectionId] ?? item.correctLabel ?? (item.verdict === 'NG' ? 'defect' : 'good');
  const resolve = async (action: () => Promise<void>): Promise<void> => {
    setError(null);
    try {
      await action();
      load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const add = (item: ReviewQueueItem): Promise<void> => resolve(async () => {
    const label = labelOf(item);
    const cls = classes.find((c) => c.name === label);
    await api.addToDataset({ inspectionId: item.inspectionId, datasetId: dataset.id, label: label === 'good' ? 'good' : 'defect', ...(cls ? { classIndex: cls.index } : {}) });
    onAdded();
  });

  if (!items) return null;
  return (
    <div className="card review-queue">
      <h2>{t('review.queue')}</h2>
      {error && <p className="notice error" role="alert">{error}</p>}
      {items.length === 0 && <p className="muted">{t('review.queueEmpty')}</p>}
      <ul aria-label={t('review.queue')}>
        {items.map((item) => (
          <li key={item.inspectionId} data-testid={`review-${item.inspectionId}`}>
            <img src={client.mediaUrl('thumbnail', item.imageSha256)} alt="" loading="lazy" />
            <div>
              <strong>{item.file.split(/[\\/]/).pop()}</strong>
              <div className="muted">
                <span className={`chip verdict-chip-${item.verdict}`}>{item.verdict}</span> {item.score?.toFixed(3) ?? ''} · #{item.modelId ?? '–'} · {date(item.createdAt)}
                {item.opinion === 'disputed' && <> · {t('review.operatorSays', { label: item.correctLabel ?? '?' })}</>}
              </div>
            </div>
            <select value={labelOf(item)} onChange={(e) => setLabels((l) => ({ ...l, [item.inspectionId]: e.target.value }))} aria-label={t('review.really')} disabled={disabled}>
              <option value="good">{t('datasets.label.good')}</option>
              <option value="defect">{t('datasets.label.defect')}</option>
              {classes.map((c) => <option key={c.index} value={c.name}>{c.name}</option>)}
            </select>
            <button type="button" className="primary" disabled={disabled} onClick={() => void add(item)}>{t('review.add')}</button>
            <button type="button" disabled={disabled} onClick={() => void resolve(() => api.dismissReview({ inspectionId: item.inspectionId }))}>{t('review.dismiss')}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

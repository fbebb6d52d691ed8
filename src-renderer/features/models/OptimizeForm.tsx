import { type FormEvent, useEffect, useState } from 'react';
import type { ModelVersionSummary, OptimizeModelInput, OptimizeModelResult } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useJob } from '../common/hooks.ts';
import { JobProgress } from '../common/JobProgress.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/** A version that can be optimised: a full-precision model of any mode. */
const optimisable = (m: ModelVersionSummary): boolean => (m.config.precision ?? 'fp32') === 'fp32';

/** Starts an int8 or fp16 child of a model version and shows its accuracy check against the parent. */
export function OptimizeForm({ models, onDone }: { models: ModelVersionSummary[]; onDone: () => void }) {
  const { t } = useI18n();
  const candidates = models.filter(optimisable);
  const [modelId, setModelId] = useState<number | null>(null);
  const [precision, setPrecision] = useState<OptimizeModelInput['precision']>('int8');
  const [method, setMethod] = useState<NonNullable<OptimizeModelInput['method']>>('percentile');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useJob(jobId);
  const result = job?.state === 'succeeded' ? (job.result as OptimizeModelResult) : null;
  useEffect(() => {
    if (modelId === null && candidates.length) setModelId(candidates[0].id);
  }, [candidates.length]);
  useEffect(() => {
    if (job && job.state !== 'running') onDone();
  }, [job?.state]);
  if (candidates.length === 0) return null;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (modelId === null) return;
    setError(null);
    try {
      setJobId((await api.optimizeModel({ modelId, precision, ...(precision === 'int8' ? { method } : {}) })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const fmt = (v: number | null): string => (v === null ? '–' : v.toFixed(3));
  return (
    <form className="optimize-form card" onSubmit={submit} aria-label={t('optimize.title')}>
      <h2>{t('optimize.title')}</h2>
      <p className="muted">{t('optimize.hint')}</p>
      <div className="form-row">
        <label>{t('optimize.model')}
          <select value={modelId ?? ''} onChange={(e) => setModelId(Number(e.target.value))}>
            {candidates.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
          </select>
        </label>
        <label>{t('optimize.precision')}
          <select value={precision} onChange={(e) => setPrecision(e.target.value as OptimizeModelInput['precision'])}>
            <option value="int8">{t('optimize.int8')}</option>
            <option value="fp16">{t('optimize.fp16')}</option>
          </select>
        </label>
        {precision === 'int8' && (
          <label>{t('optimize.method')}
            <select value={method} onChange={(e) => setMethod(e.target.value as typeof method)}>
              <option value="percentile">{t('optimize.percentile')}</option>
              <option value="minmax">{t('optimize.minmax')}</option>
            </select>
          </label>
        )}
        <button type="submit" className="primary" disabled={job?.state === 'running'}>{t('optimize.start')}</button>
      </div>
      <JobProgress job={job} />
      {result && (
        <div className={`notice ${result.guard.passed ? 'success' : 'error'}`} role="status" data-testid="optimize-result">
          <strong>{result.guard.passed ? t('optimize.passed', { id: result.modelId }) : t('optimize.failed', { id: result.modelId })}</strong>
          <table className="table compact">
            <thead><tr><th /><th>{t('optimize.parent')}</th><th>{t('optimize.optimised')}</th></tr></thead>
            <tbody>
              <tr><td>{t('models.imageAurocShort')}</td><td>{fmt(result.guard.parent.image_auroc)}</td><td>{fmt(result.guard.optimized.image_auroc)}</td></tr>
              <tr><td>{t('optimize.pixelIou')}</td><td>{fmt(result.guard.parent.pixel_iou)}</td><td>{fmt(result.guard.optimized.pixel_iou)}</td></tr>
              {result.guard.parent.box_map50 !== undefined && <tr><td>{t('models.boxAp')}</td><td>{fmt(result.guard.parent.box_map50 ?? null)}</td><td>{fmt(result.guard.optimized.box_map50 ?? null)}</td></tr>}
            </tbody>
          </table>
          {result.guard.reason && <p>{result.guard.reason}</p>}
        </div>
      )}
      {(error || job?.state === 'failed') && <p className="notice error" role="alert">{error ?? errorText(job?.error)}</p>}
    </form>
  );
}

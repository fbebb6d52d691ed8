import { useState } from 'react';
import type { GuardVerdict, ModelVersionSummary } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync } from '../common/hooks.ts';
import { useSession } from '../common/session.tsx';
import { ModelComparison } from './ModelComparison.tsx';
import { DailyChart } from '../history/DailyChart.tsx';
import { OptimizeForm } from './OptimizeForm.tsx';
import { AdaptForm } from './AdaptForm.tsx';
import { ModelPackageCard } from './ModelPackageCard.tsx';

/**
 * A validation metric; precision/recall-type ones mean nothing when validation had no defective
 * images. An optimised version shows what its accuracy check measured.
 */
const metric = (m: ModelVersionSummary, key: string): string => {
  const guard = m.metrics.guard as GuardVerdict | undefined;
  const validation = (m.metrics.validation ?? guard?.optimized) as Record<string, unknown> | undefined;
  if (key === 'f1' && validation?.defective === 0) return '–';
  const value = validation?.[key];
  return typeof value === 'number' ? value.toFixed(3) : '–';
};

const guardOf = (m: ModelVersionSummary): GuardVerdict | undefined => m.metrics.guard as GuardVerdict | undefined;
/** An optimised version that has not passed its accuracy check cannot be promoted (the engine refuses it too). */
const blocked = (m: ModelVersionSummary): boolean => m.config.optimization !== undefined && guardOf(m)?.passed !== true;

/** Model versions with their validation metrics; promote a candidate or roll production back. */
export function ModelsPage() {
  const { t, date } = useI18n();
  const { isEngineer } = useSession();
  const models = useAsync(() => api.listModels({}), []);
  const datasets = useAsync(() => api.listDatasets({}), []);
  const agreement = useAsync(() => api.getModelAgreement(), []);
  /** Share of the line's confirmations among its confirmations and disputes, with the counts. */
  const agreementOf = (id: number): string => {
    const a = agreement.data?.[id];
    if (!a || a.confirmed + a.disputed === 0) return '–';
    return `${((100 * a.confirmed) / (a.confirmed + a.disputed)).toFixed(0)}% (${a.confirmed}/${a.confirmed + a.disputed})`;
  };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (action: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      models.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const production = models.data?.find((m) => m.status === 'production');
  const productionDays = useAsync(async () => (production ? api.dailyInspectionCounts({ modelVersionId: production.id }) : []), [production?.id]);

  return (
    <section className="page">
      <header className="page-header">
        <h1>{t('nav.models')}</h1>
        {production && (
          <button disabled={busy || !isEngineer} title={isEngineer ? undefined : t('roles.engineerOnly')} onClick={() => act(() => api.rollbackModel({ projectId: production.projectId }))}>{t('models.rollback')}</button>
        )}
      </header>
      {error && <p className="notice error" role="alert">{error}</p>}
      {models.data?.length === 0 && <div className="empty-state"><p>{t('models.empty')}</p></div>}
      {models.data && models.data.length > 0 && (
        <table className="table" aria-label={t('nav.models')}>
          <thead>
            <tr>
              <th>ID</th><th>{t('models.name')}</th><th>{t('models.status')}</th><th>{t('models.imageAuroc')}</th><th>{t('models.pixelAuroc')}</th><th>{t('models.boxAp')}</th>
              <th>F1</th><th>{t('models.falseRejects')}</th><th>{t('models.agreement')}</th><th>{t('models.input')}</th><th>{t('models.lineage')}</th><th>{t('models.created')}</th><th />
            </tr>
          </thead>
          <tbody>
            {models.data.map((m) => (
              <tr key={m.id} data-testid={`model-${m.id}`}>
                <td>{m.id}</td>
                <td>
                  <strong>{m.name}</strong>
                  <div className="muted">{m.mode} · {String(m.config.precision ?? 'fp32')}</div>
                  {m.mode === 'anomaly' && m.config.preprocessingReason !== undefined && (
                    <div className="muted" title={String(m.config.preprocessingReason)} data-testid={`preprocessing-${m.id}`}>
                      {t('models.preprocessing', {
                        colour: t(m.config.colourReference ? 'models.preprocessing.colourMatched' : 'models.preprocessing.rawColour'),
                        map: t(m.config.heatmapAboveMedian ? 'models.preprocessing.mapAboveMedian' : 'models.preprocessing.rawMap'),
                      })}
                      {Array.isArray(m.config.levels) && m.config.levels.length > 1 && ` · ${t('models.preprocessing.pyramid', { count: String(m.config.levels.length) })}`}
                    </div>
                  )}
                  {m.mode === 'detect' && m.config.nmsIou !== undefined && (
                    <div className="muted" title={String(m.config.nmsIouReason ?? '')} data-testid={`nms-${m.id}`}>
                      {t('models.nmsIou', { iou: String(m.config.nmsIou) })}
                    </div>
                  )}
                  {m.thresholds.groups && <div className="muted" data-testid={`groups-${m.id}`}>{t('models.groups', { groups: Object.keys(m.thresholds.groups).join(', ') })}</div>}
                  {guardOf(m) && <div className={`chip ${guardOf(m)!.passed ? 'status-production' : 'status-blocked'}`} title={guardOf(m)!.reason} data-testid={`guard-${m.id}`}>{guardOf(m)!.passed ? t('models.guardPassed') : t('models.guardFailed')}</div>}
                </td>
                <td><span className={`chip status-${m.status}`}>{t(`models.status.${m.status}`)}</span></td>
                <td>{metric(m, 'image_auroc')}</td>
                <td>{metric(m, 'pixel_auroc')}</td>
                <td>{metric(m, 'mean_box_ap50')}</td>
                <td>{metric(m, 'f1')}</td>
                <td>{metric(m, 'false_reject_rate')}</td>
                <td data-testid={`agreement-${m.id}`}>{agreementOf(m.id)}</td>
                <td>{String(m.config.inputWidth ?? '–')}×{String(m.config.inputHeight ?? '–')}</td>
                <td className="muted">
                  {m.parentId ? t('models.parent', { id: m.parentId }) : ''}
                  {m.snapshotId ? ` ${t('models.snapshot', { id: m.snapshotId })}` : ''}
                </td>
                <td>{date(m.createdAt)}</td>
                <td>
                  {m.status !== 'production' && (
                    <button className="primary" disabled={busy || !isEngineer || blocked(m)} title={blocked(m) ? guardOf(m)?.reason ?? t('models.guardMissing') : isEngineer ? undefined : t('roles.engineerOnly')} onClick={() => act(() => api.promoteModel({ modelId: m.id }))}>{t('models.promote')}</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {production && productionDays.data && productionDays.data.length > 0 && (
        <div className="card" data-testid="production-ng-rate">
          <h2>{t('models.productionOverTime', { id: production.id, name: production.name })}</h2>
          <DailyChart days={productionDays.data} label={t('models.productionOverTime', { id: production.id, name: production.name })} rateLabel={t('history.ngRate')} dayLabel={t('chart.day')} countLabel={t('chart.inspections')} />
        </div>
      )}
      {models.data && isEngineer && <OptimizeForm models={models.data} onDone={models.reload} />}
      {models.data && isEngineer && <AdaptForm models={models.data} onDone={models.reload} />}
      {models.data && isEngineer && <ModelPackageCard models={models.data} onImported={models.reload} />}
      {models.data && models.data.length > 0 && datasets.data && <ModelComparison models={models.data} datasets={datasets.data} />}
      <p className="muted">{t('models.hint')}</p>
      {!isEngineer && <p className="notice" data-testid="engineer-only">{t('roles.engineerOnly')}</p>}
    </section>
  );
}

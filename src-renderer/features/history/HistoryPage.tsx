import { useState } from 'react';
import type { InspectionQuery, Verdict } from '../../../src-main/contract/contract.ts';
import { inspectionsToCsv } from '../../../src-main/common/csv-export.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { downloadText } from '../common/download.ts';
import { useAsync } from '../common/hooks.ts';
import { InspectionViewer } from '../inspect/InspectionViewer.tsx';
import { DailyChart } from './DailyChart.tsx';

const PAGE = 200;
/** Export reads the matching inspections in pages of this many (the API's largest page). */
const EXPORT_PAGE = 1000;

/** Day boundaries of a date input (local midnight) as ISO instants. */
const startOf = (date: string): string | undefined => (date ? new Date(`${date}T00:00:00`).toISOString() : undefined);
const endOf = (date: string): string | undefined => (date ? new Date(new Date(`${date}T00:00:00`).getTime() + 86_400_000).toISOString() : undefined);

/** Every inspection, filtered by time, verdict, model and operator; daily counts and NG rate; export. */
export function HistoryPage() {
  const { t, date } = useI18n();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [verdict, setVerdict] = useState<Verdict | ''>('');
  const [model, setModel] = useState('');
  const [operator, setOperator] = useState('');
  const query: InspectionQuery = {
    from: startOf(from), to: endOf(to), verdict: verdict || undefined,
    modelVersionId: model ? Number(model) : undefined, operator: operator.trim() || undefined,
  };
  const key = JSON.stringify(query);
  const [page, setPage] = useState({ key, offset: 0 });
  // A new filter starts again at its first page.
  const offset = page.key === key ? page.offset : 0;
  const history = useAsync(() => api.listInspections({ ...query, offset, limit: PAGE }), [key, offset]);
  const daily = useAsync(() => api.dailyInspectionCounts(query), [key]);
  const [exporting, setExporting] = useState<{ done: number; total: number } | null>(null);
  const models = useAsync(() => api.listModels({}), []);
  const [openId, setOpenId] = useState<number | null>(null);
  const open = history.data?.items.find((i) => i.id === openId);

  // Every inspection the filter selects, however many, read page by page.
  const exportAs = async (format: 'csv' | 'json'): Promise<void> => {
    const items = [];
    for (let total = Infinity; items.length < total;) {
      const next = await api.listInspections({ ...query, offset: items.length, limit: EXPORT_PAGE });
      total = next.total;
      items.push(...next.items);
      setExporting({ done: items.length, total });
      if (next.items.length === 0) break;
    }
    setExporting(null);
    const stamp = new Date().toISOString().slice(0, 10);
    if (format === 'csv') downloadText(`argus-history-${stamp}.csv`, inspectionsToCsv(items), 'text/csv');
    else downloadText(`argus-history-${stamp}.json`, `${JSON.stringify(items, null, 2)}\n`, 'application/json');
  };

  return (
    <section className="page">
      <header className="page-header">
        <h1>{t('history.title')}</h1>
        <div className="actions">
          {exporting && <span className="muted" data-testid="export-progress">{t('history.exporting', { done: exporting.done, total: exporting.total })}</span>}
          <button disabled={exporting !== null} onClick={() => void exportAs('csv')}>{t('history.exportCsv')}</button>
          <button disabled={exporting !== null} onClick={() => void exportAs('json')}>{t('history.exportJson')}</button>
        </div>
      </header>
      <div className="filters history-filters" role="search" aria-label={t('history.filters')}>
        <label>{t('history.from')}<input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>{t('history.to')}<input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
        <label>{t('history.verdict')}
          <select value={verdict} onChange={(e) => setVerdict(e.target.value as Verdict | '')}>
            <option value="">{t('history.all')}</option>
            {(['OK', 'NG', 'REVIEW', 'ERROR'] as const).map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
        <label>{t('history.model')}
          <select value={model} onChange={(e) => setModel(e.target.value)}>
            <option value="">{t('history.all')}</option>
            {models.data?.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
          </select>
        </label>
        <label>{t('history.operator')}<input value={operator} onChange={(e) => setOperator(e.target.value)} /></label>
      </div>
      {daily.data && daily.data.length > 0 && (
        <div className="card">
          <h2>{t('history.daily')}</h2>
          <DailyChart days={daily.data} label={t('history.daily')} rateLabel={t('history.ngRate')} dayLabel={t('chart.day')} countLabel={t('chart.inspections')} />
        </div>
      )}
      {history.error && <p className="notice error">{history.error}</p>}
      {history.data?.total === 0 && <div className="empty-state"><p>{t('history.empty')}</p></div>}
      {history.data && history.data.total > 0 && (
        <>
          <div className="row-form">
            <p className="muted" data-testid="history-count">{t('history.count', { from: offset + 1, to: offset + history.data.items.length, total: history.data.total })}</p>
            <span className="spacer" />
            <button disabled={offset === 0} onClick={() => setPage({ key, offset: Math.max(0, offset - PAGE) })}>{t('common.previous')}</button>
            <button disabled={offset + PAGE >= history.data.total} onClick={() => setPage({ key, offset: offset + PAGE })}>{t('common.next')}</button>
          </div>
          <table className="table" aria-label={t('history.title')}>
            <thead><tr><th>{t('history.time')}</th><th>{t('history.file')}</th><th>{t('history.verdict')}</th><th>{t('history.score')}</th><th>{t('history.model')}</th><th>{t('history.operator')}</th></tr></thead>
            <tbody>
              {history.data.items.map((i) => (
                <tr key={i.id} className={i.id === openId ? 'clickable selected' : 'clickable'} onClick={() => setOpenId(i.id)}>
                  <td>{date(i.createdAt)}</td>
                  <td className="path">{i.sourcePath}</td>
                  <td><span className={`verdict verdict-${i.verdict}`}>{i.verdict}</span></td>
                  <td>{i.score?.toFixed(3) ?? '–'}</td>
                  <td>{i.modelVersionId ? `#${i.modelVersionId}` : '–'}</td>
                  <td>{i.operator}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {open && <InspectionViewer inspection={open} showHeatmap opacity={0.7} />}
    </section>
  );
}

import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync } from '../common/hooks.ts';
import { InspectionViewer } from '../inspect/InspectionViewer.tsx';

export function HistoryPage() {
  const { t } = useI18n();
  const history = useAsync(() => api.listInspections({ limit: 200 }), []);
  const [openId, setOpenId] = useState<number | null>(null);
  const open = history.data?.items.find((i) => i.id === openId);
  return (
    <section className="page">
      <header className="page-header"><h1>{t('history.title')}</h1></header>
      {history.error && <p className="notice error">{history.error}</p>}
      {history.data?.total === 0 && <div className="empty-state"><p>{t('history.empty')}</p></div>}
      {history.data && history.data.total > 0 && (
        <table className="table">
          <thead><tr><th>{t('history.time')}</th><th>{t('history.file')}</th><th>{t('history.verdict')}</th><th>{t('history.score')}</th><th>{t('history.operator')}</th></tr></thead>
          <tbody>
            {history.data.items.map((i) => (
              <tr key={i.id} className={i.id === openId ? 'clickable selected' : 'clickable'} onClick={() => setOpenId(i.id)}>
                <td>{new Date(i.createdAt).toLocaleString()}</td>
                <td className="path">{i.sourcePath}</td>
                <td><span className={`verdict verdict-${i.verdict}`}>{i.verdict}</span></td>
                <td>{i.score?.toFixed(3) ?? '–'}</td>
                <td>{i.operator}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <InspectionViewer inspection={open} showHeatmap opacity={0.7} />}
    </section>
  );
}

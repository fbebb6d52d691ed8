import { useEffect, useState } from 'react';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync } from '../common/hooks.ts';
import { DatasetBrowser } from './DatasetBrowser.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { FirstRunCard } from './FirstRunCard.tsx';

export function DatasetsPage({ selectedId, select }: { selectedId?: number; select(id: number): void }) {
  const { t } = useI18n();
  const [importing, setImporting] = useState(false);
  const datasets = useAsync(() => api.listDatasets({}), []);
  const selected = datasets.data?.find((d) => d.id === selectedId) ?? datasets.data?.[0];
  // The first-run guide shows until a model is in production, and stays for the rest of the visit once shown.
  const models = useAsync(() => api.listModels({}), []);
  const [guide, setGuide] = useState(false);
  useEffect(() => {
    if (models.data && !models.data.some((m) => m.status === 'production')) setGuide(true);
  }, [models.data]);

  return (
    <section className="page">
      <header className="page-header">
        <h1>{t('datasets.title')}</h1>
        <button className="primary" onClick={() => setImporting(true)}>{t('datasets.import')}</button>
      </header>
      {datasets.error && <p className="notice error">{datasets.error}</p>}
      {guide && <FirstRunCard onChanged={() => { datasets.reload(); models.reload(); }} />}
      {datasets.data?.length === 0 && <div className="empty-state"><p>{t('datasets.empty')}</p></div>}
      {datasets.data && datasets.data.length > 0 && (
        <div className="split-view">
          <ul className="dataset-list" aria-label={t('datasets.title')}>
            {datasets.data.map((d) => (
              <li key={d.id}>
                <button className={d.id === selected?.id ? 'dataset-item active' : 'dataset-item'} onClick={() => select(d.id)}>
                  <strong>{d.name}</strong>
                  <span className="muted">{d.projectName} · {t('datasets.images', { n: d.counts.total })}</span>
                </button>
              </li>
            ))}
          </ul>
          {selected && <DatasetBrowser key={selected.id} dataset={selected} />}
        </div>
      )}
      {importing && (
        <ImportDialog
          onClose={() => setImporting(false)}
          onImported={(id) => {
            datasets.reload();
            select(id);
          }}
        />
      )}
    </section>
  );
}

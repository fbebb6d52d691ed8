import { auditToCsv } from '../../../src-main/common/csv-export.ts';
import { api } from '../../api/client.ts';
import { type Language, LANGUAGES, useI18n } from '../../i18n/i18n.tsx';
import { downloadText } from '../common/download.ts';
import { useAsync } from '../common/hooks.ts';
import { RolesCard } from './RolesCard.tsx';

export function SettingsPage() {
  const { t, date, language, setLanguage } = useI18n();
  const info = useAsync(() => api.getInfo(), []);
  const audit = useAsync(() => api.listAuditLog({ limit: 50 }), []);
  // The whole log (up to the latest 10,000 entries) as CSV.
  const exportAudit = async (): Promise<void> => {
    const entries = [];
    for (let offset = 0; offset < 10_000; offset += 1000) {
      const page = await api.listAuditLog({ offset, limit: 1000 });
      entries.push(...page);
      if (page.length < 1000) break;
    }
    downloadText(`argus-audit-${new Date().toISOString().slice(0, 10)}.csv`, auditToCsv(entries), 'text/csv');
  };
  return (
    <section className="page">
      <header className="page-header"><h1>{t('settings.title')}</h1></header>
      <div className="card settings">
        <label>{t('settings.language')}
          <select value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
            {Object.entries(LANGUAGES).map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </label>
        {info.data && (
          <dl>
            <div><dt>{t('settings.dataDir')}</dt><dd className="path">{info.data.dataDir}</dd></div>
            <div><dt>{t('settings.version')}</dt><dd>{info.data.version}</dd></div>
            <div><dt>{t('settings.schema')}</dt><dd>{info.data.schemaVersion}</dd></div>
            <div>
              <dt>{t('settings.backbone')}</dt>
              <dd data-testid="backbone">
                {info.data.backbone
                  ? t(info.data.backbone.source === 'bundled' ? 'settings.backboneBundled' : 'settings.backboneImported', { sha: info.data.backbone.sha256.slice(0, 12), mb: (info.data.backbone.bytes / 1e6).toFixed(1) })
                  : t('settings.backboneNone')}
              </dd>
            </div>
            <div>
              <dt>{t('settings.device')}</dt>
              <dd>
                {info.data.executionProvider.active
                  ? t('settings.deviceActive', { active: info.data.executionProvider.active.toUpperCase(), requested: info.data.executionProvider.requested })
                  : t('settings.deviceIdle', { requested: info.data.executionProvider.requested })}
                {info.data.executionProvider.fallbacks.map((f) => (
                  <small key={f.provider} className="muted block">{t('settings.deviceSkipped', { provider: f.provider, reason: f.reason })}</small>
                ))}
              </dd>
            </div>
          </dl>
        )}
      </div>
      <RolesCard />
      <div className="page-header">
        <h2>{t('settings.audit')}</h2>
        <button onClick={() => void exportAudit()}>{t('settings.auditExport')}</button>
      </div>
      {audit.data?.length === 0 && <p className="muted">{t('settings.auditEmpty')}</p>}
      {audit.data && audit.data.length > 0 && (
        <table className="table">
          <tbody>
            {audit.data.map((a) => (
              <tr key={a.id}><td>{date(a.at)}</td><td>{a.actor}</td><td>{a.action}</td><td>{a.target}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

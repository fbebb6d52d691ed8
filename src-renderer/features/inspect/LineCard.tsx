import { type FormEvent, useEffect, useState } from 'react';
import type { StationConfig, StationStatus } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useSession } from '../common/session.tsx';

const VERDICTS = ['–', 'OK', 'NG', 'REVIEW', 'ERROR'];

/**
 * The station on the line: which PLC and MQTT connections run, the trigger handshake's state, and
 * (QA engineers) the configuration, applied at once and audited.
 */
export function LineCard() {
  const { t } = useI18n();
  const { isEngineer } = useSession();
  const [status, setStatus] = useState<StationStatus | null>(null);
  const [draft, setDraft] = useState<StationConfig | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const poll = async (): Promise<void> => {
      try {
        const next = await api.getStationStatus();
        if (live) setStatus(next);
      } catch {
        // shown as unknown until the next poll
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  if (!status) return null;

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!draft) return;
    setSaving(true);
    setError(null);
    try {
      setStatus(await api.setStationConfig(draft));
      setDraft(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };
  const edit = <K extends keyof StationConfig>(key: K, value: Partial<StationConfig[K]> | StationConfig[K]): void =>
    setDraft((d) => (d ? { ...d, [key]: typeof value === 'object' ? { ...(d[key] as object), ...value } : value } : d));
  const h = status.handshake;
  const httpEndpoint = client.stageUpload ? `${location.origin}/inspect` : null;

  return (
    <section className="card line-card" aria-label={t('line.title')}>
      <h2>{t('line.title')} <span className="muted">{status.config.name}</span></h2>
      <ul className="line-status" data-testid="line-status">
        <li>{t('line.opcua')}: {status.opcua ? <code>{status.opcua.endpoint}</code> : t('line.off')}</li>
        <li>{t('line.modbus')}: {status.modbus ? <code>{status.modbus.address}</code> : t('line.off')}</li>
        <li>{t('line.mqtt')}: {status.mqtt ? `${status.mqtt.connected ? t('line.connected') : t('line.disconnected')} · ${status.mqtt.topic} · ${t('line.published', { n: status.mqtt.published })}` : t('line.off')}</li>
        {httpEndpoint && <li>{t('line.http')}: <code>POST {httpEndpoint}</code></li>}
        {h && (
          <li data-testid="line-handshake">
            {t('line.handshake')}: {h.busy ? t('line.busy') : h.done ? t('line.done') : t('line.ready')} · {t('line.lastResult', { verdict: VERDICTS[h.verdict] ?? '–', id: h.inspectionId || '–', request: h.requestId || '–', code: h.errorCode })}
          </li>
        )}
      </ul>
      {status.errors.map((e) => <p key={e} className="notice error" role="alert">{e}</p>)}
      {isEngineer && !draft && <button type="button" onClick={() => setDraft(structuredClone(status.config))}>{t('line.configure')}</button>}
      {draft && (
        <form className="line-form" onSubmit={(e) => void save(e)} aria-label={t('line.configure')}>
          <label>{t('line.name')}<input value={draft.name} onChange={(e) => edit('name', e.target.value)} pattern="[\w.\-]{1,64}" required /></label>
          <fieldset>
            <legend><label><input type="checkbox" checked={draft.opcua.enabled} onChange={(e) => edit('opcua', { enabled: e.target.checked })} /> {t('line.opcua')}</label></legend>
            <label>{t('line.port')}<input type="number" min={1} max={65535} value={draft.opcua.port} onChange={(e) => edit('opcua', { port: Number(e.target.value) })} /></label>
            <label>{t('line.security')}
              <select value={draft.opcua.security} onChange={(e) => edit('opcua', { security: e.target.value as StationConfig['opcua']['security'] })}>
                <option value="none">{t('line.securityNone')}</option>
                <option value="sign-encrypt">{t('line.securitySigned')}</option>
              </select>
            </label>
          </fieldset>
          <fieldset>
            <legend><label><input type="checkbox" checked={draft.modbus.enabled} onChange={(e) => edit('modbus', { enabled: e.target.checked })} /> {t('line.modbus')}</label></legend>
            <label>{t('line.host')}<input value={draft.modbus.host} onChange={(e) => edit('modbus', { host: e.target.value })} /></label>
            <label>{t('line.port')}<input type="number" min={1} max={65535} value={draft.modbus.port} onChange={(e) => edit('modbus', { port: Number(e.target.value) })} /></label>
          </fieldset>
          <fieldset>
            <legend><label><input type="checkbox" checked={draft.mqtt.enabled} onChange={(e) => edit('mqtt', { enabled: e.target.checked })} /> {t('line.mqtt')}</label></legend>
            <label>{t('line.broker')}<input value={draft.mqtt.url} onChange={(e) => edit('mqtt', { url: e.target.value })} placeholder="mqtt://broker:1883" /></label>
            <label>{t('line.topic')}<input value={draft.mqtt.topic} onChange={(e) => edit('mqtt', { topic: e.target.value })} /></label>
          </fieldset>
          <div className="dialog-actions">
            <button type="button" onClick={() => setDraft(null)}>{t('common.cancel')}</button>
            <button type="submit" className="primary" disabled={saving}>{t('line.apply')}</button>
          </div>
          {error && <p className="notice error" role="alert">{error}</p>}
        </form>
      )}
    </section>
  );
}

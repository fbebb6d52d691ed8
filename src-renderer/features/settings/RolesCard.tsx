import { type FormEvent, useState } from 'react';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useSession } from '../common/session.tsx';

/** Operator / QA engineer: unlock with the PIN, lock again, set or change the PIN. */
export function RolesCard() {
  const { t } = useI18n();
  const { session, isEngineer, update } = useSession();
  const [pin, setPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  if (!session) return null;

  const run = async (action: () => Promise<void>, success: string): Promise<void> => {
    setMessage(null);
    try {
      await action();
      setMessage({ kind: 'success', text: success });
    } catch (err) {
      setMessage({ kind: 'error', text: (err as Error).message });
    }
  };
  const unlock = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => update(await api.unlockEngineer({ pin })), t('roles.unlocked')).finally(() => setPin(''));
  };
  const savePin = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => update(await api.setEngineerPin({ pin: newPin })), t('roles.pinSaved')).finally(() => setNewPin(''));
  };

  return (
    <div className="card roles" aria-label={t('roles.title')}>
      <h2>{t('roles.title')}</h2>
      <p data-testid="current-role">
        {t('roles.current')} <strong className={`chip role-${session.role}`}>{t(`roles.role.${session.role}`)}</strong>
      </p>
      <p className="muted">{session.pinSet ? t('roles.explain') : t('roles.noPin')}</p>
      {message && <p className={`notice ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>{message.text}</p>}
      {session.pinSet && !isEngineer && (
        <form onSubmit={unlock} className="row-form">
          <label>{t('roles.pin')}<input type="password" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} required /></label>
          <button className="primary" type="submit">{t('roles.unlock')}</button>
        </form>
      )}
      {session.pinSet && isEngineer && (
        <button onClick={() => void run(async () => update(await api.lockEngineer()), t('roles.locked'))}>{t('roles.lock')}</button>
      )}
      {isEngineer && (
        <form onSubmit={savePin} className="row-form">
          <label>{session.pinSet ? t('roles.changePin') : t('roles.setPin')}
            <input type="password" autoComplete="new-password" pattern="\d{4,12}|.{8,128}" title={t('roles.pinFormat')} value={newPin} onChange={(e) => setNewPin(e.target.value)} required />
          </label>
          <button type="submit">{t('roles.savePin')}</button>
        </form>
      )}
    </div>
  );
}

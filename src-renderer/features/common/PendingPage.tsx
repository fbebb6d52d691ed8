import { useI18n } from '../../i18n/i18n.tsx';
import type { MessageKey } from '../../i18n/en.ts';

/** A workspace that is not part of this release yet: says so plainly instead of showing fake data. */
export function PendingPage({ titleKey }: { titleKey: MessageKey }) {
  const { t } = useI18n();
  return (
    <section className="page">
      <header className="page-header"><h1>{t(titleKey)}</h1></header>
      <div className="empty-state">
        <h2>{t('pending.title')}</h2>
        <p>{t('pending.body')}</p>
      </div>
    </section>
  );
}

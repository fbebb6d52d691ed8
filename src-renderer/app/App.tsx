import type { MessageKey } from '../i18n/en.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useHashRoute } from '../features/common/hooks.ts';
import { useSession } from '../features/common/session.tsx';
import { AnnotatePage } from '../features/annotate/AnnotatePage.tsx';
import { TrainingPage } from '../features/training/TrainingPage.tsx';
import { DatasetsPage } from '../features/datasets/DatasetsPage.tsx';
import { HistoryPage } from '../features/history/HistoryPage.tsx';
import { InspectPage } from '../features/inspect/InspectPage.tsx';
import { ModelsPage } from '../features/models/ModelsPage.tsx';
import { SettingsPage } from '../features/settings/SettingsPage.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';

const PAGES = ['inspect', 'annotate', 'datasets', 'training', 'models', 'history', 'settings'] as const;
type Page = (typeof PAGES)[number];

const ICONS: Record<Page, string> = { inspect: '◎', annotate: '✎', datasets: '▦', training: '↻', models: '◈', history: '☰', settings: '⚙' };

/** A path handed over in the URL; a malformed one is taken as it is. */
const safeDecode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

export function App() {
  const { t } = useI18n();
  const { session } = useSession();
  const [route, navigate] = useHashRoute();
  const page: Page = (PAGES as readonly string[]).includes(route[0]) ? (route[0] as Page) : 'datasets';

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Main">
        <div className="brand"><span className="brand-mark">◉</span><div><strong>{t('app.name')}</strong><small>{t('app.tagline')}</small></div></div>
        <ul>
          {PAGES.map((p) => (
            <li key={p}>
              <a href={`#/${p}`} className={p === page ? 'active' : undefined} aria-current={p === page ? 'page' : undefined}>
                <span className="icon" aria-hidden>{ICONS[p]}</span>{t(`nav.${p}` as MessageKey)}
              </a>
            </li>
          ))}
        </ul>
        {session && (
          <a className={`role-badge role-${session.role}`} href="#/settings" data-testid="role-badge" title={t('roles.title')}>
            {t(`roles.role.${session.role}`)}
          </a>
        )}
      </nav>
      <main className="content">
        <ErrorBoundary resetKey={page} title={t('app.pageError')} hint={t('app.pageErrorHint')} reloadLabel={t('app.reload')}>
        {page === 'datasets' && <DatasetsPage selectedId={route[1] ? Number(route[1]) : undefined} select={(id) => navigate(`datasets/${id}`)} />}
        {page === 'inspect' && <InspectPage initialPaths={route[1] ? safeDecode(route[1]) : undefined} />}
        {page === 'models' && <ModelsPage />}
        {page === 'history' && <HistoryPage />}
        {page === 'settings' && <SettingsPage />}
        {page === 'training' && <TrainingPage />}
        {page === 'annotate' && <AnnotatePage />}
        </ErrorBoundary>
      </main>
    </div>
  );
}

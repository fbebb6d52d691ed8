// Plain data (no electron import) so the security settings can be checked by a unit test.
import { pathToFileURL } from 'node:url';

/** webPreferences of every Argus window: isolated, sandboxed, no Node in the renderer. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const;
}

export function mainWindowOptions(preloadPath: string) {
  return {
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 700,
    title: 'Argus',
    show: false,
    backgroundColor: '#0f1720',
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/**
 * The only page a window may show and the only sender the API answers: the bundled renderer's own
 * index.html (any #route), or in development the dev server's exact origin. Any other local file
 * (a downloaded HTML page, say) is not the app.
 */
export function isAppUrl(url: string, app: { indexFile: string; devServerUrl?: string }): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (app.devServerUrl !== undefined) return parsed.origin === new URL(app.devServerUrl).origin && parsed.username === '' && parsed.password === '';
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  return decodeURIComponent(parsed.pathname) === decodeURIComponent(pathToFileURL(app.indexFile).pathname);
}

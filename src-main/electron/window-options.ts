// Plain data (no electron import) so the security settings can be checked by a unit test.

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

/** The only pages a window may show: the bundled renderer (or the dev server in development). */
export function isAppUrl(url: string, devServerUrl: string | undefined): boolean {
  if (url.startsWith('file://')) return true;
  return devServerUrl !== undefined && url.startsWith(devServerUrl);
}

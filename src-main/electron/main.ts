import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../platform/csp.ts';
import { resolveDataDir } from '../platform/data-dir.ts';
import { CallerSession } from '../app/roles.ts';
import { ArgusService } from '../app/service.ts';
import { dispatch } from '../app/dispatch.ts';
import { isAppUrl, mainWindowOptions } from './window-options.ts';
import { appMenuTemplate } from './app-menu.ts';
import { openDialogFor } from './pick-paths.ts';
import { attachStationLog } from '../app/station-log.ts';
import { StationHost } from '../station/station-host.ts';
import type { RotatingLog } from '../platform/log-file.ts';
import { packageVersion } from '../platform/resources.ts';

const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const appPage = { indexFile: join(import.meta.dirname, '../renderer/index.html'), devServerUrl };

// One Argus window per user session: a second start focuses the first instead of running a second
// engine (and a second hot folder) on the same data directory.
if (!app.requestSingleInstanceLock()) {
  app.quit();
  process.exit(0);
}
app.on('second-instance', () => {
  const [window] = BrowserWindow.getAllWindows();
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.focus();
});

protocol.registerSchemesAsPrivileged([{ scheme: 'argus-media', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let service: ArgusService;
let log: RotatingLog;
// Each window's web contents is one caller: it starts as an operator and unlocks with the PIN.
const callers = new Map<number, CallerSession>();
const callerOf = (id: number): CallerSession => callers.get(id) ?? callers.set(id, new CallerSession()).get(id)!;

function createWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(import.meta.dirname, '../preload/index.cjs')));
  window.once('ready-to-show', () => window.show());
  // No navigation away from the app, no new windows, and nothing handed to other programs.
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appPage)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const unsubscribe = service.onEvent((event) => {
    if (!window.isDestroyed()) window.webContents.send('argus:event', event);
  });
  window.on('closed', unsubscribe);
  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadFile(appPage.indexFile);
}

app.whenReady().then(() => {
  service = new ArgusService({ dataDir: resolveDataDir(undefined, app.getPath('userData')), actor: 'desktop' });
  log = attachStationLog(service, 'desktop');
  // The line listeners the station's configuration asks for run in the app's main process.
  const station = new StationHost(service, (message) => log.write('info', 'station', message));
  void station.start();
  app.on('before-quit', () => void station.stop());
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(app.isPackaged, {
    openDataFolder: () => void shell.openPath(service.store.dataDir),
    openLogFolder: () => void shell.openPath(log.dir),
    about: () => void dialog.showMessageBox({ type: 'info', title: 'About Argus', message: `Argus ${packageVersion()}`, detail: `Data: ${service.store.dataDir}\nLog: ${log.file}` }),
  })));
  // A renderer that crashed or hung is logged and, after telling the user, loaded again: the
  // engine (and its hot folders) kept running in this process.
  app.on('render-process-gone', (_event, contents, details) => {
    log.write('error', 'renderer', `gone: ${details.reason} (exit code ${details.exitCode})`);
    if (details.reason === 'clean-exit' || contents.isDestroyed()) return;
    void dialog.showMessageBox({ type: 'error', title: 'Argus', message: 'The Argus window stopped working and will be reloaded.', detail: `Reason: ${details.reason}. Inspections and hot folders kept running. Log: ${log.file}` })
      .then(() => !contents.isDestroyed() && contents.reload());
  });
  app.on('child-process-gone', (_event, details) => {
    if (details.reason !== 'clean-exit') log.write('error', 'process', `${details.type} gone: ${details.reason} (exit code ${details.exitCode})`);
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // Remote content is never loaded: only the app's files, its dev server and its media scheme.
  ses.webRequest.onBeforeRequest((details, callback) => {
    const allowed = /^(file|argus-media|devtools|data|blob):/.test(details.url) || (devServerUrl !== undefined && isAppUrl(details.url, appPage));
    callback({ cancel: !allowed });
  });

  protocol.handle('argus-media', async (request) => {
    const url = new URL(request.url);
    if (url.hostname === 'export') {
      const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
      return service.readExport(name).then(
        (bytes) => new Response(bytes, { headers: { 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${name}"` } }),
        () => new Response('not found', { status: 404 }),
      );
    }
    const sha256 = url.pathname.replace(/^\//, '');
    const variant = url.hostname === 'original' ? 'original' : 'thumbnail';
    try {
      return new Response(await service.readImage(sha256, variant));
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  // One channel for the whole typed API; the sender must be one of our own pages.
  ipcMain.handle('argus:call', (event, method: unknown, input: unknown) => {
    if (!event.senderFrame || !isAppUrl(event.senderFrame.url, appPage)) {
      return { ok: false, error: { code: 'invalid_argument', message: 'Call from an unknown page refused' } };
    }
    return dispatch(service, callerOf(event.sender.id), String(method), input);
  });

  // The native open dialog, for our own pages only: the user picks, the page gets the paths.
  ipcMain.handle('argus:pick', async (event, request: unknown) => {
    const options = openDialogFor(request);
    if (!options || !event.senderFrame || !isAppUrl(event.senderFrame.url, appPage)) return [];
    const window = BrowserWindow.fromWebContents(event.sender);
    const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return result.canceled ? [] : result.filePaths;
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  const id = contents.id;
  contents.on('destroyed', () => callers.delete(id));
});

app.on('window-all-closed', async () => {
  await service?.close();
  app.quit();
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../platform/csp.ts';
import { isAppUrl, mainWindowOptions } from './window-options.ts';
import { appMenuTemplate } from './app-menu.ts';
import { openDialogFor } from './pick-paths.ts';

describe('Electron security defaults', () => {
  it('isolates and sandboxes the renderer with no Node access', () => {
    const prefs = mainWindowOptions('/app/preload.cjs').webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false,
    });
  });

  it('applies a strict CSP, the same in the page and in the response header', () => {
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const html = readFileSync(join(import.meta.dirname, '../../src-renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    // A <meta> CSP cannot carry frame-ancestors; everything else must be identical.
    expect(meta).toBe(CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", ''));
  });

  it('trusts exactly the app\'s own page: no other local file, no look-alike dev origin', () => {
    const packaged = { indexFile: '/opt/argus/out/renderer/index.html' };
    expect(isAppUrl('file:///opt/argus/out/renderer/index.html', packaged)).toBe(true);
    expect(isAppUrl('file:///opt/argus/out/renderer/index.html#/models', packaged)).toBe(true);
    expect(isAppUrl('file:///home/op/Downloads/evil.html', packaged)).toBe(false);
    expect(isAppUrl('file:///opt/argus/out/renderer/other.html', packaged)).toBe(false);
    expect(isAppUrl('file://server/share/opt/argus/out/renderer/index.html', packaged)).toBe(false);
    expect(isAppUrl('https://example.com/', packaged)).toBe(false);
    expect(isAppUrl('not a url', packaged)).toBe(false);
    const dev = { ...packaged, devServerUrl: 'http://localhost:5173/' };
    expect(isAppUrl('http://localhost:5173/#/datasets', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('http://localhost:5173.evil.example/', dev)).toBe(false);
    expect(isAppUrl('http://localhost:5173@evil.example/', dev)).toBe(false);
    expect(isAppUrl('file:///home/op/Downloads/evil.html', dev)).toBe(false);
  });

  it('takes the single-instance lock and opens nothing outside the app', () => {
    const main = readFileSync(join(import.meta.dirname, 'main.ts'), 'utf8');
    expect(main).toMatch(/requestSingleInstanceLock\(\)/);
    expect(main).not.toMatch(/openExternal/);
    expect(main).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
  });

  it('an installed app\'s menu has no developer tools and no reload; a development build keeps them', () => {
    const noop = { openDataFolder: () => undefined, openLogFolder: () => undefined, about: () => undefined };
    const roles = (packaged: boolean): string[] => JSON.stringify(appMenuTemplate(packaged, noop)).match(/"role":"\w+"/g) ?? [];
    expect(roles(true)).not.toContain('"role":"toggleDevTools"');
    expect(roles(true)).not.toContain('"role":"reload"');
    expect(roles(true)).toContain('"role":"quit"');
    expect(roles(false)).toContain('"role":"toggleDevTools"');
    const main = readFileSync(join(import.meta.dirname, 'main.ts'), 'utf8');
    expect(main).toMatch(/Menu\.setApplicationMenu\(Menu\.buildFromTemplate\(appMenuTemplate\(app\.isPackaged/);
    expect(main).toMatch(/'render-process-gone'/);
    expect(main).toMatch(/'child-process-gone'/);
  });

  it('opens the native dialog only for the kinds a page may ask for; a page never names a path', () => {
    expect(openDialogFor({ kind: 'folder' })).toEqual({ title: 'Argus', properties: ['openDirectory'] });
    expect(openDialogFor({ kind: 'file', accept: 'package', title: 'Import' })).toEqual({
      title: 'Import', properties: ['openFile'], filters: [{ name: 'Argus model package', extensions: ['argus'] }],
    });
    expect(openDialogFor({ kind: 'files', accept: 'images' })?.properties).toEqual(['openFile', 'multiSelections']);
    expect(openDialogFor({ kind: 'save', defaultPath: '/etc/passwd' })).toBeNull();
    expect(openDialogFor({ kind: 'file', accept: 'exe' })).toBeNull();
    expect(openDialogFor('folder')).toBeNull();
    expect(openDialogFor({ kind: 'folder', defaultPath: '/etc' })).not.toHaveProperty('defaultPath');
  });
});

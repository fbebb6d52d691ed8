import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_NAME = 'Argus';

/** The same folder Electron's app.getPath('userData') gives for an app named Argus. */
export function defaultDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME);
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', APP_NAME);
  return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_NAME);
}

/** --data-dir wins, then ARGUS_DATA_DIR, then the platform default. */
export function resolveDataDir(flag?: string, fallback: string = defaultDataDir()): string {
  return resolve(flag ?? process.env.ARGUS_DATA_DIR ?? fallback);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * A path in the app's folder (where package.json and resources/ are), found by walking up from
 * this module: sources, built bundles and their chunks sit at different depths below it.
 */
export function appPath(...parts: string[]): string {
  if (!root) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'resources', 'imagenet-classes.json'))) {
      const parent = dirname(dir);
      if (parent === dir) throw new Error('Cannot find the app folder (with resources/)');
      dir = parent;
    }
    root = dir;
  }
  return join(root, ...parts);
}

export const resourcePath = (...parts: string[]): string => appPath('resources', ...parts);

/** The version in the app's package.json ("unknown" when it cannot be read). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(appPath('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

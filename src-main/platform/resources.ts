import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder at or above `start` that holds `marker`: sources, built bundles and their
 * chunks sit at different depths below the app's folder. In an installed app the code is in
 * `<resources>/app.asar/out/main/` and resources/ beside app.asar, so walking up finds both.
 */
export function findUp(start: string, marker: string): string | null {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, marker))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

const here = (): string => dirname(fileURLToPath(import.meta.url));
let resourcesRoot: string | undefined;

/** A path in the app's resources/ folder (in the checkout, or beside app.asar when installed). */
export function resourcePath(...parts: string[]): string {
  resourcesRoot ??= findUp(here(), join('resources', 'imagenet-classes.json')) ?? undefined;
  if (!resourcesRoot) throw new Error('Cannot find the app\'s resources/ folder');
  return join(resourcesRoot, 'resources', ...parts);
}

/** The version in the app's package.json ("unknown" when it cannot be read). */
export function packageVersion(): string {
  try {
    const root = findUp(here(), 'package.json');
    return root ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version : 'unknown';
  } catch {
    return 'unknown';
  }
}

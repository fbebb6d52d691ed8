import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The app's resources/ folder, found by walking up from this module to the app root. */
export function resourcePath(...parts: string[]): string {
  if (!root) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'resources', 'imagenet-classes.json'))) {
      const parent = dirname(dir);
      if (parent === dir) throw new Error('Cannot find the app resources folder');
      dir = parent;
    }
    root = join(dir, 'resources');
  }
  return join(root, ...parts);
}

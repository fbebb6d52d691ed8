import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { ArgusError } from '../contract/errors.ts';
import { resourcePath } from './resources.ts';

/** The backbone weights that ship with the app (resources/backbone/), as its manifest pins them. */
export interface BundledBackbone {
  path: string;
  sha256: string;
  bytes: number;
  name: string;
  license: string;
}

/** The shipped backbone's manifest and file, or null where this build carries none. */
export function bundledBackbone(): BundledBackbone | null {
  const manifest = resourcePath('backbone', 'backbone.json');
  if (!existsSync(manifest)) return null;
  const pinned = JSON.parse(readFileSync(manifest, 'utf8')) as Omit<BundledBackbone, 'path'> & { file: string };
  const path = resourcePath('backbone', pinned.file);
  return existsSync(path) ? { path, sha256: pinned.sha256, bytes: pinned.bytes, name: pinned.name, license: pinned.license } : null;
}

const verified = new Map<string, Promise<void>>();

/** Checks (once per process) that the shipped file is the one its manifest pins; a damaged install is refused. */
export function verifyBundledBackbone(backbone: BundledBackbone): Promise<void> {
  let check = verified.get(backbone.path);
  if (!check) {
    check = new Promise<void>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(backbone.path).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => {
        const actual = hash.digest('hex');
        if (actual === backbone.sha256) resolve();
        else reject(new ArgusError('bad_input', `The bundled backbone ${backbone.path} does not match its SHA-256 (${actual.slice(0, 12)}… instead of ${backbone.sha256.slice(0, 12)}…): reinstall Argus or import weights`, { key: 'bundledBackboneDamaged' }));
      });
    });
    verified.set(backbone.path, check);
    check.catch(() => verified.delete(backbone.path));
  }
  return check;
}

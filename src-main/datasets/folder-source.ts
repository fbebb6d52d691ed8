import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { ArgusError } from '../contract/errors.ts';
import { IMAGE_EXTENSIONS, type ParsedDataset, type ParsedSample } from './parsed.ts';

const GOOD_FOLDERS = new Set(['good', 'ok', 'pass', 'normal']);

/**
 * A plain folder of images (subfolders included). Optional label masks live in `masks/` with the
 * same file stem (PNG, 0 = background, k = class k). Images in a folder named good/ok/pass/normal
 * are labelled good; images with a mask are defect or good by the mask's content; others unlabelled.
 * A folder-per-class layout (a good/ok/pass/normal folder beside other top-level folders, e.g.
 * good/ scratch/ dent/) makes every other top-level folder a class: its images are defective and
 * of that class as a whole (classification labels).
 */
export function parseFolder(root: string): ParsedDataset {
  const masksDir = join(root, 'masks');
  const masks = new Map<string, string>();
  if (existsSync(masksDir)) {
    for (const name of readdirSync(masksDir)) {
      if (extname(name).toLowerCase() === '.png') masks.set(basename(name, extname(name)), `masks/${name}`);
    }
  }
  const topFolders = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && join(root, e.name) !== masksDir).map((e) => e.name);
  const perClass = topFolders.some((f) => GOOD_FOLDERS.has(f.toLowerCase())) && topFolders.some((f) => !GOOD_FOLDERS.has(f.toLowerCase()));
  const classFolders = perClass ? topFolders.filter((f) => !GOOD_FOLDERS.has(f.toLowerCase())).sort() : [];
  const classes = new Map(classFolders.map((name, i) => [i + 1, name]));
  const samples: ParsedSample[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== masksDir && !entry.name.startsWith('.')) walk(full);
      } else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        const rel = relative(root, full).split('\\').join('/');
        const stem = basename(entry.name, extname(entry.name));
        const inGoodFolder = rel.split('/').slice(0, -1).some((part) => GOOD_FOLDERS.has(part.toLowerCase()));
        const classFolder = classFolders.indexOf(rel.split('/')[0]);
        samples.push({
          file: rel, label: inGoodFolder ? 'good' : undefined, boxes: [], polygons: [], mask: masks.get(stem),
          ...(classFolder >= 0 && rel.includes('/') ? { imageClasses: [classFolder + 1] } : {}),
        });
      }
    }
  };
  walk(root);
  if (samples.length === 0) throw new ArgusError('bad_input', `No images found in ${root}`, { key: 'noImagesIn', params: { path: root } });
  return { format: 'folder', root, name: basename(root), classes, samples };
}

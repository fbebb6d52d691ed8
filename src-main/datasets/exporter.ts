import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { ArgusError } from '../api/errors.ts';
import type { Store } from '../store/store.ts';
import { labelMap } from './label-map.ts';
import { resolveInside } from './parsed.ts';

export interface ExportResult {
  path: string;
  images: number;
  masks: number;
  seconds: number;
}

/**
 * Writes a dataset as an Argus manifest folder that imports back to the same thing: the images
 * byte for byte under their dataset paths, one 8-bit label mask per labelled image (everything
 * drawn or imported, rasterised exactly as training sees it), the boxes, splits and labels. The
 * target folder must be new or empty, so nothing is overwritten.
 */
export async function exportDataset(store: Store, datasetId: number, target: string, onProgress: (done: number, total: number) => void, signal?: AbortSignal): Promise<ExportResult> {
  const started = performance.now();
  const dataset = store.datasets.get(datasetId);
  const root = resolve(target);
  if (existsSync(root) && readdirSync(root).length > 0) throw new ArgusError('conflict', `${root} is not empty; export into a new or empty folder`);
  mkdirSync(root, { recursive: true });
  const classes = store.projects.get(dataset.projectId).classes;
  const samples = store.datasets.samples(dataset.id);
  const entries: unknown[] = [];
  let masks = 0;
  for (const [i, sample] of samples.entries()) {
    if (signal?.aborted) throw new ArgusError('cancelled', 'Export cancelled');
    const imagePath = resolveInside(root, sample.file);
    mkdirSync(dirname(imagePath), { recursive: true });
    await writeFile(imagePath, await store.blobs.get(sample.sha256));
    const labels = await labelMap(store, sample);
    let mask: string | undefined;
    if (labels.some((v) => v !== 0)) {
      mask = `masks/${sample.file.replace(/\.[^./]+$/, '')}.png`;
      const maskPath = resolveInside(root, mask);
      mkdirSync(dirname(maskPath), { recursive: true });
      await writeFile(maskPath, await sharp(Buffer.from(labels), { raw: { width: sample.width, height: sample.height, channels: 1 } }).png().toBuffer());
      masks++;
    }
    entries.push({
      file: sample.file,
      split: sample.split,
      ...(sample.label === 'unlabeled' ? {} : { label: sample.label }),
      boxes: sample.boxes.map((b) => [...b.box, b.classIndex]),
      ...(mask ? { mask } : {}),
    });
    onProgress(i + 1, samples.length);
  }
  const manifest = { name: dataset.name, classes: Object.fromEntries(classes.map((c) => [String(c.index), c.name])), samples: entries };
  await writeFile(join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return { path: root, images: samples.length, masks, seconds: (performance.now() - started) / 1000 };
}

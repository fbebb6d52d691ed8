import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ExportFormat } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { encodeCocoRle } from '../common/coco-rle.ts';
import type { DatasetSample } from '../store/datasets.ts';
import type { Store } from '../store/store.ts';
import { labelMap } from '../images/label-map.ts';
import { resolveInside } from './parsed.ts';

export interface ExportResult {
  path: string;
  format: ExportFormat;
  images: number;
  /** Label masks written (manifest) or RLE mask annotations (COCO). */
  masks: number;
  seconds: number;
}


/** The image's whole-image class labels as written out: a class name, or a list of names for several. */
function imageClassField(sample: DatasetSample, classes: ProjectClasses): { image_class?: string | string[] } {
  const names = sample.imageClasses.map((index) => classes.find((c) => c.index === index)?.name ?? String(index));
  return names.length === 0 ? {} : { image_class: names.length === 1 ? names[0] : names };
}
/** Collects one export format's description of the samples, then writes it. */
interface ExportWriter {
  add(sample: DatasetSample, index: number, labels: Uint8Array): Promise<number>;
  finish(): Promise<void>;
}

/**
 * Writes a dataset as a folder that imports back to the same thing: the images byte for byte
 * under their dataset paths, the splits and labels, the boxes, and every pixel label (drawn or
 * imported, rasterised exactly as training sees it). 'manifest' writes an 8-bit label mask per
 * labelled image and manifest.json; 'coco' writes annotations.json with one RLE mask per image
 * and class plus the boxes. The target folder must be new or empty, so nothing is overwritten.
 */
export async function exportDataset(
  store: Store, datasetId: number, target: string, format: ExportFormat, onProgress: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<ExportResult> {
  const started = performance.now();
  const dataset = store.datasets.get(datasetId);
  const root = resolve(target);
  if (existsSync(root) && readdirSync(root).length > 0) throw new ArgusError('conflict', `${root} is not empty; export into a new or empty folder`, { key: 'exportNotEmpty', params: { path: root } });
  mkdirSync(root, { recursive: true });
  const classes = store.projects.get(dataset.projectId).classes;
  const writer = format === 'coco' ? cocoWriter(root, dataset.name, classes) : manifestWriter(root, dataset.name, classes);
  const samples = store.datasets.samples(dataset.id);
  let masks = 0;
  for (const [i, sample] of samples.entries()) {
    if (signal?.aborted) throw new ArgusError('cancelled', 'Export cancelled', { key: 'cancelled' });
    const imagePath = resolveInside(root, sample.file);
    mkdirSync(dirname(imagePath), { recursive: true });
    await writeFile(imagePath, await store.blobs.get(sample.sha256));
    masks += await writer.add(sample, i, await labelMap(store.blobs, sample));
    onProgress(i + 1, samples.length);
  }
  await writer.finish();
  return { path: root, format, images: samples.length, masks, seconds: (performance.now() - started) / 1000 };
}

type ProjectClasses = { index: number; name: string }[];

function manifestWriter(root: string, name: string, classes: ProjectClasses): ExportWriter {
  const entries: unknown[] = [];
  return {
    async add(sample, _index, labels) {
      let mask: string | undefined;
      if (labels.some((v) => v !== 0)) {
        mask = `masks/${sample.file.replace(/\.[^./]+$/, '')}.png`;
        const maskPath = resolveInside(root, mask);
        mkdirSync(dirname(maskPath), { recursive: true });
        await writeFile(maskPath, await sharp(Buffer.from(labels), { raw: { width: sample.width, height: sample.height, channels: 1 } }).png().toBuffer());
      }
      entries.push({
        file: sample.file,
        split: sample.split,
        ...(sample.label === 'unlabeled' ? {} : { label: sample.label }),
        ...(sample.group === null ? {} : { group: sample.group }),
        boxes: sample.boxes.map((b) => [...b.box, b.classIndex]),
        ...(mask ? { mask } : {}),
        ...imageClassField(sample, classes),
      });
      return mask ? 1 : 0;
    },
    async finish() {
      const manifest = { name, classes: Object.fromEntries(classes.map((c) => [String(c.index), c.name])), samples: entries };
      await writeFile(join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    },
  };
}

/**
 * COCO detection/segmentation JSON. Category ids are the project's class indices; images carry
 * Argus's split, label and group as extra fields (other tools ignore them). Pixel labels (masks,
 * polygons, brush strokes) go out as one uncompressed RLE annotation per image and class; boxes
 * as box-only annotations.
 */
function cocoWriter(root: string, name: string, classes: ProjectClasses): ExportWriter {
  const images: unknown[] = [];
  const annotations: unknown[] = [];
  return {
    async add(sample, index, labels) {
      const imageId = index + 1;
      images.push({
        id: imageId, file_name: sample.file, width: sample.width, height: sample.height, split: sample.split,
        ...(sample.label === 'unlabeled' ? {} : { label: sample.label }),
        ...(sample.group === null ? {} : { group: sample.group }),
        ...imageClassField(sample, classes),
      });
      let written = 0;
      // Box-only images keep their boxes as they are; anything finer is exported as pixels.
      if (sample.masks.length + sample.polygons.length > 0) {
        for (const { index: classIndex } of classes) {
          const mask = labels.map((v) => (v === classIndex ? 1 : 0));
          const extent = maskExtent(mask, sample.width, sample.height);
          if (!extent) continue;
          annotations.push({
            id: annotations.length + 1, image_id: imageId, category_id: classIndex, iscrowd: 0,
            segmentation: encodeCocoRle(mask, sample.width, sample.height), area: extent.area, bbox: extent.bbox,
          });
          written++;
        }
      }
      for (const { box: [x1, y1, x2, y2], classIndex } of sample.boxes) {
        annotations.push({ id: annotations.length + 1, image_id: imageId, category_id: classIndex, iscrowd: 0, bbox: [x1, y1, x2 - x1, y2 - y1], area: (x2 - x1) * (y2 - y1) });
      }
      return written;
    },
    async finish() {
      const coco = {
        info: { description: name, version: '1.0' },
        images,
        annotations,
        categories: classes.map((c) => ({ id: c.index, name: c.name })),
      };
      await writeFile(join(root, 'annotations.json'), `${JSON.stringify(coco)}\n`);
    },
  };
}

function maskExtent(mask: Uint8Array, width: number, height: number): { area: number; bbox: [number, number, number, number] } | null {
  let area = 0;
  let x1 = width;
  let y1 = height;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      area++;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x);
      y2 = Math.max(y2, y);
    }
  }
  return area ? { area, bbox: [x1, y1, x2 - x1 + 1, y2 - y1 + 1] } : null;
}

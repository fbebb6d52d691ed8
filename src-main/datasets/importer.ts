import { existsSync, readFileSync, statSync } from 'node:fs';
import { MAX_FILE_BYTES, readUserFile } from '../platform/user-file.ts';
import { basename, join, resolve } from 'node:path';
import type { ImageLabel, ImportDatasetInput, ImportFormat, ImportResult, Split } from '../contract/contract.ts';
import { ArgusError, isStorageFailure } from '../contract/errors.ts';
import sharp from 'sharp';
import { decodeCocoRle } from '../common/coco-rle.ts';
import { forEachConcurrently } from '../common/concurrency.ts';
import { decodeForImport, decodeLabelMask, type ImageInfo } from '../images/decode.ts';
import { sha256Hex } from '../store/blob-store.ts';
import type { Store } from '../store/store.ts';
import { parseCoco } from './coco-source.ts';
import { parseFolder } from './folder-source.ts';
import { parseManifest } from './manifest-source.ts';
import { type ParsedDataset, type ParsedSample, resolveInside } from './parsed.ts';

export interface ImportProgress {
  phase: 'reading' | 'saving';
  done: number;
  total: number;
}

export interface ImportOptions {
  actor: string;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  concurrency?: number;
}

/** One sample after its files were read, checked and stored. */
interface CheckedSample {
  sample: ParsedSample;
  sha256: string;
  info: ImageInfo;
  bytes: number;
  mask?: { sha256: string; values: number[] };
}

function loadDatasetSource(path: string, format?: ImportFormat): ParsedDataset {
  const root = resolve(path);
  if (!existsSync(root)) throw new ArgusError('not_found', `No such file or folder: ${root}`, { key: 'noSuchPath', params: { path: root } });
  if (statSync(root).isFile()) {
    if (format && format !== 'coco') throw new ArgusError('invalid_argument', `A single file can only be a COCO JSON, not ${format}`);
    return parseCoco(root);
  }
  const chosen = format ?? detectFormat(root);
  if (chosen === 'manifest') {
    if (!existsSync(join(root, 'manifest.json'))) throw new ArgusError('bad_input', `${root} has no manifest.json`, { key: 'noManifest', params: { path: root } });
    return parseManifest(root);
  }
  if (chosen === 'coco') return parseCoco(findCocoFile(root));
  return parseFolder(root);
}

function detectFormat(root: string): ImportFormat {
  if (existsSync(join(root, 'manifest.json'))) return 'manifest';
  try {
    findCocoFile(root);
    return 'coco';
  } catch {
    return 'folder';
  }
}

function findCocoFile(root: string): string {
  for (const name of ['annotations.json', 'instances.json', '_annotations.coco.json']) {
    const file = join(root, name);
    if (existsSync(file)) {
      const head = readFileSync(file, 'utf8').slice(0, 4096);
      if (head.includes('"images"')) return file;
    }
  }
  throw new ArgusError('bad_input', `${root} has no COCO annotations file (annotations.json)`, { key: 'noCocoFile', params: { path: root } });
}

/** A split that never changes for the same image content: 70 / 15 / 15 by SHA-256. */
export function splitFromDigest(sha256: string): Split {
  const u = parseInt(sha256.slice(0, 8), 16) / 0x1_0000_0000;
  return u < 0.7 ? 'train' : u < 0.85 ? 'val' : 'test';
}

/**
 * Imports a dataset folder into the store. All images and masks are decoded and checked first;
 * if any entry is bad nothing is recorded and the error names the entries. Files are stored
 * before the rows that reference them, and all rows are written in one transaction, so a crash
 * at any point leaves either the whole import or none of it. Re-importing adds nothing.
 */
/** Where the files come from: a path on the station, and how to record it when that path is a temporary copy (uploads). */
export type ImportSource = Omit<ImportDatasetInput, 'uploads'> & { path: string; origin?: string };

export async function importDataset(store: Store, input: ImportSource, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const source = loadDatasetSource(input.path, input.format);
  const total = source.samples.length;
  options.onProgress?.({ phase: 'reading', done: 0, total });

  const checked: CheckedSample[] = new Array(total);
  const failures: string[] = [];
  let done = 0;
  await forEachConcurrently(source.samples, options.concurrency ?? 4, async (sample, i) => {
    if (options.signal?.aborted) throw new ArgusError('cancelled', 'Import cancelled', { key: 'cancelled' });
    try {
      checked[i] = await checkSample(store, source, sample);
    } catch (error) {
      // A full or read-only disk is not the entry's fault: stop the import with that reason.
      if (isStorageFailure(error)) throw error;
      failures.push(`${sample.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    options.onProgress?.({ phase: 'reading', done: ++done, total });
  });
  if (failures.length > 0) {
    failures.sort();
    const listed = failures.slice(0, 25).map((f) => `  ${f}`).join('\n');
    const more = failures.length > 25 ? `\n  … and ${failures.length - 25} more` : '';
    throw new ArgusError('bad_input', `${failures.length} of ${total} entries cannot be imported; nothing was imported:\n${listed}${more}`, { key: 'importFailed', params: { count: failures.length, total, list: `${listed}${more}` } });
  }
  if (options.signal?.aborted) throw new ArgusError('cancelled', 'Import cancelled', { key: 'cancelled' });

  options.onProgress?.({ phase: 'saving', done: 0, total });
  const result = store.transaction(() => {
    const projectId = resolveProject(store, input, source);
    const classMap = store.projects.mergeClasses(projectId, classesOf(source, checked));
    const datasetName = input.name ?? source.name;
    const datasetId = store.datasets.getOrCreate(projectId, datasetName, input.origin ?? source.root, source.format);
    let imagesAdded = 0;
    let annotationsAdded = 0;
    for (const item of checked) {
      const image = store.datasets.upsertImage({
        sha256: item.sha256,
        originalName: basename(item.sample.file),
        format: item.info.format,
        width: item.info.width,
        height: item.info.height,
        channels: item.info.channels,
        bitDepth: item.info.bitDepth,
        bytes: item.bytes,
        source: `${source.format}:${input.origin ?? source.root}`,
      });
      const label = labelOf(item);
      if (store.datasets.addImage(datasetId, image.id, item.sample.file, item.sample.split ?? splitFromDigest(item.sha256), label, item.sample.group ?? null)) imagesAdded++;
      for (const a of annotationsOf(item, label, classMap)) {
        const classId = a.classIndex === null ? null : store.projects.classId(projectId, a.classIndex);
        const added = store.annotations.add({
          projectId, imageId: image.id, classId, shape: a.shape, geometry: a.geometry, author: options.actor, importKey: a.key,
        });
        if (added) annotationsAdded++;
      }
    }
    store.history.audit(options.actor, 'dataset.import', `dataset:${datasetId}`, {
      path: source.root, format: source.format, images: total, imagesAdded, annotationsAdded,
    });
    return { datasetId, projectId, imagesAdded, annotationsAdded };
  });
  options.onProgress?.({ phase: 'saving', done: total, total });
  return { ...result, format: source.format, images: total, seconds: (performance.now() - started) / 1000 };
}

async function checkSample(store: Store, source: ParsedDataset, sample: ParsedSample): Promise<CheckedSample> {
  const file = resolveInside(source.root, sample.file);
  if (!existsSync(file)) throw new ArgusError('bad_input', 'file not found');
  const bytes = await readUserFile(file, 'image', MAX_FILE_BYTES.image);
  const sha256 = sha256Hex(bytes);
  const { info, thumbnail } = await decodeForImport(bytes);
  for (const { box } of sample.boxes) {
    const [x1, y1, x2, y2] = box;
    if (!(x1 >= 0 && y1 >= 0 && x2 <= info.width && y2 <= info.height && x2 > x1 && y2 > y1)) {
      throw new ArgusError('bad_input', `box [${box.join(', ')}] is outside the ${info.width}×${info.height} image`);
    }
  }
  let mask: CheckedSample['mask'];
  if (sample.mask) {
    const maskFile = resolveInside(source.root, sample.mask);
    if (!existsSync(maskFile)) throw new ArgusError('bad_input', `mask ${sample.mask} not found`);
    const maskBytes = await readUserFile(maskFile, 'mask', MAX_FILE_BYTES.image);
    const decoded = await decodeLabelMask(maskBytes);
    if (decoded.width !== info.width || decoded.height !== info.height) {
      throw new ArgusError('bad_input', `mask ${sample.mask} is ${decoded.width}×${decoded.height} but the image is ${info.width}×${info.height}`);
    }
    mask = { sha256: await store.blobs.put(maskBytes), values: distinctNonZero(decoded.data) };
  } else if (sample.rleMasks?.length) {
    const labels = new Uint8Array(info.width * info.height);
    for (const { rle, classIndex } of sample.rleMasks) {
      let decoded;
      try {
        decoded = decodeCocoRle(rle);
      } catch (error) {
        throw new ArgusError('bad_input', `RLE mask: ${(error as Error).message}`);
      }
      if (decoded.width !== info.width || decoded.height !== info.height) {
        throw new ArgusError('bad_input', `RLE mask is ${decoded.width}×${decoded.height} but the image is ${info.width}×${info.height}`);
      }
      for (let p = 0; p < labels.length; p++) if (decoded.mask[p]) labels[p] = classIndex;
    }
    // Stored as a label mask, like a manifest's mask file.
    const maskBytes = await sharp(Buffer.from(labels), { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
    mask = { sha256: await store.blobs.put(maskBytes), values: distinctNonZero(labels) };
  }
  // Files first, rows later: a crash between the two leaves only unreferenced blobs.
  await store.blobs.put(bytes, sha256);
  await store.thumbnails.put(thumbnail, sha256);
  return { sample, sha256, info, bytes: bytes.length, mask };
}

function resolveProject(store: Store, input: ImportDatasetInput, source: ParsedDataset): number {
  if (input.projectId !== undefined) return store.projects.get(input.projectId).id;
  const name = input.projectName ?? input.name ?? source.name;
  return (store.projects.findByName(name) ?? store.projects.create({ name })).id;
}

/** Source classes plus any mask values the source did not name (plain folders name none). */
function classesOf(source: ParsedDataset, checked: CheckedSample[]): Map<number, string> {
  const classes = new Map(source.classes);
  for (const item of checked) {
    for (const value of item.mask?.values ?? []) {
      if (!classes.has(value)) classes.set(value, value === 255 || value === 1 ? 'defect' : `class ${value}`);
    }
  }
  return classes;
}

function labelOf(item: CheckedSample): ImageLabel {
  if (item.sample.label) return item.sample.label;
  if (item.sample.imageClasses?.length) return 'defect';
  if (item.mask) return item.mask.values.length > 0 ? 'defect' : 'good';
  return 'unlabeled';
}

interface PlannedAnnotation {
  key: string;
  shape: 'box' | 'polygon' | 'mask' | 'good' | 'class';
  classIndex: number | null;
  geometry: unknown;
}

function annotationsOf(item: CheckedSample, label: ImageLabel, classMap: Map<number, number>): PlannedAnnotation[] {
  const projectIndex = (sourceIndex: number): number => {
    const index = classMap.get(sourceIndex);
    if (index === undefined) throw new ArgusError('bad_input', `${item.sample.file}: class ${sourceIndex} is not declared`);
    return index;
  };
  const planned: PlannedAnnotation[] = [];
  if (label === 'good') planned.push({ key: 'good', shape: 'good', classIndex: null, geometry: null });
  else item.sample.imageClasses?.forEach((c, i) => planned.push({ key: i ? `class:${i}` : 'class', shape: 'class', classIndex: projectIndex(c), geometry: null }));
  item.sample.boxes.forEach((b, i) => planned.push({ key: `box:${i}`, shape: 'box', classIndex: projectIndex(b.classIndex), geometry: b.box }));
  item.sample.polygons.forEach((p, i) =>
    planned.push({ key: `polygon:${i}`, shape: 'polygon', classIndex: projectIndex(p.classIndex), geometry: p.points }),
  );
  for (const value of item.mask?.values ?? []) {
    planned.push({ key: `mask:${value}`, shape: 'mask', classIndex: projectIndex(value), geometry: { sha256: item.mask!.sha256, value } });
  }
  return planned;
}

function distinctNonZero(data: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < data.length; i++) seen[data[i]] = 1;
  const values: number[] = [];
  for (let v = 1; v < 256; v++) if (seen[v]) values.push(v);
  return values;
}

import sharp from 'sharp';
import { ANNOTATION_SCHEMA_VERSION, type Annotation, type ImageAnnotations, type StoredImageLabels } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { decodeRuns, encodeRuns } from '../common/geometry.ts';
import { decodeLabelMask } from '../images/decode.ts';
import type { StoredAnnotation } from '../store/annotations.ts';
import type { ImageLabel } from '../contract/contract.ts';
import type { Store } from '../store/store.ts';

function imageIn(store: Store, datasetId: number, imageId: number) {
  const dataset = store.datasets.get(datasetId);
  const entry = store.datasets.entry(datasetId, imageId);
  if (!entry) throw new ArgusError('not_found', `Image ${imageId} is not in dataset "${dataset.name}"`, { key: 'imageNotInDataset', params: { id: imageId, dataset: dataset.name } });
  return { dataset, entry };
}

async function toApi(store: Store, a: StoredAnnotation, size: number): Promise<Annotation> {
  const meta = { id: a.id, author: a.author, updatedAt: a.updatedAt };
  if (a.shape === 'good') return { ...meta, shape: 'good' };
  const classIndex = a.classIndex!;
  if (a.shape === 'class') return { ...meta, shape: 'class', classIndex };
  if (a.shape === 'box') return { ...meta, shape: 'box', classIndex, box: a.geometry as [number, number, number, number] };
  if (a.shape === 'polygon') return { ...meta, shape: 'polygon', classIndex, points: a.geometry as [number, number][] };
  const { sha256, value } = a.geometry as { sha256: string; value: number };
  const mask = await decodeLabelMask(await store.blobs.get(sha256));
  if (mask.data.length !== size) throw new ArgusError('bad_input', `Mask of annotation ${a.id} does not match its image size`);
  return { ...meta, shape: 'mask', classIndex, runs: encodeRuns(mask.data.map((v) => (v === value ? 1 : 0))) };
}

/** Every project's annotations of the image with this digest (for showing labels next to an inspection). */
export async function getImageLabels(store: Store, sha256: string): Promise<StoredImageLabels> {
  const image = store.datasets.imageBySha256(sha256);
  if (!image) return { width: 0, height: 0, annotations: [] };
  const annotations: StoredImageLabels['annotations'] = [];
  for (const project of store.projects.list()) {
    for (const a of store.annotations.forImage(project.id, image.id)) {
      if (a.shape === 'good') continue;
      const cls = project.classes.find((c) => c.index === a.classIndex);
      annotations.push({ ...(await toApi(store, a, image.width * image.height)), className: cls?.name ?? null, color: cls?.color ?? null });
    }
  }
  return { width: image.width, height: image.height, annotations };
}

export async function getImageAnnotations(store: Store, datasetId: number, imageId: number): Promise<ImageAnnotations> {
  const { dataset, entry } = imageIn(store, datasetId, imageId);
  const stored = store.annotations.forImage(dataset.projectId, imageId);
  const annotations = await Promise.all(stored.map((a) => toApi(store, a, entry.width * entry.height)));
  return { schemaVersion: ANNOTATION_SCHEMA_VERSION, datasetId, imageId, width: entry.width, height: entry.height, label: entry.label, annotations };
}

/**
 * Saves an image's annotations as the complete new set: masks become PNG label masks in the blob
 * store (written before the rows that point at them), then one transaction updates the kept
 * annotations, inserts the new, deletes the rest and sets the image's label. Audit-logged.
 */
export async function saveImageAnnotations(store: Store, datasetId: number, imageId: number, annotations: Annotation[], actor: string): Promise<ImageAnnotations> {
  const { dataset, entry } = imageIn(store, datasetId, imageId);
  const project = store.projects.get(dataset.projectId);
  const known = new Set(project.classes.map((c) => c.index));
  const { width, height } = entry;
  const rows: { id?: number; shape: Annotation['shape']; classIndex: number | null; geometry: unknown }[] = [];
  for (const [i, a] of annotations.entries()) {
    const where = `annotation ${i + 1}`;
    if (a.shape !== 'good' && !known.has(a.classIndex)) throw new ArgusError('invalid_argument', `${where}: class ${a.classIndex} is not a class of project "${project.name}"`, { key: 'classNotInProject', params: { index: a.classIndex, project: project.name } });
    if (a.shape === 'good') {
      rows.push({ id: a.id, shape: 'good', classIndex: null, geometry: null });
    } else if (a.shape === 'class') {
      rows.push({ id: a.id, shape: 'class', classIndex: a.classIndex, geometry: null });
    } else if (a.shape === 'box') {
      const [x1, y1, x2, y2] = a.box.map((v, k) => Math.max(0, Math.min(k % 2 ? height : width, v)));
      if (!(x2 > x1 && y2 > y1)) throw new ArgusError('invalid_argument', `${where}: the box is empty or outside the ${width}×${height} image`, { key: 'boxOutside', params: { width, height } });
      rows.push({ id: a.id, shape: 'box', classIndex: a.classIndex, geometry: [x1, y1, x2, y2] });
    } else if (a.shape === 'polygon') {
      const points = a.points.map(([x, y]) => [Math.max(0, Math.min(width, x)), Math.max(0, Math.min(height, y))]);
      rows.push({ id: a.id, shape: 'polygon', classIndex: a.classIndex, geometry: points });
    } else {
      let mask: Uint8Array;
      try {
        mask = decodeRuns(a.runs, width * height);
      } catch (error) {
        throw new ArgusError('invalid_argument', `${where}: ${(error as Error).message}`);
      }
      if (!mask.includes(1)) continue; // an erased-away mask is no annotation
      const png = await sharp(Buffer.from(mask), { raw: { width, height, channels: 1 } }).png().toBuffer();
      rows.push({ id: a.id, shape: 'mask', classIndex: a.classIndex, geometry: { sha256: await store.blobs.put(png), value: 1 } });
    }
  }
  if (rows.some((r) => r.shape === 'good') && rows.some((r) => r.shape !== 'good')) {
    throw new ArgusError('invalid_argument', 'An image marked good cannot also carry defect annotations', { key: 'goodWithDefects' });
  }
  if (rows.filter((r) => r.shape === 'class').length > 1) {
    throw new ArgusError('invalid_argument', 'An image has at most one whole-image class', { key: 'oneImageClass' });
  }
  const label: ImageLabel = rows.length === 0 ? 'unlabeled' : rows.some((r) => r.shape !== 'good') ? 'defect' : 'good';
  store.transaction(() => {
    const existing = new Set(store.annotations.forImage(project.id, imageId).map((a) => a.id));
    const kept = new Set<number>();
    let added = 0;
    for (const r of rows) {
      const classId = r.classIndex === null ? null : store.projects.classId(project.id, r.classIndex);
      if (r.id !== undefined && existing.has(r.id)) {
        store.annotations.update(project.id, imageId, r.id, classId, r.geometry, actor);
        kept.add(r.id);
      } else {
        store.annotations.insert({ projectId: project.id, imageId, classId, shape: r.shape, geometry: r.geometry, author: actor });
        added++;
      }
    }
    const removed = [...existing].filter((id) => !kept.has(id));
    for (const id of removed) store.annotations.delete(id);
    store.datasets.setLabel(datasetId, imageId, label);
    store.history.audit(actor, 'annotations.save', `image:${imageId}`, { datasetId, kept: kept.size, added, removed: removed.length, label });
  });
  return getImageAnnotations(store, datasetId, imageId);
}

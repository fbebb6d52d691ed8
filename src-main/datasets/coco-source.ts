import { MAX_FILE_BYTES, readUserFileSync } from '../platform/user-file.ts';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { ArgusError } from '../contract/errors.ts';
import type { CocoRle } from '../common/coco-rle.ts';
import type { ParsedDataset, ParsedSample } from './parsed.ts';

const ImageClass = z.union([z.string().min(1), z.number().int()]);

const Coco = z.object({
  images: z.array(
    z.looseObject({
      id: z.number().int(),
      file_name: z.string().min(1),
      split: z.enum(['train', 'val', 'test']).optional(),
      label: z.enum(['good', 'defect']).optional(),
      group: z.string().min(1).max(200).nullable().optional(),
      image_class: z.union([ImageClass, z.array(ImageClass).max(255)]).nullable().optional(),
    }),
  ),
  annotations: z.array(
    z.looseObject({
      image_id: z.number().int(),
      category_id: z.number().int(),
      bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
      segmentation: z.unknown().optional(),
    }),
  ),
  categories: z.array(z.looseObject({ id: z.number().int(), name: z.string().min(1) })).min(1).max(255),
});

/**
 * COCO detection/segmentation JSON: boxes, polygon segmentations and RLE masks (list or compact
 * string counts). An annotation with a category but neither box nor segmentation labels its whole
 * image with that class, as does an image's own `image_class` (a category name or id).
 */
export function parseCoco(jsonFile: string): ParsedDataset {
  let json: unknown;
  try {
    json = JSON.parse(readUserFileSync(jsonFile, 'COCO file', MAX_FILE_BYTES.json).toString('utf8'));
  } catch (error) {
    throw new ArgusError('bad_input', `${jsonFile} is not valid JSON: ${(error as Error).message}`, { key: 'invalidJson', params: { file: jsonFile, reason: (error as Error).message } });
  }
  const parsed = Coco.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ArgusError('bad_input', `${jsonFile} is not valid COCO JSON:\n${problems.join('\n')}`, { key: 'invalidCoco', params: { file: jsonFile, problems: problems.join('\n') } });
  }
  const coco = parsed.data;
  // COCO category ids are arbitrary; Argus class indices are 1..n in category-id order.
  const categories = [...coco.categories].sort((a, b) => a.id - b.id);
  const classIndexOf = new Map(categories.map((c, i) => [c.id, i + 1]));
  const samples = new Map<number, ParsedSample>();
  const problems: string[] = [];
  const categoryByName = new Map(categories.map((c) => [c.name, c.id]));
  for (const image of coco.images) {
    const given = image.image_class as string | number | (string | number)[] | null | undefined;
    const imageClasses: number[] = [];
    for (const value of given === null || given === undefined ? [] : Array.isArray(given) ? given : [given]) {
      const categoryId = typeof value === 'string' ? categoryByName.get(value) : value;
      const index = categoryId === undefined ? undefined : classIndexOf.get(categoryId);
      if (index === undefined) problems.push(`images[id ${image.id}]: image_class "${value}" is not a category`);
      else if (!imageClasses.includes(index)) imageClasses.push(index);
    }
    samples.set(image.id, { file: image.file_name, split: image.split, label: image.label, group: image.group ?? undefined, boxes: [], polygons: [], ...(imageClasses.length ? { imageClasses } : {}) });
  }
  coco.annotations.forEach((annotation, n) => {
    const sample = samples.get(annotation.image_id);
    const classIndex = classIndexOf.get(annotation.category_id);
    if (!sample) return void problems.push(`annotations[${n}]: unknown image_id ${annotation.image_id}`);
    if (!classIndex) return void problems.push(`annotations[${n}]: unknown category_id ${annotation.category_id}`);
    const seg = annotation.segmentation;
    if (Array.isArray(seg) && seg.length > 0) {
      for (const ring of seg) {
        if (!Array.isArray(ring) || ring.length < 6 || ring.length % 2 !== 0 || !ring.every((v) => typeof v === 'number')) {
          problems.push(`annotations[${n}]: a polygon needs at least 3 [x, y] pairs`);
          continue;
        }
        const points: [number, number][] = [];
        for (let i = 0; i < ring.length; i += 2) points.push([ring[i], ring[i + 1]]);
        sample.polygons.push({ points, classIndex });
      }
    } else if (seg && !Array.isArray(seg)) {
      const rle = seg as Partial<CocoRle>;
      const sizeOk = Array.isArray(rle.size) && rle.size.length === 2 && rle.size.every((v) => Number.isInteger(v) && v > 0);
      const countsOk = typeof rle.counts === 'string' || (Array.isArray(rle.counts) && rle.counts.every((v) => Number.isInteger(v) && v >= 0));
      if (!sizeOk || !countsOk) return void problems.push(`annotations[${n}]: an RLE segmentation needs size [height, width] and counts`);
      (sample.rleMasks ??= []).push({ rle: rle as CocoRle, classIndex });
    } else if (annotation.bbox) {
      const [x, y, w, h] = annotation.bbox;
      sample.boxes.push({ box: [x, y, x + w, y + h], classIndex });
    } else {
      sample.imageClasses ??= [];
      if (!sample.imageClasses.includes(classIndex)) sample.imageClasses.push(classIndex);
    }
  });
  if (problems.length > 0) {
    throw new ArgusError('bad_input', `${jsonFile} has ${problems.length} bad annotations:\n  ${problems.slice(0, 20).join('\n  ')}`, { key: 'invalidCoco', params: { file: jsonFile, problems: problems.slice(0, 20).join('\n') } });
  }
  for (const sample of samples.values()) {
    sample.label ??= sample.polygons.length + sample.boxes.length + (sample.rleMasks?.length ?? 0) > 0 || sample.imageClasses !== undefined ? 'defect' : undefined;
  }
  return {
    format: 'coco',
    root: dirname(jsonFile),
    name: basename(dirname(jsonFile)),
    classes: new Map(categories.map((c, i) => [i + 1, c.name])),
    samples: [...samples.values()],
  };
}

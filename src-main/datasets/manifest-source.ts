import { MAX_FILE_BYTES, readUserFileSync } from '../platform/user-file.ts';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ArgusError } from '../contract/errors.ts';
import type { ParsedDataset } from './parsed.ts';

const Box = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number().int().min(1).max(255)]);

const ImageClass = z.union([z.string().min(1), z.number().int().min(1).max(255)]);

const Manifest = z.object({
  name: z.string().min(1).optional(),
  classes: z.record(z.string().regex(/^\d+$/), z.string().min(1)),
  samples: z.array(
    z.looseObject({
      file: z.string().min(1),
      split: z.enum(['train', 'val', 'test']).optional(),
      label: z.enum(['good', 'defect']).optional(),
      boxes: z.array(Box).optional(),
      mask: z.string().min(1).nullable().optional(),
      group: z.string().min(1).max(200).nullable().optional(),
      image_class: z.union([ImageClass, z.array(ImageClass).max(255)]).nullable().optional(),
    }),
  ),
});

/** Argus's native layout: manifest.json with one entry per image (see README, "Dataset format"). */
export function parseManifest(root: string): ParsedDataset {
  const file = join(root, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(readUserFileSync(file, 'manifest', MAX_FILE_BYTES.json).toString('utf8'));
  } catch (error) {
    throw new ArgusError('bad_input', `${file} is not valid JSON: ${(error as Error).message}`, { key: 'invalidJson', params: { file, reason: (error as Error).message } });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ArgusError('bad_input', `${file} is not a valid manifest:\n${problems.join('\n')}`, { key: 'invalidManifest', params: { file, problems: problems.join('\n') } });
  }
  const manifest = parsed.data;
  const classIndex = new Map(Object.entries(manifest.classes).map(([index, name]) => [name, Number(index)]));
  const imageClassOf = (value: string | number, file: string): number => {
    const index = typeof value === 'number' ? value : classIndex.get(value);
    if (index === undefined || !(String(index) in manifest.classes)) {
      throw new ArgusError('bad_input', `${file}: image_class "${value}" is not one of the manifest's classes`, { key: 'invalidManifest', params: { file, problems: `image_class "${value}" is not one of the manifest's classes` } });
    }
    return index;
  };
  const imageClassesOf = (value: string | number | (string | number)[] | null | undefined, file: string): number[] | undefined =>
    value === null || value === undefined ? undefined : [...new Set((Array.isArray(value) ? value : [value]).map((v) => imageClassOf(v, file)))];
  return {
    format: 'manifest',
    root,
    name: manifest.name ?? basename(root),
    classes: new Map(Object.entries(manifest.classes).map(([index, name]) => [Number(index), name])),
    samples: manifest.samples.map((s) => ({
      file: s.file,
      split: s.split,
      label: s.label,
      boxes: (s.boxes ?? []).map(([x1, y1, x2, y2, c]) => ({ box: [x1, y1, x2, y2] as [number, number, number, number], classIndex: c })),
      polygons: [],
      mask: s.mask ?? undefined,
      group: s.group ?? undefined,
      imageClasses: imageClassesOf(s.image_class as string | number | (string | number)[] | null | undefined, s.file),
    })),
  };
}
